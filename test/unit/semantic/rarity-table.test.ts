// The rarity table (rarity-ranks.json) must give exactly the weights the tokenizer gave before it
// replaced it: the lexical vectors, the L1b journal and every QQP figure depend on them.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decode } from 'gpt-tokenizer/encoding/o200k_base';
import { weightOfRank, wordWeight } from '../../../src/core/embed/rarity';
import table from '../../../src/core/embed/rarity-ranks.json';
import synonyms from '../../../src/core/embed/synonyms.json';
import { STOP_WORDS } from '../../../src/core/embed/stopwords';
import { encodeTokens } from '../../../src/core/tokens';

/** The weight as rarity.ts computed it with the tokenizer (before the table). */
function tokenizerWeight(word: string): number {
  if (word.length > 32) return 1;
  const tokens = encodeTokens(` ${word}`);
  return tokens.length === 1 ? weightOfRank(tokens[0]!) : 1;
}

function assertSame(words: Iterable<string>): number {
  let count = 0;
  for (const word of words) {
    const expected = tokenizerWeight(word);
    const actual = wordWeight(word);
    if (!Object.is(actual, expected)) assert.fail(`weight of ${JSON.stringify(word)}: table ${actual}, tokenizer ${expected}`);
    count++;
  }
  return count;
}

/** A deterministic pseudo-random generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('rarity table', () => {
  it('gives the tokenizer weight for every token of the vocabulary, with and without its space, in either case', () => {
    const words = new Set<string>();
    // o200k has 200k ranks; decode stops at the first unknown one.
    for (let rank = 0; rank < 200_000; rank++) {
      let text: string;
      try {
        text = decode([rank]);
      } catch {
        continue;
      }
      for (const word of [text, text.slice(1), text.trim()]) {
        words.add(word);
        words.add(word.toLowerCase());
      }
    }
    assert.ok(assertSame(words) > 300_000);
  });

  it('gives the tokenizer weight for the words of the synonym map and the stop words', () => {
    assertSame(new Set([...synonyms.groups.flat(), ...STOP_WORDS]));
  });

  it('gives the tokenizer weight for a large sample of other words: digits, long, non-ASCII, joined', () => {
    const next = random(15);
    const alphabets = ['abcdefghijklmnopqrstuvwxyz', '0123456789', 'abc123-.', 'éèàüößçñ', 'абвгдежзий', '日本語中文字', 'αβγδεζ', 'ABCxyz'];
    const words = new Set<string>();
    while (words.size < 50_000) {
      const alphabet = [...alphabets[Math.floor(next() * alphabets.length)]!];
      const length = 1 + Math.floor(next() * (next() < 0.9 ? 8 : 40));
      let word = '';
      for (let i = 0; i < length; i++) word += alphabet[Math.floor(next() * alphabet.length)];
      words.add(word);
    }
    for (let n = 0; n < 2000; n++) words.add(String(n));
    assertSame(words);
  });

  it('holds only single-token words of rank < 50,000, in rank order', () => {
    assert.equal(table.words.length, table.ranks.length);
    for (let i = 0; i < table.ranks.length; i++) {
      assert.ok(table.ranks[i]! < 50_000 && (i === 0 || table.ranks[i]! > table.ranks[i - 1]!));
      assert.deepEqual(encodeTokens(` ${table.words[i]!}`), [table.ranks[i]]);
    }
    assert.ok(wordWeight('way') < wordWeight('weekend') && wordWeight('weekend') < 1);
  });
});
