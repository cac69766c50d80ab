// Triage decisions from label probabilities, the classification prompt, and label matching for servers' top_logprobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelProbabilitiesFromTopLogprobs } from '../../../src/core/local/openaiBackend';
import { buildTriagePrompt, decideTriage, describeDecision, TRIAGE_LABELS, triage } from '../../../src/core/local/triage';
import { ScriptedEngine } from './helpers';

void test('answers locally only when SIMPLE wins and its own probability reaches the setting', () => {
  assert.equal(decideTriage(0.95, 0.04, 0.9).answerLocally, true);
  assert.equal(decideTriage(0.85, 0.1, 0.9).answerLocally, false, 'below the confidence setting');
  assert.equal(decideTriage(0.3, 0.6, 0.2).answerLocally, false, 'COMPLEX is likelier even though p(simple) passes a low setting');
  // Mass on neither label (the model did not follow the instruction) counts against answering.
  assert.equal(decideTriage(0.4, 0.01, 0.9).answerLocally, false);
  assert.equal(decideTriage(0.4, 0.01, 0.9).label, 'SIMPLE');
});

void test('the decision is described with its figures for the ledger', () => {
  assert.equal(describeDecision(decideTriage(0.1, 0.8, 0.9), 0.9), 'complex (p(simple)=0.100, p(complex)=0.800)');
  assert.equal(describeDecision(decideTriage(0.6, 0.3, 0.9), 0.9), 'low confidence (p(simple)=0.600, p(complex)=0.300 < 0.9)');
});

void test('the triage prompt carries the instruction and the whole conversation, bounded in size', () => {
  const prompt = buildTriagePrompt({ system: 'Be terse.', turns: [{ role: 'user', text: 'What is 2+2?' }, { role: 'assistant', text: '4' }, { role: 'user', text: 'And 3+3?' }] });
  assert.match(prompt.system ?? '', /Reply with exactly one word: SIMPLE or COMPLEX/);
  assert.equal(prompt.turns.length, 1);
  assert.match(prompt.turns[0]!.text, /\[system\]\nBe terse\.[\s\S]*\[user\]\nWhat is 2\+2\?[\s\S]*\[assistant\]\n4[\s\S]*\[user\]\nAnd 3\+3\?/);
  const long = buildTriagePrompt({ turns: [{ role: 'user', text: 'x'.repeat(20_000) }] });
  assert.ok(long.turns[0]!.text.length < 5_000);
});

void test('triage asks the engine for the two labels and decides on its answer', async () => {
  const engine = new ScriptedEngine({ labels: [0.97, 0.02] });
  const decision = await triage(engine, { turns: [{ role: 'user', text: 'pwd?' }] }, 0.9, new AbortController().signal);
  assert.deepEqual(decision, { label: 'SIMPLE', pSimple: 0.97, pComplex: 0.02, answerLocally: true });
  assert.match(engine.triagePrompts[0]!.turns[0]!.text, /pwd\?/);
  assert.deepEqual([...TRIAGE_LABELS], ['SIMPLE', 'COMPLEX']);
});

void test('top_logprobs tokens count for the label they uniquely start, whatever their case or spacing', () => {
  const [simple, complex] = labelProbabilitiesFromTopLogprobs(
    [
      { token: 'SIMPLE', logprob: Math.log(0.5) },
      { token: ' Simple', logprob: Math.log(0.1) },
      { token: 'COM', logprob: Math.log(0.2) },
      { token: ' ', logprob: Math.log(0.05) },
      { token: 'Sure', logprob: Math.log(0.05) },
    ],
    TRIAGE_LABELS,
  );
  assert.ok(Math.abs(simple - 0.6) < 1e-9);
  assert.ok(Math.abs(complex - 0.2) < 1e-9);
});
