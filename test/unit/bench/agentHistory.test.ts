import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentHistory } from '../../../src/bench/agentHistory';

const bytesOf = (turns: ReturnType<typeof agentHistory>): number => turns.reduce((sum, turn) => sum + Buffer.byteLength(turn.content), 0);

test('agentHistory is about the asked size: instructions, then question and answer pairs', () => {
  for (const kb of [8, 100]) {
    const turns = agentHistory(kb);
    assert.ok(bytesOf(turns) >= kb * 1024 && bytesOf(turns) < kb * 1024 + 4096, `${kb} KB: ${bytesOf(turns)} bytes`);
    assert.equal(turns[0]!.role, 'system');
    turns.slice(1).forEach((turn, i) => assert.equal(turn.role, i % 2 === 0 ? 'user' : 'assistant'));
  }
  assert.deepEqual(agentHistory(0).map((turn) => turn.role), ['system']);
});

test('agentHistory is the same on every call, and holds characters outside ASCII like real instruction files', () => {
  assert.deepEqual(agentHistory(20), agentHistory(20));
  assert.match(agentHistory(0)[0]!.content, /[^\x00-\x7f]/);
});
