import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical';
import { sha256 } from '../../src/core/request';

/**
 * The map/filter/join form canonicalJson had before it was rewritten to append, with the keys of
 * an object under "properties" (a JSON schema's) kept in their order.
 */
function reference(value: unknown, keepOrder = false): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => reference(item)).join(',')}]`;
  const keys = Object.keys(value as object).filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  if (!keepOrder) keys.sort();
  const entries = keys.map((key) => {
    const item = (value as Record<string, unknown>)[key];
    return `${JSON.stringify(key)}:${reference(item, key === 'properties' && item !== null && typeof item === 'object' && !Array.isArray(item))}`;
  });
  return `{${entries.join(',')}}`;
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const KEYS = ['properties', 'role', 'content', 'b', 'a', 'é', '\u2028', 'Z', '10', '2', '__proto__x', 'tool_calls', ''];
const STRINGS = ['', 'hi', 'quote " and \\ backslash', 'line\nbreak', '\u0000\u001f', 'emoji 😀', '\ud800 lone', '</script>'];

function value(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
  if (pick === 0) return null;
  if (pick === 1) return next() < 0.5;
  if (pick === 2) return [0, -0, 1.5, 1e21, -3, Number.NaN, Number.POSITIVE_INFINITY][Math.floor(next() * 7)];
  if (pick === 3) return STRINGS[Math.floor(next() * STRINGS.length)];
  if (pick === 4) return undefined;
  if (pick === 5) return Math.floor(next() * 1000);
  if (pick <= 7) {
    const out: unknown[] = [];
    const length = Math.floor(next() * 5);
    for (let i = 0; i < length; i++) out.push(value(next, depth + 1));
    if (next() < 0.1) out[length + 1] = 'after a hole';
    return out;
  }
  const out: Record<string, unknown> = {};
  const size = Math.floor(next() * 6);
  for (let i = 0; i < size; i++) out[KEYS[Math.floor(next() * KEYS.length)]!] = value(next, depth + 1);
  return out;
}

test('canonicalJson writes exactly what the map/join form wrote, for 5,000 random values', () => {
  const next = random(15);
  for (let i = 0; i < 5000; i++) {
    const input = value(next, 0);
    assert.equal(canonicalJson(input), reference(input));
  }
});

test('canonicalJson of a chat body: keys sorted at every depth, undefined fields left out', () => {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi', name: undefined }], temperature: 0 };
  assert.equal(canonicalJson(body), '{"messages":[{"content":"hi","role":"user"}],"model":"gpt-4o","temperature":0}');
});

test('sha256 is the hex digest of the UTF-8 text or the bytes', () => {
  for (const input of ['', 'abc', 'é 😀 \ud800', Buffer.from([0, 255, 1])]) {
    assert.equal(sha256(input), createHash('sha256').update(input).digest('hex'));
  }
});

test('partitionKey is the sha256 of its parts, remembered or not, and changes with each part', async () => {
  const { partitionKey } = await import('../../src/core/request');
  const base = { api: 'openai.chat' as const, model: 'gpt-4o-mini', credentialHash: 'c'.repeat(64), route: { id: 'default', providers: [{ name: 'openai', kind: 'openai' as const, baseUrl: 'https://api.openai.com/v1' }] } };
  const expected = (req: typeof base): string => createHash('sha256').update(['v1', req.route.providers[0]!.baseUrl, req.credentialHash, req.api, req.model].join('\n')).digest('hex');
  assert.equal(partitionKey(base), expected(base));
  assert.equal(partitionKey(base), expected(base)); // the remembered one
  const variants = [
    { ...base, model: 'gpt-4o' },
    { ...base, credentialHash: 'd'.repeat(64) },
    { ...base, api: 'openai.responses' as const },
    { ...base, route: { id: 'x', providers: [{ name: 'azure', kind: 'openai' as const, baseUrl: 'https://example.test/v1' }] } },
  ];
  const keys = new Set([partitionKey(base)]);
  // More partitions than are remembered, twice over: each still hashes to its own parts.
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 40; i++) {
      const req = { ...base, model: `model-${i}` };
      assert.equal(partitionKey(req), expected(req));
    }
  }
  for (const variant of variants) {
    assert.equal(partitionKey(variant as typeof base), expected(variant as typeof base));
    keys.add(partitionKey(variant as typeof base));
  }
  assert.equal(keys.size, 1 + variants.length);
});

/**
 * Whether a value holds a number beyond ±2^53 (1e21 and Infinity among the random ones): its digests
 * are then UNKEYABLE_DIGEST, since JSON.parse may have rounded it. An array digest over the first
 * `count` elements says so for a number anywhere in the array (its element texts are made once).
 */
function holdsUnkeyable(value: unknown): boolean {
  if (typeof value === 'number') return value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(holdsUnkeyable);
}

/** The digest the caches key `value` by: the sha256 of its canonical JSON, or none at all. */
function expectedDigest(value: unknown, whole: unknown = value): string {
  return holdsUnkeyable(whole) ? 'unkeyable' : sha256(canonicalJson(value));
}

test('without long strings, canonicalObjectDigest and canonicalArrayDigest hash exactly what canonicalJson writes (cache keys as before), for 3,000 random values', async () => {
  const { canonicalArrayDigest, canonicalObjectDigest } = await import('../../src/core/canonical');
  const next = random(26);
  for (let i = 0; i < 3000; i++) {
    const object: Record<string, unknown> = {};
    const size = Math.floor(next() * 5);
    for (let k = 0; k < size; k++) object[KEYS[Math.floor(next() * KEYS.length)]!] = next() < 0.4 ? [value(next, 1), value(next, 1), value(next, 1)] : value(next, 1);
    assert.equal(canonicalObjectDigest(object), expectedDigest(object));
    const array = value(next, 1);
    if (!Array.isArray(array)) continue;
    for (let count = 0; count <= array.length; count++) assert.equal(canonicalArrayDigest(array, count), expectedDigest(array.slice(0, count), array));
  }
});

test('the digests are the same on both sides of the length at which pieces stop being joined', async () => {
  const { canonicalArrayDigest, canonicalObjectDigest, canonicalKeyText, LONG_STRING_CHARS } = await import('../../src/core/canonical');
  const next = random(27);
  // Key texts from just under to well over 16 K characters, of strings short enough to be written
  // out, with multi-byte and escaped characters.
  for (const length of [16 * 1024 - 200, 16 * 1024 - 40, 16 * 1024, 16 * 1024 + 40, 60_000]) {
    for (let i = 0; i < 20; i++) {
      const turns: unknown[] = [];
      for (let written = 0; written < length; ) {
        const piece = `ü😀"\\\n${'a'.repeat(LONG_STRING_CHARS)}`.slice(0, Math.max(1, Math.min(LONG_STRING_CHARS - 1, length - written) - Math.floor(next() * 60)));
        turns.push({ role: 'system', content: piece });
        written += JSON.stringify(piece).length + 30;
      }
      turns.push(value(next, 1), { role: 'user', content: STRINGS[i % STRINGS.length] });
      const body = { model: 'm', messages: turns, extra: value(next, 1) };
      assert.equal(canonicalKeyText(body), canonicalJson(body), 'no long string: the key text is the canonical JSON');
      assert.equal(canonicalObjectDigest(body), expectedDigest(body), `object of ~${length} characters`);
      for (let count = 0; count <= turns.length; count += 3) assert.equal(canonicalArrayDigest(turns, count), expectedDigest(turns.slice(0, count), turns), `array of ~${length} characters`);
    }
  }
});

