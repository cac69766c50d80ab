/**
 * Route labels: what the ledger keeps instead of a route id (a capability).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitiseRecord } from '../../src/core/ledgerSummary';
import { relabelStoredRouteId, routeLabel } from '../../src/core/routeLabel';

const ID = '0123456789abcdef0123456789abcdef';

test('a route id becomes r- and 8 hex digits of its sha256; the default route keeps its name', () => {
  assert.match(routeLabel(ID), /^r-[0-9a-f]{8}$/);
  assert.equal(routeLabel(ID), routeLabel(ID), 'stable, so one route\'s requests group together');
  assert.notEqual(routeLabel(ID), routeLabel(ID.replace('0', '1')));
  assert.ok(!routeLabel(ID).includes(ID.slice(0, 8)));
  assert.equal(routeLabel('default'), 'default');
});

test('records from an older ledger that still carry a raw id are labelled when read', () => {
  assert.equal(relabelStoredRouteId(ID), routeLabel(ID));
  assert.equal(relabelStoredRouteId(routeLabel(ID)), routeLabel(ID), 'a label is not labelled twice');
  const record = sanitiseRecord({ time: 1, layer: 'l3', routeId: ID, tool: 'cline', api: 'openai.chat', model: 'm' });
  assert.equal(record?.routeId, routeLabel(ID));
});
