// storedAnswerJson splices in the upstream's own body text when the answer was parsed from it
// (answer-collector.ts), instead of serialising the body again: the result must be the same value
// to any JSON reader, and must fall back to JSON.stringify when the body is not that text any more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storedAnswerJson, type StoredAnswer } from '../../src/core/outcome';
import { createAnswerCollector } from '../../src/core/stream/answer-collector';
import { LargeAnswer } from '../../src/core/stream/large-answer';

/** Collects `text` as a plain (non-streamed) upstream body, in chunks of `size` bytes. */
function collectPlain(text: string, size = 5): StoredAnswer {
  const collector = createAnswerCollector('openai.chat', 'application/json');
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) collector.push(bytes.subarray(at, at + size));
  const answer = collector.finish();
  assert.ok(answer && !(answer instanceof LargeAnswer), 'a complete answer, small enough to store');
  return answer;
}

// Upstream spacing on one line, escapes, a multi-byte character cut across chunks, U+2028, a number
// JSON.stringify would spell otherwise, a key spelled twice (JSON.parse keeps the last), and the
// line break many servers end a body with.
const UPSTREAM_BODY = `{ "id" : "chatcmpl-1", "object": "chat.completion", "created": 1.7e9, "choices": [ { "index": 0, "message": { "role": "assistant", "content": "caf\u00e9 \\u00e9 \\"quoted\\" \\ud83d\\ude00 \u2028 tab\\t" }, "finish_reason": "stop" } ], "big": 12345678901234567890, "dup": 1, "dup": 2, "usage": { "prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18 } }\n`;

/** The same body as an upstream that indents its JSON sends it: one field a line. */
const PRETTY_BODY = `${JSON.stringify(JSON.parse(UPSTREAM_BODY), null, 2)}\n`;

test('a plain answer is stored as the upstream body text, which reads back as the same value', () => {
  const answer = collectPlain(UPSTREAM_BODY);
  const json = storedAnswerJson(answer);
  assert.ok(json.includes(`"body":${UPSTREAM_BODY}`), 'the upstream text is spliced in as it came');
  assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(answer)));
  const fields = Object.keys(JSON.parse(json) as object);
  assert.deepEqual(fields, Object.keys(answer), 'the fields in JSON.stringify order');
  assert.equal(storedAnswerJson(answer), json, 'computed once');
});

test('a pretty-printed upstream body is stored compact, as JSON.stringify writes it', () => {
  const answer = collectPlain(PRETTY_BODY);
  assert.equal(storedAnswerJson(answer), JSON.stringify(answer));
  assert.ok(!storedAnswerJson(answer).includes('\n'), 'no indentation stored');
});

test('fields added to the answer after it was collected are in the stored JSON', () => {
  const answer = collectPlain(UPSTREAM_BODY);
  answer.usageEstimated = true;
  const json = storedAnswerJson(answer);
  assert.equal((JSON.parse(json) as StoredAnswer).usageEstimated, true);
  assert.deepEqual(JSON.parse(json), JSON.parse(JSON.stringify(answer)));
});

test('a body replaced after collection is serialised, not the old text', () => {
  const answer = collectPlain(UPSTREAM_BODY);
  answer.body = { ...answer.body, id: 'chatcmpl-other' };
  const json = storedAnswerJson(answer);
  assert.equal(json, JSON.stringify(answer));
  assert.equal((JSON.parse(json) as StoredAnswer).body.id, 'chatcmpl-other');
});

test('an answer built without upstream text is JSON.stringify as before', () => {
  const answer: StoredAnswer = { api: 'anthropic.messages', body: { type: 'message', content: [] }, usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 0 }, createdAt: 5 };
  assert.equal(storedAnswerJson(answer), JSON.stringify(answer));
});
