import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { acquireRunLock } from '../src/run/lock.ts';
import { tempDir } from './helpers/cli.ts';

describe('run directory lock', () => {
  it('a second holder is refused with the owner named, and can take it after release', () => {
    const dir = tempDir();
    const lock = acquireRunLock(dir, 'train');
    const lockFile = JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8')) as { pid: number; stage: string };
    assert.equal(lockFile.pid, process.pid);
    // Same pid is alive, so a second acquisition is refused.
    assert.throws(() => acquireRunLock(dir, 'train'), new RegExp(`in use by mt train \\(pid ${process.pid} `));
    lock.release();
    assert.ok(!fs.existsSync(path.join(dir, '.lock')));
    acquireRunLock(dir, 'translate').release();
  });

  it('recovers a stale lock left by a process that no longer exists', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    fs.writeFileSync(
      path.join(dir, '.lock'),
      JSON.stringify({ pid: deadPid, host: (await import('node:os')).hostname(), stage: 'train', started_at: 'then' }),
    );
    const lock = acquireRunLock(dir, 'train');
    assert.equal((JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8')) as { pid: number }).pid, process.pid);
    lock.release();
  });

  it('treats an unreadable lock file as stale', () => {
    const dir = tempDir();
    const file = path.join(dir, '.lock');
    fs.writeFileSync(file, 'garbage');
    const lock = acquireRunLock(dir, 'train');
    // The garbage was replaced by this process's own lock, which now holds: a second holder is refused.
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; host: string; stage: string };
    assert.deepEqual([owner.pid, owner.host, owner.stage], [process.pid, os.hostname(), 'train']);
    assert.throws(() => acquireRunLock(dir, 'translate'), new RegExp(`in use by mt train \\(pid ${process.pid} `));
    lock.release();
    assert.ok(!fs.existsSync(file));
  });
});

describe('stages take the run directory lock', () => {
  it('a second mt train on the same run directory refuses while the first holds it', async () => {
    const { parseConfigText } = await import('../src/config/load.ts');
    const { RunDir } = await import('../src/run/rundir.ts');
    const { minimalConfigYaml, runMt } = await import('./helpers/cli.ts');
    const root = path.join(tempDir(), 'run');
    RunDir.create(root, parseConfigText(minimalConfigYaml(), path.join(root, '..', 'exp.yaml')));
    const held = acquireRunLock(root, 'train');
    try {
      for (const stage of ['train', 'prepare', 'vocab']) {
        const r = runMt([stage, '--run', root]);
        assert.equal(r.code, 2, `${stage}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^mt: error: .*run directory is in use by mt train \\(pid ${process.pid} `));
      }
    } finally {
      held.release();
    }
  });
});
