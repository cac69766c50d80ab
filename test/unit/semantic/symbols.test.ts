// The symbol and case signatures the gates compare: what the embedders fold away.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGates, gateSignature, MAX_GATED_CHARS } from '../../../src/core/semantic/gates';
import { casingDiffers, isSpaceCode, symbolTokens, wordCasing } from '../../../src/core/semantic/symbols';

describe('isSpaceCode', () => {
  it('is true for exactly the UTF-16 units that \\s matches', () => {
    const differ: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (isSpaceCode(code) !== /\s/.test(String.fromCharCode(code))) differ.push(code);
    assert.deepEqual(differ, []);
  });
});

describe('symbolTokens', () => {
  it('keeps operators and punctuation-bearing tokens, drops sentence punctuation', () => {
    assert.deepEqual(symbolTokens('Return true if x >= y.'), ['>=']);
    assert.deepEqual(symbolTokens('What does -^- mean, and (,) or ## ?'), ['-^-', '(,)', '##']);
    assert.deepEqual(symbolTokens('Is i++ faster than ++i?'), ['i++', '++i']);
    assert.deepEqual(symbolTokens('What does ?? do'), ['??']);
    assert.deepEqual(symbolTokens('Explain "quotes", don\'t use built-in ones!'), ['built-in'], 'a hyphenated word may be an identifier (data-testid)');
    assert.deepEqual(symbolTokens('Hello world in C#'), ['C#']);
  });

  it('reads chunks between any whitespace, and knows the last one', () => {
    assert.deepEqual(symbolTokens('  a+b\u00a0c-d\u3000e?f \n'), ['a+b', 'c-d', 'e?f']);
    assert.deepEqual(symbolTokens('why ?'), [], 'a spaced question mark at the end is prose');
    assert.deepEqual(symbolTokens('? why'), ['?'], 'the same mark elsewhere is a symbol');
    assert.deepEqual(symbolTokens('why ?  \t'), [], 'trailing whitespace does not make another chunk');
    assert.deepEqual(symbolTokens('x++. then ok'), ['x++']);
    assert.deepEqual(symbolTokens('a.b.c, (x) "q" \u00BD'), ['a.b.c', '(x)', '1\u20442']);
  });
});

describe('wordCasing', () => {
  it('records capitals except at a sentence start, for "I" and for product names', () => {
    const casing = wordCasing('String is here. Convert a String, not a string, in Python; I think');
    assert.equal(casing.get('string'), 'String string');
    assert.equal(casing.has('python'), false);
    assert.equal(casing.has('i'), false);
    assert.equal(casing.has('convert'), false);
  });

  it('compares only words both texts use', () => {
    assert.equal(casingDiffers(wordCasing('use a Map here'), wordCasing('use a dict here')), false);
    assert.equal(casingDiffers(wordCasing('use a Map here'), wordCasing('use a map here')), true);
  });
});

describe('bounded gate work', () => {
  it('serves a very long turn only for the very same text', () => {
    const long = 'word '.repeat(MAX_GATED_CHARS / 5 + 10);
    assert.equal(checkGates(gateSignature(long), gateSignature(long)), undefined);
    assert.equal(checkGates(gateSignature(long), gateSignature(`${long}x`)), 'code');
  });
});
