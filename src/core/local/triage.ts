/**
 * Triage: asks the local model whether a request is SIMPLE or COMPLEX and reads the answer from the
 * model's next-token probabilities, so the confidence is the model's own rather than a sampled label.
 */
import type { LocalEngine, LocalPrompt } from './engine';

export const TRIAGE_LABELS = ['SIMPLE', 'COMPLEX'] as const;

/** Characters of the conversation shown to the classifier; eligibility already bounds the prompt. */
const MAX_TRIAGE_CHARS = 4000;

const TRIAGE_INSTRUCTION = [
  'You are a router in front of a large cloud AI model. Decide whether a small local model can answer the',
  "user's request correctly and completely on its own.",
  'SIMPLE: a short factual question, a one-line shell command, a small regex, a unit conversion, explaining a',
  'short error message, a definition, a tiny self-contained snippet.',
  'COMPLEX: anything that needs more than a few sentences or lines of code, multi-step reasoning, knowledge of',
  'a project, files or tools, careful design, long documents, or anything where a mistake would be costly.',
  'When unsure, choose COMPLEX.',
  'Reply with exactly one word: SIMPLE or COMPLEX.',
].join('\n');

/** The classification conversation: the instruction as system text and the request as one user turn. */
export function buildTriagePrompt(prompt: LocalPrompt): LocalPrompt {
  const transcript = [
    ...(prompt.system ? [`[system]\n${prompt.system}`] : []),
    ...prompt.turns.map((turn) => `[${turn.role}]\n${turn.text}`),
  ].join('\n\n');
  const shown = transcript.length > MAX_TRIAGE_CHARS ? `${transcript.slice(0, MAX_TRIAGE_CHARS)}\n[…]` : transcript;
  return {
    system: TRIAGE_INSTRUCTION,
    turns: [{ role: 'user', text: `Request to classify:\n<<<\n${shown}\n>>>\nIs this request SIMPLE or COMPLEX?` }],
  };
}

/** What the router decided, with the probabilities it was decided on. */
export interface TriageDecision {
  label: (typeof TRIAGE_LABELS)[number];
  /** Probability of SIMPLE as the model's next token (the confidence compared with the setting). */
  pSimple: number;
  pComplex: number;
  /** True when the request may be answered locally: `pSimple` reached the confidence setting. */
  answerLocally: boolean;
}

/**
 * Turns label probabilities into a decision. The local model answers only when SIMPLE is the more
 * likely label and its own probability reaches `confidence`: probability mass the model puts on
 * neither label (it did not understand the question) counts against answering.
 *
 * @example decideTriage(0.95, 0.03, 0.9) // { label: 'SIMPLE', pSimple: 0.95, pComplex: 0.03, answerLocally: true }
 */
export function decideTriage(pSimple: number, pComplex: number, confidence: number): TriageDecision {
  const label = pSimple > pComplex ? 'SIMPLE' : 'COMPLEX';
  return { label, pSimple, pComplex, answerLocally: label === 'SIMPLE' && pSimple >= confidence };
}

/** Runs the classification prompt through `engine` and decides. */
export async function triage(engine: LocalEngine, prompt: LocalPrompt, confidence: number, signal: AbortSignal): Promise<TriageDecision> {
  const [pSimple, pComplex] = await engine.labelProbabilities(buildTriagePrompt(prompt), TRIAGE_LABELS, signal);
  return decideTriage(pSimple, pComplex, confidence);
}

/** One line for the ledger and logs, e.g. "complex (p(simple)=0.12, p(complex)=0.81)". */
export function describeDecision(decision: TriageDecision, confidence: number): string {
  const figures = `p(simple)=${decision.pSimple.toFixed(3)}, p(complex)=${decision.pComplex.toFixed(3)}`;
  if (decision.answerLocally) return `simple (${figures})`;
  return decision.label === 'COMPLEX' ? `complex (${figures})` : `low confidence (${figures} < ${confidence})`;
}
