import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseUtf8Json } from '../../../src/proxy/utf8Json';

/** What the plain path gives: the value, or the SyntaxError's message. */
function plain(bytes: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(bytes.toString('utf8')) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function fast(bytes: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: parseUtf8Json(bytes) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Pieces of a JSON string's bytes: ASCII, valid UTF-8 of every length, broken sequences, escapes. */
const STRING_PIECES: Buffer[] = [
  'plain text ',
  'é',
  '—',
  '😀',
  '中文',
  '\\n',
  '\\"',
  '\\\\',
  '\\u0041',
  '\\u007f',
  '\\u0080',
  '\\u0085',
  '\\u0130',
  '\\u00e9',
  '\\u2014',
  '\\ud83d\\ude00',
  '\\\\u00e9',
].map((piece) => Buffer.from(piece, 'utf8'));
const BROKEN: number[][] = [[0xc3], [0xe2, 0x80], [0xf0, 0x9f, 0x98], [0x80], [0xa9, 0xa9], [0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]];

function stringBytes(next: () => number): Buffer {
  const parts: Buffer[] = [Buffer.from('"')];
  const count = Math.floor(next() * 6);
  for (let i = 0; i < count; i++) {
    parts.push(next() < 0.25 ? Buffer.from(BROKEN[Math.floor(next() * BROKEN.length)]!) : STRING_PIECES[Math.floor(next() * STRING_PIECES.length)]!);
  }
  parts.push(Buffer.from('"'));
  return Buffer.concat(parts);
}

function valueBytes(next: () => number, depth: number): Buffer {
  const pick = Math.floor(next() * (depth > 3 ? 3 : 6));
  if (pick === 0) return Buffer.from(String(Math.floor(next() * 100)));
  if (pick <= 2) return stringBytes(next);
  if (pick === 3) {
    const items = Array.from({ length: Math.floor(next() * 4) }, () => valueBytes(next, depth + 1));
    return Buffer.concat([Buffer.from('['), ...items.flatMap((item, i) => (i === 0 ? [item] : [Buffer.from(','), item])), Buffer.from(']')]);
  }
  const entries = Array.from({ length: Math.floor(next() * 4) }, () => {
    const key = next() < 0.1 ? Buffer.from('"__proto__"') : next() < 0.7 ? Buffer.from(`"k${Math.floor(next() * 5)}"`) : stringBytes(next);
    return Buffer.concat([key, Buffer.from(':'), valueBytes(next, depth + 1)]);
  });
  return Buffer.concat([Buffer.from('{'), ...entries.flatMap((entry, i) => (i === 0 ? [entry] : [Buffer.from(','), entry])), Buffer.from('}')]);
}

test('parseUtf8Json gives what JSON.parse of the UTF-8 text gives, for 20,000 random bodies', () => {
  const next = random(2026);
  for (let i = 0; i < 20_000; i++) {
    let bytes = valueBytes(next, 0);
    // Now and then a byte above 0x7F outside any string, or a cut-off body: invalid JSON both ways.
    if (next() < 0.05) bytes = Buffer.concat([bytes.subarray(0, 1), Buffer.from([0xc3, 0xa9]), bytes.subarray(1)]);
    if (next() < 0.05) bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
    assert.deepStrictEqual(fast(bytes), plain(bytes), `body ${i}: ${bytes.toString('hex')}`);
  }
});

test('parseUtf8Json on hand-picked bodies', () => {
  const bodies = [
    '{"messages":[{"role":"user","content":"Fix the — dash and the 😀"}]}',
    '"a top-level string with é"',
    '{"é":"a key with a non-ASCII byte"}',
    '{"__proto__":"é","a":1}',
    '{"a":"\\u00e9 escaped and é raw"}',
    '{"a":"\\u001b[31mred\\u001b[0m é"}',
    '\ufeff{"a":"é"}',
    '{"a":"é"} trailing',
    '',
    '[1,2,"—"]',
  ];
  for (const body of bodies) {
    const bytes = Buffer.from(body, 'utf8');
    assert.deepStrictEqual(fast(bytes), plain(bytes), body);
  }
  const broken = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xe2, 0x80]), Buffer.from('\\n'), Buffer.from([0x94]), Buffer.from('y"}')]);
  assert.deepStrictEqual(fast(broken), plain(broken));
  assert.deepStrictEqual(fast(broken), { value: { a: 'x\ufffd\n\ufffdy' } });
});

test('a key named __proto__ stays a key, not the prototype', () => {
  const value = parseUtf8Json(Buffer.from('{"__proto__":{"polluted":"é"},"b":"—"}')) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepStrictEqual(Object.keys(value), ['__proto__', 'b']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