test('a long string enters the key text as the sha256 of its JSON; keys and short strings are written out', async () => {
  const { canonicalKeyText, LONG_STRING_CHARS } = await import('../../src/core/canonical');
  const long = `${'x'.repeat(LONG_STRING_CHARS - 1)}é`;
  const short = long.slice(1);
  const body = { [long]: short, b: [long, 1], a: { content: long } };
  const token = `<${sha256(JSON.stringify(long))}>`;
  assert.equal(canonicalKeyText(body), `{"a":{"content":${token}},"b":[${token},1],${JSON.stringify(long)}:${JSON.stringify(short)}}`);
  // A short string spelling a token is still a string: it cannot stand for the long one.
  assert.notEqual(canonicalKeyText({ content: token }), canonicalKeyText({ content: long }));
});

test('bodies with long strings: digests equal the sha256 of the key text, remembered or not, and key order still does not matter', async () => {
  const { canonicalArrayDigest, canonicalObjectDigest, canonicalKeyText, LONG_STRING_CHARS } = await import('../../src/core/canonical');
  const next = random(28);
  const longs = Array.from({ length: 12 }, (_, i) => `${i} ${'ü😀"\\\n'.repeat(4)}${'word '.repeat(LONG_STRING_CHARS / 4 + i * 50)}`);
  for (let round = 0; round < 400; round++) {
    // Fresh objects each time, as each request parses its own body; the strings repeat across them.
    const turns = Array.from({ length: 1 + Math.floor(next() * 6) }, () =>
      next() < 0.5 ? { role: 'user', content: longs[Math.floor(next() * longs.length)]! } : { content: [{ type: 'text', text: longs[Math.floor(next() * longs.length)]! }], role: 'assistant' },
    );
    const body = JSON.parse(JSON.stringify({ model: 'm', system: longs[round % longs.length], messages: turns, extra: value(next, 1) })) as Record<string, unknown>;
    assert.equal(canonicalObjectDigest(body), holdsUnkeyable(body) ? 'unkeyable' : sha256(canonicalKeyText(body)));
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(body).reverse()))) as Record<string, unknown>;
    assert.equal(canonicalObjectDigest(reordered), canonicalObjectDigest(body), 'key order');
    const parsedTurns = JSON.parse(JSON.stringify(turns)) as unknown[];
    for (let count = 0; count <= parsedTurns.length; count++) assert.equal(canonicalArrayDigest(parsedTurns, count), sha256(canonicalKeyText(parsedTurns.slice(0, count))));
  }
});

