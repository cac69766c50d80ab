// ISARTOR_LOG_LEVEL: the four levels (in any case), and a value that is none of them said, not silently read as info.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLevelFrom } from '../../src/cli/logLevel';

test('the four levels, any case; unset is info without a word', () => {
  assert.deepEqual(logLevelFrom(undefined), { level: 'info' });
  assert.deepEqual(logLevelFrom(''), { level: 'info' });
  assert.deepEqual(logLevelFrom('debug'), { level: 'debug' });
  assert.deepEqual(logLevelFrom('DEBUG'), { level: 'debug' });
  assert.deepEqual(logLevelFrom('error'), { level: 'error' });
});

test('anything else logs at info and says why', () => {
  const { level, problem } = logLevelFrom('verbose');
  assert.equal(level, 'info');
  assert.match(problem ?? '', /ISARTOR_LOG_LEVEL="verbose" is not one of debug, info, warn, error/);
});
