import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { canonicalJson, sha256 } from '../../src/core/request';

/** The map/filter/join form canonicalJson had before it was rewritten to append. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const entries = Object.keys(value as object)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`);
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

const KEYS = ['role', 'content', 'b', 'a', 'é', '\u2028', 'Z', '10', '2', '__proto__x', 'tool_calls', ''];
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