test('long strings that look alike to the memo (same length and ends) or to UTF-8 (a lone surrogate) keep their own digests', async () => {
  const { canonicalObjectDigest, canonicalKeyText, LONG_STRING_CHARS } = await import('../../src/core/canonical');
  const end = 'e'.repeat(200);
  const a = `${end}${'m'.repeat(LONG_STRING_CHARS)}A${'m'.repeat(LONG_STRING_CHARS)}${end}`;
  const b = `${end}${'m'.repeat(LONG_STRING_CHARS)}B${'m'.repeat(LONG_STRING_CHARS)}${end}`;
  const surrogate = `${'s'.repeat(LONG_STRING_CHARS)}\ud800`;
  const replaced = `${'s'.repeat(LONG_STRING_CHARS)}\ufffd`;
  for (let round = 0; round < 3; round++) {
    for (const [x, y] of [[a, b], [b, a], [surrogate, replaced], [replaced, surrogate]] as const) {
      const first = canonicalObjectDigest({ content: `${x}` });
      const second = canonicalObjectDigest({ content: `${y}` });
      assert.notEqual(first, second);
      assert.equal(first, sha256(canonicalKeyText({ content: x })));
      assert.equal(second, sha256(canonicalKeyText({ content: y })));
    }
  }
});

test('the long strings remembered across requests stay within two generations of a million characters', async () => {
  const { canonicalObjectDigest, canonicalKeyText, rememberedLongStrings } = await import('../../src/core/canonical');
  const stringOf = (i: number): string => `${i}:${'z'.repeat(20_000)}`;
  const digests: string[] = [];
  for (let i = 0; i < 300; i++) {
    digests.push(canonicalObjectDigest({ content: stringOf(i) }));
    assert.ok(rememberedLongStrings.heldChars() <= 2 * 1024 * 1024 + 20_010, `${rememberedLongStrings.heldChars()} characters held after ${i + 1} strings`);
  }
  // Those dropped long ago and those still held give the same digests.
  for (const i of [0, 150, 299]) assert.equal(canonicalObjectDigest({ content: stringOf(i) }), digests[i]);
  assert.equal(digests[7], sha256(canonicalKeyText({ content: stringOf(7) })));
});

