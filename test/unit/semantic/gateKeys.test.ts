// Gate keys: a hash of the parts every gate profile compares exactly. A lookup whose gate key no
// entry has is a miss the main thread tells without the worker, so a key must never differ where
// the gates would let a pair through.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ENTRY_KEY_PREFIX, entryKey, gateKeyOfEntryKey, partitionOfKey } from '../../../src/core/semantic/entries';
import { gateKeyOf, gatesCoverExactParts } from '../../../src/core/semantic/gateKeys';
import { checkGates, gateSignature, MAX_GATED_CHARS } from '../../../src/core/semantic/gates';
import { ALL_GATES, LEXICAL_GATES, NEURAL_GATES } from '../../../src/core/semantic/gateSets';
import { GateCounts, GateView } from '../../../src/core/semantic/gateTable';

type Pair = { a: string; b: string; category?: string };
const fixture = (name: string): Pair[] =>
  readFileSync(join(__dirname, '..', '..', 'fixtures', 'semantic', name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Pair);

describe('gate keys', () => {
  it('are equal for every pair of fixture turns either gate profile lets through', () => {
    // Every pair of every turn in both fixtures, not only the pairs as written: the gates let
    // through far more pairs across lines than the adversarial lines themselves.
    const texts = [...new Set([...fixture('positive-text.jsonl'), ...fixture('adversarial-text.jsonl')].flatMap(({ a, b }) => [a, b]))];
    const signatures = texts.map((text) => gateSignature(text));
    const keys = texts.map((text) => gateKeyOf(text));
    let through = 0;
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        for (const gates of [LEXICAL_GATES, NEURAL_GATES]) {
          if (checkGates(signatures[i]!, signatures[j]!, { gates }) !== undefined) continue;
          through++;
          assert.equal(keys[i], keys[j], `${JSON.stringify(texts[i])} / ${JSON.stringify(texts[j])}`);
        }
      }
    }
    assert.ok(through >= 1000, `only ${through} pairs passed the gates`);
  });

  it('differ where the code, numbers, identifiers or symbols differ', () => {
    for (const { a, b, category } of fixture('adversarial-text.jsonl')) {
      const reason = checkGates(gateSignature(a), gateSignature(b), { gates: ALL_GATES });
      if (reason === 'code' || reason === 'numbers' || reason === 'identifiers' || reason === 'symbols') {
        assert.notEqual(gateKeyOf(a), gateKeyOf(b), `${category}: ${a} / ${b}`);
      }
    }
    assert.notEqual(gateKeyOf('Retry 3 times'), gateKeyOf('Retry three times please'.replace('three', '4')));
    assert.notEqual(gateKeyOf('What does useState return?'), gateKeyOf('What does usestate return?'));
    assert.equal(gateKeyOf('Why does the build fail?'), gateKeyOf('How does the build fail?'), 'a wording gate is not part of the key');
  });

  it('key a turn past the gated length by its whole text', () => {
    const long = 'word '.repeat(MAX_GATED_CHARS / 4);
    assert.equal(gateKeyOf(long), gateKeyOf(`${long}`));
    assert.notEqual(gateKeyOf(long), gateKeyOf(`${long}x`));
  });

  it('are read back from entry keys; a key written before them has none', () => {
    const key = entryKey('part1', 'How do I sort a list in Python?');
    assert.equal(partitionOfKey(key), 'part1');
    assert.equal(gateKeyOfEntryKey(key), gateKeyOf('How do I sort a list in Python?'));
    assert.notEqual(key, entryKey('part1', 'how do i sort a list in python'), 'the text hash still tells texts apart');
    assert.equal(gateKeyOfEntryKey(`${ENTRY_KEY_PREFIX}part1:${'a'.repeat(32)}`), undefined);
    assert.equal(gateKeyOfEntryKey('other:part1:g1abcdef01' + 'a'.repeat(24)), undefined);
  });

  it('cover both shipped gate profiles, and not one without the number gate', () => {
    assert.equal(gatesCoverExactParts(LEXICAL_GATES), true);
    assert.equal(gatesCoverExactParts(NEURAL_GATES), true);
    assert.equal(gatesCoverExactParts(undefined), true);
    assert.equal(gatesCoverExactParts(new Set([...ALL_GATES].filter((gate) => gate !== 'numbers'))), false);
  });
});

describe('gate counts', () => {
  const key = (partition: string, text: string): string => entryKey(partition, text);

  it('say "maybe" only for a partition and gate key the index holds, until the last such entry leaves', () => {
    const counts = new GateCounts();
    const view = new GateView(counts.buffer);
    const text = 'How do I retry a request 3 times?';
    assert.equal(view.mayHold('p', gateKeyOf(text)), false);
    counts.added('p', key('p', text));
    counts.added('p', key('p', 'how do i retry a request 3 times'));
    assert.equal(view.mayHold('p', gateKeyOf('Retry a request 3 times, how?')), true);
    assert.equal(view.mayHold('p', gateKeyOf('How do I retry a request 5 times?')), false);
    assert.equal(view.mayHold('q', gateKeyOf(text)), false, 'another partition');
    counts.removed('p', key('p', text));
    assert.equal(view.mayHold('p', gateKeyOf(text)), true, 'one entry left');
    counts.removed('p', key('p', 'how do i retry a request 3 times'));
    assert.equal(view.mayHold('p', gateKeyOf(text)), false);
  });

  it('say whether a partition holds any entry at all, whatever its gate key', () => {
    const counts = new GateCounts();
    const view = new GateView(counts.buffer);
    assert.equal(view.partitionMayHold('p'), false);
    counts.added('p', key('p', 'How do I retry a request 3 times?'));
    counts.added('p', key('p', 'Explain closures'));
    assert.equal(view.partitionMayHold('p'), true);
    assert.equal(view.partitionMayHold('q'), false);
    counts.removed('p', key('p', 'How do I retry a request 3 times?'));
    assert.equal(view.partitionMayHold('p'), true, 'one entry left');
    counts.removed('p', key('p', 'Explain closures'));
    assert.equal(view.partitionMayHold('p'), false);
    counts.added('q', `${ENTRY_KEY_PREFIX}q:${'0'.repeat(32)}`);
    assert.equal(view.partitionMayHold('q'), true, 'an entry written before gate keys counts too');
  });

  it('say "maybe" for every turn of a partition holding an entry written before gate keys', () => {
    const counts = new GateCounts();
    const view = new GateView(counts.buffer);
    counts.added('p', `${ENTRY_KEY_PREFIX}p:${'0'.repeat(32)}`);
    assert.equal(view.mayHold('p', gateKeyOf('anything at all, 42')), true);
    assert.equal(view.mayHold('q', gateKeyOf('anything at all, 42')), false);
  });

  it('stay at "maybe" once a counter is full, and say "none" for all after a clear', () => {
    const counts = new GateCounts();
    const view = new GateView(counts.buffer);
    const texts = Array.from({ length: 300 }, (_, i) => `Explain closures ${'again '.repeat(i)}`);
    for (const text of texts) counts.added('p', key('p', text));
    for (const text of texts) counts.removed('p', key('p', text));
    assert.equal(view.mayHold('p', gateKeyOf(texts[0]!)), true, 'a full counter no longer counts down');
    counts.cleared();
    assert.equal(view.mayHold('p', gateKeyOf(texts[0]!)), false);
  });
});
