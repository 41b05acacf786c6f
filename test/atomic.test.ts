import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { replaceDirAtomic, writeFileAtomic } from '../src/util/atomic.ts';
import { REPO_ROOT, tempDir } from './helpers/cli.ts';

describe('atomic writes', () => {
  it('replaces the file content', () => {
    const file = path.join(tempDir(), 'sub', 'a.txt');
    writeFileAtomic(file, 'one');
    writeFileAtomic(file, 'two');
    assert.equal(fs.readFileSync(file, 'utf8'), 'two');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a.txt'], 'no temp files left');
  });

  it('leaves the old file intact when the write fails before the rename', () => {
    const file = path.join(tempDir(), 'a.txt');
    writeFileAtomic(file, 'old content');
    assert.throws(() =>
      writeFileAtomic(file, 'new content', {
        beforeRename: () => {
          throw new Error('simulated failure');
        },
      }),
    );
    assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['a.txt']);
  });

  it('leaves the old file intact when the process is killed mid-write', () => {
    const dir = tempDir();
    const file = path.join(dir, 'weights.bin');
    writeFileAtomic(file, 'old content');
    // A child process writes 8 MB and is SIGKILLed after the temp file is written, before the rename.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(path.join(REPO_ROOT, 'src/util/atomic.ts'))};
      writeFileAtomic(${JSON.stringify(file)}, new Uint8Array(8 << 20).fill(7), {
        beforeRename: () => process.kill(process.pid, 'SIGKILL'),
      });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(fs.readFileSync(file, 'utf8'), 'old content');
    const leftovers = fs.readdirSync(dir).filter((f) => f !== 'weights.bin');
    assert.equal(leftovers.length, 1, 'the killed write leaves only its temp file');
    assert.match(leftovers[0]!, /^\.weights\.bin\..*\.tmp$/);
  });

  it('replaces a directory as a whole', () => {
    const dir = path.join(tempDir(), 'ckpt');
    replaceDirAtomic(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'a'), '1'));
    assert.throws(() =>
      replaceDirAtomic(dir, (tmp) => {
        fs.writeFileSync(path.join(tmp, 'a'), '2');
        throw new Error('crash while filling');
      }),
    );
    assert.equal(fs.readFileSync(path.join(dir, 'a'), 'utf8'), '1');
    replaceDirAtomic(dir, (tmp) => fs.writeFileSync(path.join(tmp, 'b'), '3'));
    assert.deepEqual(fs.readdirSync(dir), ['b']);
    assert.deepEqual(fs.readdirSync(path.dirname(dir)), ['ckpt']);
  });
});