test('a remembered token is given only for the same text, in the newer generation and the older', async () => {
  const { LongStringTokens, canonicalKeyText, LONG_STRING_CHARS } = await import('../../src/core/canonical');
  const tokens = new LongStringTokens(3 * LONG_STRING_CHARS);
  const end = 'e'.repeat(100);
  const a = `${end}${'m'.repeat(LONG_STRING_CHARS)}A${end}`;
  const b = `${end}${'m'.repeat(LONG_STRING_CHARS)}B${end}`;
  const filler = 'f'.repeat(2 * LONG_STRING_CHARS);
  const tokenOf = (text: string): string => canonicalKeyText(text);
  assert.equal(tokens.token(a), tokenOf(a));
  assert.equal(tokens.token(a), tokenOf(a), 'remembered');
  assert.equal(tokens.token(filler), tokenOf(filler)); // over the budget: a and the filler are now the older generation
  assert.equal(tokens.heldChars(), a.length + filler.length);
  assert.equal(tokens.token(b), tokenOf(b), 'b shares a\'s fingerprint, which the older generation holds');
  assert.equal(tokens.token(a), tokenOf(a));
  // A string too long to keep is hashed and not held.
  const large = new LongStringTokens(4 * 1024 * 1024);
  const huge = 'h'.repeat(300 * 1024);
  assert.equal(large.token(huge), tokenOf(huge));
  assert.equal(large.heldChars(), 0);
});

test('canonicalElements serialises an array once, and a copy of it afresh', async () => {
  const { canonicalElements } = await import('../../src/core/canonical');
  const turns = [{ role: 'user', content: 'hi' }, { content: 'hello', role: 'assistant' }];
  const first = canonicalElements(turns);
  assert.deepEqual(first, ['{"content":"hi","role":"user"}', '{"content":"hello","role":"assistant"}']);
  assert.equal(canonicalElements(turns), first);
  assert.notEqual(canonicalElements([...turns]), first);
});

