/**
 * What a coding agent resends on every turn, for `bench overhead --history-kb`: an instruction
 * file and the turns so far, the same on each request, ahead of the one new question. Agents'
 * requests run to tens or hundreds of kilobytes, and the proxy's work on a miss grows with them.
 * Like most real instruction files (132 of the 233 in ../shared/eval's sample), it holds a few
 * characters outside ASCII (dashes, arrows, a check mark), which decide how fast Node decodes it.
 */
import { answerText, QUESTION_SPACE, questionText } from './questions';

const INSTRUCTIONS = [
  '# Project instructions',
  '',
  '- Use TypeScript strict mode — no `any` unless a comment says why.',
  '- Tests live next to the code they test; run `npm test` before a commit ✓',
  '- Errors → the API’s own error shape, with the right HTTP status.',
  '- Keep modules small: one job each, names that explain themselves.',
  '',
].join('\n');

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * About `kb` kilobytes of turns (never fewer than the instructions): the system message, then
 * question and answer pairs from the top of questions.ts's space, far from the indexes a benchmark counts up from.
 *
 * @example agentHistory(100).length // 1 system turn + ~2 × 48 turns
 */
export function agentHistory(kb: number): ChatTurn[] {
  const turns: ChatTurn[] = [{ role: 'system', content: INSTRUCTIONS }];
  let bytes = Buffer.byteLength(INSTRUCTIONS);
  for (let index = QUESTION_SPACE - 1; bytes < kb * 1024; index--) {
    const question = questionText(index);
    const answer = answerText(index);
    turns.push({ role: 'user', content: question }, { role: 'assistant', content: answer });
    bytes += Buffer.byteLength(question) + Buffer.byteLength(answer);
  }
  return turns;
}
