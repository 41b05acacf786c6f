/** `mt train` as a user runs it: Ctrl-C saves a loadable checkpoint and exits 130; missing stages are named. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { MT_BIN, REPO_ROOT, runMt, tempDir } from './helpers/cli.ts';
import { readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

describe('mt train', () => {
  it('SIGINT during data-parallel training (2 threads) saves a checkpoint that loads, and exits 130', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.seq2seq, { max_steps: 100000, valid_every: 100000 }));
    const child = spawn(process.execPath, [MT_BIN, '--json', 'train', '--run', run.root, '--backend', 'wasm', '--threads', '2'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    // Interrupt once a few steps are done.
    const deadline = Date.now() + 120_000;
    while (readMetrics(run).length < 3) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `training did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGINT');
    const code = await exited;

    assert.equal(code, 130, stderr);
    assert.match(stderr, /data-parallel on 2 threads/);
    assert.match(stderr, /interrupted: saving a checkpoint after this step/);
    const summary = JSON.parse(stdout) as { stopped: string; step: number; checkpoint: string };
    assert.equal(summary.stopped, 'interrupted');
    assert.ok(summary.step >= 3);
    const loaded = await loadCheckpoint(RunDir.open(run.root), 'last');
    assert.equal(loaded.step, summary.step);
    assert.equal(loaded.dir, summary.checkpoint);
    assert.equal(loaded.state.validation, null);
    loaded.model.dispose();
    assert.equal(RunDir.open(run.root).readManifest().stages.train, undefined, 'an interrupted run is not a finished stage');
  });

  it('exits 2 on a bad --threads or MT_THREADS, before touching the run directory', () => {
    const dir = tempDir('mt-train-cli-');
    const config = path.join(dir, 'exp.yaml');
    fs.writeFileSync(config, JSON.stringify(tinyConfig(TINY_MODELS.seq2seq)));
    const flag = runMt(['train', '-c', config, '--run', path.join(dir, 'run'), '--threads', '0']);
    assert.equal(flag.code, 2, flag.stderr);
    assert.equal(flag.stderr, "mt: error: --threads: expected auto or a whole number from 1 to 64, got '0'\n");
    const env = runMt(['train', '-c', config, '--run', path.join(dir, 'run')], { env: { MT_THREADS: 'two' } });
    assert.equal(env.code, 2, env.stderr);
    assert.match(env.stderr, /^mt: error: MT_THREADS: expected auto/);
    assert.ok(!fs.existsSync(path.join(dir, 'run')));
  });

  it('exits 2 naming the stage to run when the prepared data is missing', () => {
    const dir = tempDir('mt-train-cli-');
    const config = path.join(dir, 'exp.yaml');
    fs.writeFileSync(config, JSON.stringify(tinyConfig(TINY_MODELS.seq2seq)));
    const r = runMt(['train', '-c', config, '--run', path.join(dir, 'run'), '--backend', 'wasm']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^mt: error: .*data\/train\.src: missing; run `mt prepare` on this run directory first\n$/);
  });
});