test('the exact and semantic digests of a body are the sha256 of its parts\' key texts, as before they shared the serialising', async () => {
  const { relevantBodyDigest } = await import('../../src/core/request');
  const { canonicalKeyText } = await import('../../src/core/canonical');
  const { semanticBodyDigests } = await import('../../src/core/semantic/keys');
  const tools = [{ type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }];
  const chat = {
    model: 'gpt-4o-mini',
    stream: true,
    temperature: 0,
    tools,
    messages: [
      { role: 'system', content: 'Be brief 😀 and exact.' },
      { role: 'user', content: 'Read a.ts' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'export const a = 1;' },
      { role: 'user', content: [{ type: 'text', text: 'What is a?' }] },
    ],
  };
  const responses = { model: 'gpt-4.1', instructions: 'Answer in one line.', input: [{ role: 'user', content: 'Hi' }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hello' }] }, { role: 'user', content: 'Price?' }] };
  const cases = [
    { api: 'openai.chat' as const, body: chat, turns: chat.messages },
    { api: 'anthropic.messages' as const, body: { model: 'claude', max_tokens: 100, system: 'Be brief.', messages: chat.messages.slice(1, 2) }, turns: chat.messages.slice(1, 2) },
    { api: 'openai.responses' as const, body: responses, turns: responses.input },
    { api: 'openai.responses' as const, body: { model: 'gpt-4.1', input: 'Price?' }, turns: [] },
  ];
  // An agent's body: long instructions and tool output, which enter the digests as their own digests.
  const instructions = `# Project\n${'- Use strict mode — and say why.\n'.repeat(60)}`;
  cases.push({ api: 'openai.chat' as const, body: { ...chat, messages: [{ role: 'system', content: instructions }, ...chat.messages.slice(1, 3), { role: 'tool', tool_call_id: 'c1', content: 'x'.repeat(5000) }, chat.messages[4]!] }, turns: [] });
  cases[cases.length - 1]!.turns = (cases[cases.length - 1]!.body as typeof chat).messages;
  for (const { api, body, turns } of cases) {
    const parsed = JSON.parse(JSON.stringify(body)) as Record<string, never>;
    const { stream: _stream, ...relevant } = parsed as Record<string, unknown>;
    // Responses: whether the provider keeps the response is in the key as a plain yes or no.
    if (api === 'openai.responses') relevant.store = relevant.store !== false;
    assert.equal(relevantBodyDigest(api, parsed), sha256(canonicalKeyText(relevant)), `${api}: exact digest`);
    const { messages: _messages, input: _input, ...params } = relevant;
    const digests = semanticBodyDigests(api, parsed);
    assert.equal(digests.historyHash, sha256(canonicalKeyText(turns.slice(0, -1))), `${api}: history digest`);
    assert.equal(digests.paramsHash, sha256(canonicalKeyText(params)), `${api}: params digest`);
  }
});

test('a body holding an integer beyond 2^53 in an answer-relevant field has no cache key, exact or semantic', async () => {
  const { canonicalHash } = await import('../../src/core/request');
  const { semanticKey } = await import('../../src/core/semantic/keys');
  const { canonicalArrayDigest, canonicalElements, UNKEYABLE_DIGEST } = await import('../../src/core/canonical');
  const route = { id: 'default', providers: [{ name: 'p', kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9/v1' }] };
  const request = (json: string, api: 'openai.chat' | 'anthropic.messages' = 'openai.chat') => {
    const body = JSON.parse(json) as Record<string, never>;
    return { api, body, model: String(body.model), credentialHash: 'anonymous', headers: {}, route };
  };
  const seeded = (seed: string) => request(`{"model":"m","messages":[{"role":"user","content":"q"}],"seed":${seed}}`);
  // 2^53 - 1 and its negative are exact; one past them may not be.
  for (const seed of ['9007199254740991', '-9007199254740991', '1.5', '1e-300']) assert.match(canonicalHash(seeded(seed)) ?? '', /^[0-9a-f]{64}$/, seed);
  for (const seed of ['9007199254740992', '9007199254740993', '-9007199254740993', '1e300', '123456789012345678901234567890']) {
    assert.equal(canonicalHash(seeded(seed)), undefined, seed);
    assert.deepEqual(semanticKey(seeded(seed)), { eligible: false, reason: 'unkeyable_number' }, seed);
  }
  // Deep inside the turns (a tool call's input), even when the turns' texts were remembered first.
  const withToolInput = (id: string) => request(`{"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{"ids":[1,${id}]}}]},{"role":"user","content":"and now?"}]}`, 'anthropic.messages');
  const remembered = withToolInput('12345678901234567890');
  canonicalElements(remembered.body.messages);
  assert.equal(canonicalArrayDigest(remembered.body.messages), UNKEYABLE_DIGEST);
  assert.equal(canonicalHash(remembered), undefined);
  assert.equal(semanticKey(remembered).eligible, false);
  assert.ok(canonicalHash(withToolInput('12345')));
  // Answer-neutral fields do not count: metadata is not in the key.
  assert.ok(canonicalHash(request('{"model":"m","messages":[{"role":"user","content":"q"}],"metadata":{"trace":12345678901234567890}}')));
  // Nor does the flag leak into the next body's key.
  assert.ok(canonicalHash(seeded('7')));
});

test('canonicalJson keeps the key order of a JSON schema\'s properties, and sorts every other object', () => {
  const schema = (order: string[]) => ({ type: 'object', properties: Object.fromEntries(order.map((name) => [name, { type: 'string', description: name }])) });
  assert.notEqual(canonicalJson({ tools: [schema(['reasoning', 'answer'])] }), canonicalJson({ tools: [schema(['answer', 'reasoning'])] }));
  assert.equal(
    canonicalJson({ properties: { b: { type: 'string', description: 'x' }, a: { description: 'y', type: 'string' } } }),
    '{"properties":{"b":{"description":"x","type":"string"},"a":{"description":"y","type":"string"}}}',
  );
});
