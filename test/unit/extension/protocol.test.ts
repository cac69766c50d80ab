import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ClearCacheCommand,
  createMessage,
  emptySummary,
  GetSnapshotRequest,
  isMessageOf,
  parseWebviewMessage,
  SetEnabledCommand,
  SetLayerCommand,
  SnapshotNotification,
} from '../../../webview/protocol';

describe('webview protocol', () => {
  it('accepts every well-formed webview message', () => {
    for (const message of [
      createMessage(ClearCacheCommand, '1', {}),
      createMessage(SetLayerCommand, '2', { layer: 'semantic', enabled: false }),
      createMessage(SetEnabledCommand, '3', { enabled: true }),
      createMessage(GetSnapshotRequest, '4', {}),
    ]) {
      assert.deepEqual(parseWebviewMessage(JSON.parse(JSON.stringify(message))), message);
    }
  });

  it('narrows params by message type', () => {
    const message = parseWebviewMessage({ id: 'a', method: 'isartor/setLayer', params: { layer: 'exact', enabled: true } });
    assert.ok(message && isMessageOf(message, SetLayerCommand));
    assert.equal(message.params.layer, 'exact');
    assert.equal(isMessageOf(message, SetEnabledCommand), false);
  });

  it('rejects unknown methods, bad params and junk', () => {
    const rejected = [
      null,
      'isartor/clearCache',
      { method: 'isartor/clearCache', params: {} },
      { id: '', method: 'isartor/clearCache' },
      { id: 'x'.repeat(101), method: 'isartor/clearCache' },
      { id: '1', method: 'isartor/deleteEverything', params: {} },
      { id: '1', method: 'toString', params: {} },
      { id: '1', method: '__proto__', params: {} },
      { id: '1', method: 'isartor/setLayer', params: { layer: 'upstream', enabled: false } },
      { id: '1', method: 'isartor/setLayer', params: { layer: 'exact', enabled: 'no' } },
      { id: '1', method: 'isartor/setEnabled', params: [true] },
      { id: '1', method: SnapshotNotification.method, params: emptySummary() },
    ];
    for (const raw of rejected) assert.equal(parseWebviewMessage(raw), undefined, JSON.stringify(raw));
  });

  it('treats missing params of parameterless commands as empty', () => {
    assert.deepEqual(parseWebviewMessage({ id: '9', method: 'isartor/showLog' }), { id: '9', method: 'isartor/showLog', params: {} });
  });
});
