// The connected / suspended tool lists in their file beside the journal: a tool is in one list at
// most, the lists survive a new ConnectedTools on the same file (a new activation), every change is
// on disk when the call returns (deactivate cannot await a Memento), and the old globalState lists
// are read until the file exists.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { SyncFiles } from '../../../src/extension/integrations/atomicFile';
import { CONNECTED_TOOLS_KEY, ConnectedTools, SUSPENDED_TOOLS_KEY, toolStateFile } from '../../../src/extension/lifecycle/connectedTools';

let dir = '';
let file = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'isartor-tools-'));
  file = toolStateFile(join(dir, 'global-storage'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const onDisk = (): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe('ConnectedTools', () => {
  it('moves a tool from connected to suspended and back, each id in one list only, synchronously on disk', () => {
    const tools = new ConnectedTools(file);
    tools.mark('continue', true);
    tools.mark('claude', true);
    tools.suspend('claude');
    assert.deepEqual(tools.connected(), ['continue']);
    assert.deepEqual(tools.suspended(), ['claude']);
    assert.deepEqual(onDisk(), { version: 1, connected: ['continue'], suspended: ['claude'] }, 'written before suspend() returned');
    assert.equal(statSync(file).mode & 0o777, 0o600);

    const nextActivation = new ConnectedTools(file);
    assert.deepEqual(nextActivation.suspended(), ['claude']);
    nextActivation.mark('claude', true);
    assert.deepEqual(onDisk(), { version: 1, connected: ['continue', 'claude'], suspended: [] });
  });

  it('forgets a suspended tool when it is marked disconnected', () => {
    const tools = new ConnectedTools(file);
    tools.mark('claude', true);
    tools.suspend('claude');
    tools.mark('claude', false);
    assert.deepEqual(tools.connected(), []);
    assert.deepEqual(tools.suspended(), []);
  });

  it('reads the lists an older version kept in globalState until the file exists, then only the file', () => {
    const legacy = new Map<string, unknown>([
      [CONNECTED_TOOLS_KEY, ['claude', 7, null]],
      [SUSPENDED_TOOLS_KEY, 'continue'],
    ]);
    const memento = { get: <T>(key: string) => legacy.get(key) as T | undefined };
    const tools = new ConnectedTools(file, memento);
    assert.deepEqual(tools.connected(), ['claude'], 'malformed ids skipped');
    assert.deepEqual(tools.suspended(), []);
    tools.mark('continue', true);
    assert.deepEqual(new ConnectedTools(file, memento).connected(), ['claude', 'continue']);
  });

  it('treats an unreadable file as nothing marked, and rewrites it whole on the next change', () => {
    const tools = new ConnectedTools(file);
    tools.mark('claude', true);
    writeFileSync(file, '{"connected": ["cla');
    assert.deepEqual(tools.connected(), []);
    tools.mark('continue', true);
    assert.deepEqual(onDisk(), { version: 1, connected: ['continue'], suspended: [] });
  });

  it('fsyncs the new file before renaming it over tools.json, then the folder: a power cut leaves the old lists or the new, never zeros', () => {
    const calls: string[] = [];
    const folder = join(dir, 'global-storage');
    const paths = new Map<number, string>();
    const name = (path: string): string => (path === folder ? '<dir>' : path.slice(folder.length + 1).replace(/isartor-tmp-[0-9a-f]+$/, 'isartor-tmp'));
    // Node's own calls, each noted before it runs.
    const recording: SyncFiles = {
      openSync: (path, flags, mode) => {
        const fd = fs.openSync(path, flags, mode);
        paths.set(fd, name(path));
        calls.push(`open ${name(path)}`);
        return fd;
      },
      writeFileSync: (fd, data) => {
        calls.push(`write ${paths.get(fd)}`);
        fs.writeFileSync(fd, data);
      },
      fsyncSync: (fd) => {
        calls.push(`fsync ${paths.get(fd)}`);
        fs.fsyncSync(fd);
      },
      closeSync: (fd) => {
        calls.push(`close ${paths.get(fd)}`);
        fs.closeSync(fd);
      },
      renameSync: (from, to) => {
        calls.push(`rename ${name(from)} -> ${name(to)}`);
        fs.renameSync(from, to);
      },
      unlinkSync: (path) => {
        calls.push(`unlink ${name(path)}`);
        fs.unlinkSync(path);
      },
    };
    const tools = new ConnectedTools(file, undefined, recording);
    tools.mark('claude', true);
    const temp = '.tools.json.isartor-tmp';
    assert.deepEqual(calls, [`open ${temp}`, `write ${temp}`, `fsync ${temp}`, `close ${temp}`, `rename ${temp} -> tools.json`, 'open <dir>', 'fsync <dir>', 'close <dir>']);
    assert.deepEqual(onDisk(), { version: 1, connected: ['claude'], suspended: [] });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(folder), ['tools.json'], 'no temporary left behind');
  });
});
