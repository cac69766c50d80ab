import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ORT_TELEMETRY_OPT_OUTS, optOutOfOnnxRuntimeTelemetry } from '../../../src/core/embed/onnxTelemetry';

test('both of onnxruntime\'s opt-out variables are set to 1 when the user set neither', () => {
  const env: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
  optOutOfOnnxRuntimeTelemetry(env);
  assert.deepEqual(env, { PATH: '/usr/bin', ORT_DISABLE_TELEMETRY: '1', ORT_TELEMETRY_DISABLED: '1' });
  assert.deepEqual([...ORT_TELEMETRY_OPT_OUTS].sort(), ['ORT_DISABLE_TELEMETRY', 'ORT_TELEMETRY_DISABLED']);
});

test('a value the user gave either variable is left as it is', () => {
  for (const name of ORT_TELEMETRY_OPT_OUTS) {
    const env: NodeJS.ProcessEnv = { [name]: '0' };
    optOutOfOnnxRuntimeTelemetry(env);
    assert.deepEqual(env, { [name]: '0' });
  }
});
