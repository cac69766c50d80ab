// The memo of stored entries' gate signatures: same answer as computing afresh, bounded, recency-ordered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryKey } from '../../../src/core/semantic/entries';
import { gateSignature } from '../../../src/core/semantic/gates';
import { SignatureCache } from '../../../src/core/semantic/signatures';

const key = (text: string): string => entryKey('p', text);
const of = (signatures: SignatureCache, text: string) => signatures.of(key(text), text);

describe('SignatureCache', () => {
  it('returns what gateSignature returns, computed once per key', () => {
    const signatures = new SignatureCache();
    const text = 'How do I sort 10 items with `Array.prototype.sort` in JavaScript?';
    const first = of(signatures, text);
    assert.deepEqual(first, gateSignature(text));
    assert.equal(of(signatures, text), first, 'the second call hands back the cached object');
    assert.equal(signatures.get(key(text)), first);
    assert.notEqual(of(signatures, 'sort 12 items'), first);
    assert.equal(signatures.size, 2);
    assert.equal(signatures.get(key('never seen')), undefined);
  });

  it('keeps only the most recently used keys, remembered or computed', () => {
    const signatures = new SignatureCache(2);
    const a = of(signatures, 'text a');
    signatures.remember(key('text b'), gateSignature('text b'));
    of(signatures, 'text a'); // a is now more recent than b
    of(signatures, 'text c'); // evicts b
    assert.equal(signatures.size, 2);
    assert.equal(of(signatures, 'text a'), a, 'a survived');
    assert.equal(signatures.get(key('text b')), undefined, 'b was evicted');
    const b = of(signatures, 'text b');
    assert.deepEqual(b, gateSignature('text b'));
    assert.equal(signatures.size, 2);
    signatures.clear();
    assert.equal(signatures.size, 0);
  });
});
