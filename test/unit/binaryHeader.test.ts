// The executable-header reader the per-platform .vsix test relies on, on real binaries that npm ci
// installs (every platform's onnxruntime-node and usearch builds ship in their packages).
import assert from 'node:assert/strict';
import { openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { binaryKind } from '../e2e/binaryHeader';

const MODULES = join(__dirname, '..', '..', 'node_modules');

function head(path: string): Buffer {
  const buffer = Buffer.alloc(4096);
  const fd = openSync(join(MODULES, path), 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0));
  } finally {
    closeSync(fd);
  }
}

test('ELF, Mach-O (thin and universal) and PE headers name their architecture', () => {
  assert.deepEqual(binaryKind(head('onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node')), { format: 'elf', archs: ['x64'] });
  assert.deepEqual(binaryKind(head('onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node')), { format: 'elf', archs: ['arm64'] });
  assert.deepEqual(binaryKind(head('onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node')), { format: 'macho', archs: ['arm64'] });
  assert.deepEqual(binaryKind(head('usearch/prebuilds/darwin-arm64+x64/usearch.node'))?.archs.sort(), ['arm64', 'x64']);
  assert.deepEqual(binaryKind(head('onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime_binding.node')), { format: 'pe', archs: ['x64'] });
  assert.deepEqual(binaryKind(head('onnxruntime-node/bin/napi-v6/win32/arm64/onnxruntime_binding.node')), { format: 'pe', archs: ['arm64'] });
});

test('text, JSON and short files are not executables', () => {
  assert.equal(binaryKind(Buffer.from('MZ is how this text starts, but it has no PE header at all, not even close to one.')), undefined);
  assert.equal(binaryKind(head('usearch/package.json')), undefined);
  assert.equal(binaryKind(Buffer.from([0x7f, 0x45])), undefined);
});
