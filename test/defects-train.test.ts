/**
 * Issue 14, training and new-user items: each test failed on the code before its fix.
 * Runs are tiny (test/train-fixture.ts); one trained attention run serves the translate, eval and
 * plot tests.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import { Command } from 'commander';
import { initBackend } from '../src/backend/index.ts';
import { listCheckpoints, loadCheckpoint } from '../src/checkpoint/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { train } from '../src/train/trainer.ts';
import { UserError } from '../src/errors.ts';
import { MT_BIN, REPO_ROOT, runMt, runMtAsync, tempDir } from './helpers/cli.ts';
import { quietLog, readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

/** A tiny run trained in-process for `steps` steps, validated (and checkpointed) every `validEvery`. */
async function trainedRun(model: object, steps: number, validEvery: number): Promise<RunDir> {
  const run = await tinyRun(tinyConfig(model, { max_steps: steps, valid_every: validEvery }));
  await train(run, { log: quietLog() });
  return run;
}

/** `mt ARGS` as a child whose signals the test sends; resolves with the exit code once it ends. */
function startMt(args: string[]) {
  const child = spawn(process.execPath, [MT_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MT_THREADS: '1' } });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

async function waitFor(ready: () => boolean, what: () => string, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    assert.ok(Date.now() < deadline, `timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The one `mt: error:` line and no stack trace. */
function assertOneErrorLine(stderr: string): string {
  const errors = stderr.split('\n').filter((l) => l.startsWith('mt: '));
  assert.equal(errors.length, 1, stderr);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  return errors[0]!;
}

describe('issue 14: exploding loss (item 1)', () => {
  it('a learning rate of 1e10 stops at the exploding loss with exit 2 and what to change, keeping the last good checkpoint', async () => {
    const run = await trainedRun(TINY_MODELS.seq2seq, 2, 2);
    const r = await runMtAsync([
      'train', '--run', run.root, '--backend', 'wasm', '--force',
      '--set', 'train.learning_rate=1e10', '--set', 'train.max_steps=12', '--set', 'train.valid_every=3',
    ]);
    assert.equal(r.code, 2, r.stderr);
    const line = assertOneErrorLine(r.stderr);
    assert.match(line, /^mt: error: step \d+: .*training stopped \(the last good checkpoint is .*step-000002\)/);
    assert.match(line, /lower train\.learning_rate \(now 1e\+?10\)/i);
    assert.deepEqual(listCheckpoints(RunDir.open(run.root)).map((c) => c.step), [2]);
  });
});

describe('issue 14: SIGTERM (item 2)', () => {
  it('SIGTERM during mt train saves a checkpoint, releases the lock and exits 143', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.seq2seq, { max_steps: 100000, valid_every: 100000 }));
    const { child, out, exited } = startMt(['--json', 'train', '--run', run.root, '--backend', 'wasm']);
    await waitFor(() => readMetrics(run).length >= 3 || child.exitCode !== null, () => out.stderr);
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 143, out.stderr);
    assert.match(out.stderr, /SIGTERM.*saving a checkpoint after this step/);
    const summary = JSON.parse(out.stdout) as { stopped: string; step: number };
    assert.equal(summary.stopped, 'interrupted');
    const last = await loadCheckpoint(RunDir.open(run.root), 'last');
    assert.equal(last.step, summary.step);
    last.model.dispose();
    assert.ok(!fs.existsSync(path.join(run.root, '.lock')), 'the lock is released');
  });

  it('SIGTERM during mt quickstart training saves a checkpoint and exits 143', async () => {
    const root = path.join(tempDir('mt-defects-'), 'qs');
    const { child, out, exited } = startMt([
      'quickstart', '--run', root, '--pairs', '300', '--max-words', '10', '--backend', 'wasm',
      '--set', 'train.max_steps=100000', '--set', 'train.valid_every=100000', '--set', 'train.log_every=1',
      '--set', 'subword.vocab_size=400', '--set', 'model.hidden_size=32', '--set', 'model.emb_size=16',
    ]);
    const metrics = path.join(root, 'logs', 'metrics.jsonl');
    const lines = () => (fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').split('\n').filter(Boolean).length : 0);
    await waitFor(() => lines() >= 2 || child.exitCode !== null, () => out.stderr);
    child.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 143, out.stderr);
    assert.doesNotMatch(out.stderr, /internal error/);
    assert.ok(listCheckpoints(RunDir.open(root)).length >= 1, 'a checkpoint was saved');
  });
});

describe('issue 14: training longer (item 3)', () => {
  it('raising train.max_steps on a finished run trains further without --force; "nothing to do" names the flag', async () => {
    const run = await trainedRun(TINY_MODELS.seq2seq, 2, 2);
    const again = runMt(['train', '--run', run.root, '--backend', 'wasm']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /nothing to do; to train further: mt train --run \S+ --set train\.max_steps=4\n/);

    const longer = runMt(['--json', 'train', '--run', run.root, '--backend', 'wasm', '--set', 'train.max_steps=4']);
    assert.equal(longer.code, 0, longer.stderr);
    assert.equal((JSON.parse(longer.stdout) as { step: number }).step, 4);
    assert.equal(RunDir.open(run.root).config.train.max_steps, 4, 'config.yaml records the new limit');

    // Lowering a limit or changing anything else is still a different experiment.
    for (const set of ['train.max_steps=3', 'train.learning_rate=0.1']) {
      const refused = runMt(['train', '--run', run.root, '--backend', 'wasm', '--set', set]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--force/);
    }
    assert.equal(RunDir.open(run.root).config.train.max_steps, 4);
  });
});

describe('issue 14: translate, eval and plots on a trained run', () => {
  let run: RunDir;
  let input: string;
  before(async () => {
    run = await trainedRun(TINY_MODELS.attention, 4, 2);
    for (const side of ['src', 'tgt']) fs.copyFileSync(run.path('data', `valid.${side}`), run.path('data', `test.${side}`));
    input = path.join(tempDir('mt-defects-'), 'in.txt');
    fs.writeFileSync(input, 'ka lo mi\n\nnu pe ri so\n');
  });

  it('translate names the checkpoint it used and why (item 4)', () => {
    const best = JSON.parse(fs.readFileSync(run.path('checkpoints', 'best.json'), 'utf8')) as { checkpoint: string; best: { step: number } };
    const out = path.join(tempDir('mt-defects-'), 'out.txt');
    const r = runMt(['translate', '--run', run.root, '-i', input, '-o', out, '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`checkpoint ${best.checkpoint} \\(the best on validation BLEU, [\\d.]+ at step ${best.best.step}[;)]`));

    const quiet = runMt(['--quiet', 'translate', '--run', run.root, '-i', input, '-o', out, '--backend', 'wasm']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
  });

  it('translate --checkpoint with an absolute path shows that path, in --json too (item 4)', () => {
    const dir = run.path('checkpoints', 'step-000004');
    const out = path.join(tempDir('mt-defects-'), 'out.txt');
    const r = runMt(['--json', 'translate', '--run', run.root, '-i', input, '-o', out, '--backend', 'wasm', '--checkpoint', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stderr.includes(`checkpoint ${dir} (given by --checkpoint)`), r.stderr);
    const result = JSON.parse(r.stdout) as { checkpoint: { path: string; step: number; why: string } };
    assert.deepEqual(result.checkpoint, { path: dir, step: 4, why: 'given by --checkpoint' });

    const missing = path.join(tempDir('mt-defects-'), 'step-000009');
    const bad = runMt(['translate', '--run', run.root, '-i', input, '-o', out, '--backend', 'wasm', '--checkpoint', missing]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr, `mt: error: ${missing}: no such checkpoint\n`);
  });

  it('one piped line is decoded without starting worker threads (item 5)', () => {
    const r = runMt(['translate', '--run', run.root, '--backend', 'wasm', '--threads', '2'], { input: 'ka lo mi\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.split('\n').length, 2, r.stdout);
    assert.doesNotMatch(r.stderr, /on 2 threads/);
  });

  it('decode workers start only with enough sentences per worker (item 5)', async () => {
    const { decodeWorkers, MIN_SENTENCES_PER_WORKER: min } = await import('../src/decode/parallel.ts');
    assert.ok(min >= 16, `${min}`);
    assert.equal(decodeWorkers(2, 1, 32), 1);
    assert.equal(decodeWorkers(2, 2 * min - 1, 32), 1);
    assert.equal(decodeWorkers(2, 2 * min, 32), 2);
    assert.equal(decodeWorkers(8, 3 * min, 32), 3);
    assert.equal(decodeWorkers(2, Infinity, 32), 2);
    // No more workers than batches.
    assert.equal(decodeWorkers(4, 4 * min, 4 * min), 1);
  });

  it('mt info reports the threads translate and train would use (item 5)', () => {
    const r = runMt(['--json', 'info', '--backend', 'wasm'], { env: { MT_THREADS: '2' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { threads: number }).threads, 2);
    const text = runMt(['info', '--backend', 'wasm'], { env: { MT_THREADS: '2' } });
    assert.match(text.stdout, /threads: +2\b/);
  });

  it('mt eval --run writes scores/by-length.json, which mt plot length reads (item 6)', () => {
    fs.mkdirSync(run.path('translations'), { recursive: true });
    fs.copyFileSync(run.path('data', 'test.tgt'), run.path('translations', 'test.hyp'));
    const r = runMt(['eval', '--run', run.root]);
    assert.equal(r.code, 0, r.stderr);
    const buckets = JSON.parse(fs.readFileSync(run.path('scores', 'by-length.json'), 'utf8')) as { bucket: string; score: number }[];
    // The hypotheses are the references: 100 in every bucket.
    assert.ok(buckets.length > 0 && buckets.every((b) => Math.abs(b.score - 100) < 1e-9), JSON.stringify(buckets));
    const plot = runMt(['plot', 'length', '--runs', run.root]);
    assert.equal(plot.code, 0, plot.stderr);
    assert.ok(fs.existsSync(run.path('plots', 'bleu-by-length.svg')));
  });

  it('mt plot attention on an empty line says the line is empty (item 7)', () => {
    const dir = tempDir('mt-defects-');
    const att = path.join(dir, 'att.jsonl');
    const r = runMt(['translate', '--run', run.root, '-i', input, '-o', path.join(dir, 'out.txt'), '--attention', att, '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    const plot = runMt(['plot', 'attention', '--run', run.root, '--input', att, '--index', '1']);
    assert.equal(plot.code, 2, plot.stderr);
    const line = assertOneErrorLine(plot.stderr);
    assert.match(line, /att\.jsonl:2: .*empty/);
    assert.doesNotMatch(line, /attention model/);
  });
});

describe('issue 14: small ones (item 7)', () => {
  it('--json --version prints {"version": …}', () => {
    const plain = runMt(['--version']);
    assert.equal(plain.code, 0);
    assert.match(plain.stdout, /^\d+\.\d+\.\d+\n$/);
    for (const args of [['--json', '--version'], ['--version', '--json']]) {
      const r = runMt(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { version: plain.stdout.trim() });
    }
  });

  it("character_coverage 0.01 gets advice within the schema's bounds", async () => {
    const config = tinyConfig(TINY_MODELS.seq2seq);
    (config.subword as Record<string, unknown>).character_coverage = 0.01;
    await assert.rejects(tinyRun(config), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /raise subword\.character_coverage \(now 0\.01\)/);
      // Any vocab_size it advises must be one the schema accepts (at least 8).
      for (const m of e.message.matchAll(/vocab_size to (\d+)/g)) assert.ok(Number(m[1]) >= 8, e.message);
      return true;
    });
  });

  it('mt --version loads no command module, mt info only its own; mt --help still lists every command', async () => {
    const dir = tempDir('mt-defects-');
    const log = path.join(dir, 'loaded.txt');
    const hooks = path.join(dir, 'hooks.mjs');
    fs.writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';\n` +
        `export async function load(url, context, next) {\n` +
        `  if (url.includes('/src/cli/commands/')) appendFileSync(${JSON.stringify(log)}, url.slice(url.lastIndexOf('/') + 1) + '\\n');\n` +
        `  return next(url, context);\n}\n`,
    );
    const preload = path.join(dir, 'preload.mjs');
    fs.writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const loaded = (args: string[]): string[] => {
      fs.rmSync(log, { force: true });
      const r = runMt(args, { nodeArgs: ['--import', preload] });
      assert.equal(r.code, 0, r.stderr);
      return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).sort() : [];
    };
    assert.deepEqual(loaded(['--version']), []);
    assert.deepEqual(loaded(['--json', 'info', '--backend', 'wasm']), ['info.ts']);

    // Every command's real description, from its module, is in the lazy help.
    const help = runMt(['--help']);
    assert.equal(help.code, 0);
    const full = new Command('mt');
    const modules = fs.readdirSync(path.join(REPO_ROOT, 'src', 'cli', 'commands'));
    for (const file of modules) {
      const mod = (await import(`../src/cli/commands/${file}`)) as Record<string, unknown>;
      for (const [name, fn] of Object.entries(mod)) if (name.startsWith('register') && typeof fn === 'function') (fn as (c: Command) => void)(full);
    }
    const listed = full.commands.filter((c) => !['fetch', 'generate'].includes(c.name()));
    assert.ok(listed.length >= 10, `${listed.length} commands`);
    const words = (text: string) => text.replace(/\s+/g, ' ');
    for (const c of listed) {
      assert.ok(words(help.stdout).includes(` ${c.name()} ${words(c.description())}`), `${c.name()}: "${c.description()}" missing from\n${help.stdout}`);
    }
  });
});
