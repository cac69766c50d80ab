// encodeEntry writes the stored entry's JSON by hand around JSON.stringify of its strings: it must be
// byte for byte what JSON.stringify of the whole entry writes, whatever the text holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEntry, encodeEntry } from '../../../src/core/semantic/entries';
import { storedAnswerJson, type StoredAnswer } from '../../../src/core/outcome';

const answer: StoredAnswer = { api: 'openai.chat', body: { id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: 'ok "fine" \\ done' } }] }, usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 7 };

/** The encoding as JSON.stringify writes it, the answer spliced in as encodeEntry does. */
function reference(partition: string, text: string, embedder: string, vector: Float32Array): string {
  const base64 = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
  const head = JSON.stringify({ v: 1, partition, text, embedder, vector: base64 });
  return `${head.slice(0, -1)},"answer":${storedAnswerJson(answer)}}`;
}

const TEXTS = ['Price?', 'say "hi" \\ back', 'tab\there\nnew line\r\u0000\u001f', 'caf\u00e9 \u{1f600} \u2028\u2029', 'lone \ud800 surrogate \udc00', '</script><!--', ''];

test('an entry is encoded as JSON.stringify would write it, and decodes to what was encoded', () => {
  for (const [i, text] of TEXTS.entries()) {
    const vector = new Float32Array(128);
    vector[i] = 0.5;
    vector[127 - i] = -0.25;
    const partition = i % 2 === 0 ? 'f'.repeat(64) : 'p"art\\ition';
    const embedder = 'lexical-v1-d128-b0.5';
    const bytes = encodeEntry({ partition, text, embedder, vector, answer });
    assert.equal(bytes.toString('utf8'), Buffer.from(reference(partition, text, embedder, vector)).toString('utf8'), JSON.stringify(text));
    const decoded = decodeEntry(bytes);
    assert.ok(decoded);
    assert.equal(decoded.text, text, 'the text as it was, lone surrogates included (JSON.stringify escapes them)');
    assert.equal(decoded.partition, partition);
    assert.deepEqual([...decoded.vector], [...vector]);
    assert.deepEqual(decoded.answer, JSON.parse(storedAnswerJson(answer)));
  }
});
