/**
 * The proxy's pure helpers: path matching, the route table, client tool detection, body
 * validation and the two error shapes.
 */
import { hostname } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientToolFrom } from '../../src/proxy/client-tool';
import { ProxyError, errorBody } from '../../src/proxy/errors';
import { jsonContentTypeError } from '../../src/proxy/body';
import { isLoopbackHost, refusalReason } from '../../src/proxy/guard';
import { cacheDirectives } from '../../src/proxy/incoming';
import { createRouteTable, matchApiPath } from '../../src/proxy/routes';
import { validateBody } from '../../src/proxy/validate';

test('API paths match with or without /v1 and a route prefix', () => {
  assert.deepEqual(matchApiPath('/v1/chat/completions'), { routeId: undefined, endpoint: 'chat' });
  assert.deepEqual(matchApiPath('/chat/completions'), { routeId: undefined, endpoint: 'chat' });
  assert.deepEqual(matchApiPath('/r/abc123/v1/messages'), { routeId: 'abc123', endpoint: 'messages' });
  assert.deepEqual(matchApiPath('/r/abc123/chat/completions'), { routeId: 'abc123', endpoint: 'chat' });
  assert.deepEqual(matchApiPath('/v1/messages/count_tokens'), { routeId: undefined, endpoint: 'count_tokens' });
  assert.deepEqual(matchApiPath('/v1/completions'), { routeId: undefined, endpoint: 'completions' });
  // Azure OpenAI's v1 surface, as a client configured for https://<resource>.openai.azure.com/openai/v1 sends it.
  assert.deepEqual(matchApiPath('/openai/v1/chat/completions'), { routeId: undefined, endpoint: 'chat' });
  assert.deepEqual(matchApiPath('/r/abc123/openai/v1/responses'), { routeId: 'abc123', endpoint: 'responses' });
  assert.deepEqual(matchApiPath('/openai/v1/responses/resp_1/cancel'), { routeId: undefined, endpoint: 'response', subpath: '/resp_1/cancel' });
  assert.deepEqual(matchApiPath('/openai/v1/models/gpt-4o'), { routeId: undefined, endpoint: 'models', subpath: '/gpt-4o' });
  assert.equal(matchApiPath('/openai/chat/completions'), undefined, 'only the v1 surface, not a bare /openai');
  assert.equal(matchApiPath('/v1/chat/completions/extra'), undefined);
  assert.equal(matchApiPath('/healthz'), undefined);
});

test('Azure deployment paths: chat and completions for the engine, any other operation passed through', () => {
  assert.deepEqual(matchApiPath('/openai/deployments/gpt%2D4o/chat/completions'), { routeId: undefined, endpoint: 'chat', azureDeployment: 'gpt%2D4o' });
  assert.deepEqual(matchApiPath('/r/abc123/openai/deployments/d/completions/'), { routeId: 'abc123', endpoint: 'completions', azureDeployment: 'd' });
  assert.deepEqual(matchApiPath('/v1/deployments/d/chat/completions'), { routeId: undefined, endpoint: 'chat', azureDeployment: 'd' });
  assert.deepEqual(matchApiPath('/openai/deployments/d/audio/transcriptions'), { routeId: undefined, endpoint: 'deployment', azureDeployment: 'd', subpath: '/audio/transcriptions' });
  assert.equal(matchApiPath('/openai/deployments/d'), undefined);
  assert.equal(matchApiPath('/openai/deployments//chat/completions'), undefined);
});

