// The memo of stored entries' gate signatures: same answer as computing afresh, bounded, recency-ordered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gateSignature } from '../../../src/core/semantic/gates';
import { SignatureCache } from '../../../src/core/semantic/signatures';

describe('SignatureCache', () => {
  it('returns what gateSignature returns, computed once per text', () => {
    const signatures = new SignatureCache();
    const text = 'How do I sort 10 items with `Array.prototype.sort` in JavaScript?';
    const first = signatures.of(text);
    assert.deepEqual(first, gateSignature(text));
    assert.equal(signatures.of(text), first, 'the second call hands back the cached object');
    assert.notEqual(signatures.of('sort 12 items'), first);
    assert.equal(signatures.size, 2);
  });

  it('keeps only the most recently used texts', () => {
    const signatures = new SignatureCache(2);
    const a = signatures.of('text a');
    signatures.of('text b');
    signatures.of('text a'); // a is now more recent than b
    signatures.of('text c'); // evicts b
    assert.equal(signatures.size, 2);
    assert.equal(signatures.of('text a'), a, 'a survived');
    const b = signatures.of('text b');
    assert.deepEqual(b, gateSignature('text b'));
    assert.equal(signatures.size, 2);
    signatures.clear();
    assert.equal(signatures.size, 0);
  });
});
