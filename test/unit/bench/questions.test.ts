// The generated questions the cache benchmarks fill caches with: distinct, deterministic, varied.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { QUESTION_SPACE, answerText, questionText, retypedQuestion } from '../../../src/bench/questions';

describe('questionText', () => {
  it('gives 100k distinct questions for the first 100k indexes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(questionText(i));
    assert.equal(seen.size, 100_000);
  });

  it('is deterministic and reads as a question about code', () => {
    assert.equal(questionText(12345), questionText(12345));
    assert.match(questionText(0), /^[A-Z].*[?.]$/);
    assert.doesNotMatch(questionText(0), /[{}]/, 'every placeholder is filled');
  });

  it('spreads neighbouring indexes over different templates and words', () => {
    const firstWords = new Set(Array.from({ length: 50 }, (_, i) => questionText(i).split(' ').slice(0, 3).join(' ')));
    assert.ok(firstWords.size > 5, `only ${firstWords.size} different openings in 50 questions`);
  });

  it('accepts the whole space and nothing outside it', () => {
    assert.equal(typeof questionText(QUESTION_SPACE - 1), 'string');
    assert.throws(() => questionText(QUESTION_SPACE), RangeError);
    assert.throws(() => questionText(-1), RangeError);
    assert.throws(() => questionText(1.5), RangeError);
  });
});

describe('retypedQuestion', () => {
  it('has the same words in another case and spacing, without the final mark', () => {
    const original = questionText(77);
    const retyped = retypedQuestion(77);
    assert.notEqual(retyped, original);
    assert.equal(retyped.replace(/\s+/g, ' '), original.toLowerCase().replace(/[?.]$/, ''));
  });
});

describe('answerText', () => {
  it('is at least the size asked for and names its question', () => {
    const text = answerText(5, 2048);
    assert.ok(text.length >= 2048 && text.length < 2048 + 600, `length ${text.length}`);
    assert.ok(text.includes(questionText(5)));
  });
});