test('the route table finds added routes by id only, and forgets removed ones', () => {
  const table = createRouteTable([{ name: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }]);
  assert.equal(table.find(undefined), table.defaultRoute);
  const route = table.add({ providers: [{ name: 'x', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1' }], tool: 'cline' });
  assert.match(route.id, /^[0-9a-f]{32}$/);
  assert.notEqual(table.add({ providers: route.providers }).id, route.id, 'ids are random');
  assert.equal(table.find(route.id), route);
  assert.equal(table.find(route.id.slice(0, 31)), undefined);
  assert.equal(table.find('default'), undefined, 'the default route is reachable only at the root');
  table.remove(route.id);
  assert.equal(table.find(route.id), undefined);
  assert.throws(() => table.add({ id: 'short', providers: route.providers }), /16 to 128/);
});

test('client tools are recognised from the User-Agent and title headers', () => {
  assert.equal(clientToolFrom({ 'user-agent': 'claude-cli/1.0.83 (external, cli)' }), 'claude-code');
  assert.equal(clientToolFrom({ 'user-agent': 'OpenAI/JS 6.49.0', 'x-title': 'Roo Code' }), 'roo-code');
  assert.equal(clientToolFrom({ 'user-agent': 'OpenAI/JS 6.49.0', 'http-referer': 'https://cline.bot' }), 'cline');
  assert.equal(clientToolFrom({ 'user-agent': 'OpenAI/JS 6.49.0' }), 'openai-sdk');
  assert.equal(clientToolFrom({ 'user-agent': 'Anthropic/JS 1.13.0' }), 'anthropic-sdk');
  assert.equal(clientToolFrom({ 'user-agent': 'GitHubCopilotChat/0.30.0' }), 'copilot');
  assert.equal(clientToolFrom({}), 'unknown');
});

test('cache directives come from Cache-Control and the x-isartor switches', () => {
  assert.deepEqual(cacheDirectives({ 'cache-control': 'No-Cache, max-age=0', 'x-isartor-local': 'OFF' }), { noCache: true, noStore: false, semanticOff: false, localOff: true });
  assert.deepEqual(cacheDirectives({ 'cache-control': 'no-store', 'x-isartor-semantic': 'off' }), { noCache: false, noStore: true, semanticOff: true, localOff: false });
});

test('validation names the field and what it should be', () => {
  assert.deepEqual(validateBody('openai.chat', { model: 'm', messages: [], stream: true }).stream, true);
  const cases: Array<[Parameters<typeof validateBody>[0], unknown, RegExp]> = [
    ['openai.chat', { messages: [] }, /`model` is required/],
    ['openai.chat', { model: '', messages: [] }, /`model` is required/],
    ['openai.chat', { model: 'm' }, /`messages` is required/],
    ['openai.chat', { model: 'm', messages: { role: 'user' } }, /`messages` is required .*\(got an object\)/],
    ['openai.chat', { model: 'm', messages: 'hi' }, /\(got a string\)/],
    ['openai.chat', { model: 'm', messages: ['hi'] }, /`messages\[0\]` must be an object/],
    ['openai.chat', { model: 'm', messages: [], stream: 'yes' }, /`stream` must be a boolean/],
    ['openai.completions', { model: 'm' }, /`prompt` is required/],
    ['anthropic.messages', { model: 'm', messages: [], system: 5 }, /`system` must be a string or an array/],
    ['anthropic.messages', { model: 'm', messages: [], max_tokens: '5' }, /`max_tokens` must be a number/],
    ['openai.chat', [], /must be a JSON object/],
  ];
  for (const [api, body, message] of cases) {
    assert.throws(() => validateBody(api, body as never), (error: unknown) => error instanceof ProxyError && error.status === 400 && message.test(error.message));
  }
});

test('errors render in the OpenAI and the Anthropic shape', () => {
  const error = new ProxyError(404, 'unknown_route', 'No route.');
  assert.deepEqual(errorBody('openai', error), { error: { message: 'No route.', type: 'invalid_request_error', code: 'unknown_route', param: null } });
  assert.deepEqual(errorBody('anthropic', error), { type: 'error', error: { type: 'not_found_error', message: 'No route.' } });
  assert.deepEqual(errorBody('anthropic', new ProxyError(502, 'upstream_unreachable', 'down')), { type: 'error', error: { type: 'api_error', message: 'down' } });
});

test('the loopback guard refuses rebinding hosts and every origin not allowed', () => {
  assert.equal(refusalReason({ host: '127.0.0.1:8787' }, '127.0.0.1'), undefined);
  assert.equal(refusalReason({ host: 'localhost:9' }, '127.0.0.1'), undefined);
  assert.equal(refusalReason({ host: '[::1]:8787' }, '::1'), undefined);
  assert.equal(refusalReason({ host: '127.0.0.2:8787' }, '127.0.0.2'), undefined);
  assert.match(refusalReason({ host: 'attacker.example:8787' }, '127.0.0.1') ?? '', /addressed to a loopback address/);
  assert.match(refusalReason({ host: 'attacker.example:8787' }, '127.0.0.2') ?? '', /addressed to a loopback address/, 'every loopback bind keeps the Host check');
  for (const origin of ['null', 'file://', 'chrome-extension://abc', 'vscode-webview://abc', 'http://localhost:3000', 'https://attacker.example', 'http://127.0.0.2:8787']) {
    assert.match(refusalReason({ host: '127.0.0.1:8787', origin }, '127.0.0.1') ?? '', /web pages.*security\.allowedOrigins/, origin);
  }
  assert.equal(refusalReason({ host: '127.0.0.1:8787', origin: 'http://localhost:3000' }, '127.0.0.1', ['http://LOCALHOST:3000/']), undefined);
  assert.equal(refusalReason({ host: '127.0.0.1:8787', origin: 'http://127.0.0.1:8787' }, '127.0.0.1'), undefined, 'the proxy\'s own pages');
  assert.equal(refusalReason({ host: '192.168.1.5:8787' }, '0.0.0.0'), undefined, 'a proxy bound beyond loopback answers its addresses');
  assert.ok(refusalReason({ host: '192.168.1.5:8787', origin: 'null' }, '0.0.0.0'), 'but browsers are refused there too');
  assert.equal(refusalReason({ host: '192.168.1.5:8787', origin: 'http://192.168.1.5:8787' }, '0.0.0.0'), undefined, 'its own savings page, opened at a LAN address');
  assert.ok(refusalReason({ host: '192.168.1.5:8787', origin: 'http://192.168.1.5:3000' }, '0.0.0.0'), 'another port of the same address is another site');
  // Verdicts are remembered per value; a bound host and a Host header are read differently.
  for (let round = 0; round < 3; round++) {
    assert.equal(refusalReason({ host: '[::1]:8787' }, '::1'), undefined, `round ${round}`);
    assert.match(refusalReason({ host: '::1' }, '::1') ?? '', /addressed to a loopback address/, 'a bare "::1" Host names no host');
    assert.match(refusalReason({ host: 'attacker.example:8787' }, '127.0.0.1') ?? '', /addressed to a loopback address/);
  }
});

test('bound beyond loopback, a request must name an IP address, this machine or an allowed host (DNS rebinding)', () => {
  const refusedHost = /IP address, localhost or this machine's name \(this one was for "attacker\.example"\)\..*--allow-host/;
  for (const bound of ['0.0.0.0', '::', '192.168.1.5']) {
    assert.match(refusalReason({ host: 'attacker.example:8787' }, bound) ?? '', refusedHost, bound);
    for (const host of ['192.168.1.5:8787', '10.0.0.1', '127.0.0.1:8787', '[::1]:8787', '[fe80::1]:8787', '[2001:db8::5]', 'localhost:8787']) {
      assert.equal(refusalReason({ host }, bound), undefined, `${host} on ${bound}`);
    }
  }
  // The machine's own name, in full or its first label, in any case, with or without the FQDN's dot.
  const machine = hostname().toLowerCase();
  for (const host of [machine, machine.toUpperCase(), `${machine}.`, `${machine.split('.')[0]}:8787`]) assert.equal(refusalReason({ host }, '0.0.0.0'), undefined, host);
  assert.ok(refusalReason({ host: `${machine.split('.')[0]}.attacker.example` }, '0.0.0.0'), 'the machine\'s name as a label of another name is not the machine');
  // Names that look like addresses but are DNS names, and a bare IPv6 Host (no brackets) that names nothing.
  for (const host of ['10.0.0.1.nip.io:8787', '0x7f.1', '::1', '[attacker.example]:8787']) assert.ok(refusalReason({ host }, '0.0.0.0'), host);
  // Allowed names: exact, or a domain and its subdomains with a leading dot.
  const allowed = ['proxy.example.com', '.corp.example'];
  for (const host of ['proxy.example.com:8787', 'PROXY.example.com', 'corp.example', 'lb.corp.example:443', 'a.b.corp.example']) {
    assert.equal(refusalReason({ host }, '0.0.0.0', [], allowed), undefined, host);
  }
  for (const host of ['example.com', 'x.proxy.example.com', 'evilcorp.example', 'corp.example.attacker.example']) {
    assert.match(refusalReason({ host }, '0.0.0.0', [], allowed) ?? '', /--allow-host/, host);
  }
  // Verdicts are remembered per allow list: another list, or none, decides afresh.
  for (let round = 0; round < 3; round++) {
    assert.equal(refusalReason({ host: 'lb.corp.example' }, '0.0.0.0', [], allowed), undefined, `round ${round}`);
    assert.ok(refusalReason({ host: 'lb.corp.example' }, '0.0.0.0', [], ['other.example']), `round ${round}`);
    assert.ok(refusalReason({ host: 'lb.corp.example' }, '0.0.0.0'), `round ${round}`);
  }
  // An allowed name passes on a loopback bind too (a reverse proxy on the same machine); IP addresses do not.
  assert.equal(refusalReason({ host: 'proxy.example.com' }, '127.0.0.1', [], allowed), undefined);
  assert.match(refusalReason({ host: '192.168.1.5:8787' }, '127.0.0.1', [], allowed) ?? '', /loopback address.*--allow-host/);
});

test('loopback is all of 127.0.0.0/8, ::1 and localhost', () => {
  for (const host of ['127.0.0.1', '127.0.0.2', '127.255.255.254', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['0.0.0.0', '128.0.0.1', '10.0.0.1', '::', '127.0.0.1.nip.io', 'localhost.example', '::ffff:10.0.0.1']) assert.equal(isLoopbackHost(host), false, host);
});

test('only JSON content types are accepted for API bodies', () => {
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json']) assert.equal(jsonContentTypeError(type), undefined, type);
  for (const type of [undefined, '', 'text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'text/json']) {
    assert.equal(jsonContentTypeError(type)?.status, 415, String(type));
  }
});
