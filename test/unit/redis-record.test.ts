import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameRecord, unframeRecord } from '../../src/core/store/redisRecord';

const value = Buffer.from(JSON.stringify({ api: 'openai.chat', body: { id: 'x' } }), 'utf8');

test('a framed value reads back unchanged under its own key', () => {
  assert.deepEqual(unframeRecord('k1', frameRecord('k1', value)), value);
  assert.deepEqual(unframeRecord('k1', frameRecord('k1', Buffer.alloc(0))), Buffer.alloc(0));
});

test('a torn record (any prefix of it) reads as absent', () => {
  const record = frameRecord('k1', value);
  for (let length = 0; length < record.length; length++) assert.equal(unframeRecord('k1', record.subarray(0, length)), undefined, `prefix ${length}`);
});

test('a record with bytes appended reads as absent', () => {
  assert.equal(unframeRecord('k1', Buffer.concat([frameRecord('k1', value), Buffer.from('x')])), undefined);
});

test('a flipped bit anywhere in the value reads as absent', () => {
  const record = frameRecord('k1', value);
  for (const at of [24, 30, record.length - 1]) {
    const bad = Buffer.from(record);
    bad[at] = bad[at]! ^ 0x01;
    assert.equal(unframeRecord('k1', bad), undefined, `byte ${at}`);
  }
});

test('a record copied under another key reads as absent', () => {
  assert.equal(unframeRecord('k2', frameRecord('k1', value)), undefined);
});

test('a foreign value (plain JSON someone SET by hand) reads as absent', () => {
  assert.equal(unframeRecord('k1', value), undefined);
  assert.equal(unframeRecord('k1', Buffer.from('ISR1')), undefined);
});
