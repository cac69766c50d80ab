// Each embedder's profile: its threshold and the gates it runs.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLexicalEmbedder } from '../../../src/core/embed/lexical';
import { LEXICAL_PROFILE, TRANSFORMERS_PROFILE } from '../../../src/core/embed/profiles';
import { checkGates, gateSignature } from '../../../src/core/semantic/gates';
import { ALL_GATES } from '../../../src/core/semantic/gateSets';

const pairs = readFileSync(join(__dirname, '../../fixtures/semantic/adversarial-text.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { category: string; a: string; b: string });

describe('embedder profiles', () => {
  it('the lexical embedder carries its profile: every gate, wording included', () => {
    const embedder = createLexicalEmbedder();
    assert.equal(embedder.defaultThreshold, LEXICAL_PROFILE.threshold);
    assert.deepEqual([...(embedder.gates ?? [])], [...ALL_GATES]);
  });

  it('the neural profile keeps the gates for what sentence encoders blur and drops the wording gates', () => {
    for (const gate of ['code', 'numbers', 'identifiers', 'symbols', 'case', 'negation', 'tech', 'names', 'contrast', 'order'] as const) assert.ok(TRANSFORMERS_PROFILE.gates.has(gate), gate);
    for (const gate of ['wording', 'question', 'detail'] as const) assert.ok(!TRANSFORMERS_PROFILE.gates.has(gate), gate);
    assert.ok(TRANSFORMERS_PROFILE.threshold >= 0.95, 'uncalibrated: a conservative threshold');
  });

  it('under the neural profile every operator, symbol, case, number, identifier, code and negation pair is still rejected', () => {
    const kept = pairs.filter((pair) => ['operators', 'symbols', 'case', 'numbers', 'identifiers', 'paths', 'code', 'negation', 'tech'].includes(pair.category));
    const served = kept.filter((pair) => checkGates(gateSignature(pair.a), gateSignature(pair.b), { gates: TRANSFORMERS_PROFILE.gates }) === undefined);
    assert.deepEqual(served, []);
  });

  it('under the neural profile a reworded paraphrase passes the gates (the encoder decides)', () => {
    const gate = (a: string, b: string): string | undefined => checkGates(gateSignature(a), gateSignature(b), { gates: TRANSFORMERS_PROFILE.gates });
    assert.equal(gate('How can I learn Python fast?', 'What is the quickest way to learn Python?'), undefined);
    assert.equal(checkGates(gateSignature('How can I learn Python fast?'), gateSignature('What is the quickest way to learn Python?'), { gates: LEXICAL_PROFILE.gates }), 'question');
  });
});
