/**
 * Crash safety: `mt train`, `mt prepare` and `mt vocab` SIGKILLed at random (seeded) moments,
 * many of them in the middle of writing a checkpoint or an output folder. After every kill the
 * run directory must be usable as it stands (complete outputs or none, checkpoints that verify,
 * a stale lock that the next start takes over), and the restarted runs must end exactly where
 * uninterrupted ones do: the same losses at every step and bit-identical weights.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it, type TestContext } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { listCheckpoints, loadCheckpoint, readCheckpoint, verifyCheckpoint } from '../src/checkpoint/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { loadSubwords } from '../src/subword/index.ts';
import { Sfc32 } from '../src/util/random.ts';
import { runMtAsync, SHARED, tempDir } from './helpers/cli.ts';
import { missingShared } from './helpers/requirements.ts';
import { killOnEntry, lastLoggedStep, lockOwner, MtProcess, onEntry, readTree, sleep } from './helpers/crash.ts';
import { readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

const MAX_STEPS = 45;
const VALID_EVERY = 3;

/** How a start is ended: during startup, a few steps in, right as a validation's checkpoint is written, or on a file event of the save. */
type TrainKill = 'startup' | 'steps' | 'save' | 'entry';
/** File events of a checkpoint save, in checkpoints/: the folder being filled, renamed into place, the pointer being written, an old one pruned. */
const SAVE_ENTRIES = [/^\.step-\d+\..*\.tmp$/, /^step-\d+$/, /^\.last\.json\..*\.tmp$/, /^\.step-\d+\..*\.removed\.old$/];

interface AfterKill {
  /** Step of the newest checkpoint, 0 if none: where the next start must resume. */
  newest: number;
  /** Temporaries the kill left in checkpoints/ (a save was cut short). */
  temps: number;
}

/** What a killed training run leaves must be loadable as it is, with nothing half-written under a name the loader reads. */
async function checkTrainRun(root: string): Promise<AfterKill> {
  const run = RunDir.open(root); // manifest and config intact
  const dir = run.path('checkpoints');
  const entries = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  const temps = entries.filter((e) => e.startsWith('.'));
  for (const e of temps) assert.match(e, /^\..*\.(tmp|old)$/, 'only temporaries that the next start removes');
  for (const e of entries.filter((e) => !e.startsWith('.'))) assert.match(e, /^(step-\d{6}|last\.json|best\.json)$/);
  const all = listCheckpoints(run);
  for (const c of all) verifyCheckpoint(c.dir);
  for (const pointer of ['last.json', 'best.json'].filter((f) => entries.includes(f))) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, pointer), 'utf8')) as { checkpoint: string; step: number };
    assert.equal(readCheckpoint(path.join(dir, p.checkpoint)).state.step, p.step, `${pointer} names an intact checkpoint`);
  }
  for (const r of readMetrics(run)) assert.equal(typeof r.step, 'number'); // every line parses
  if (all.length === 0) return { newest: 0, temps: temps.length };
  const warnings: string[] = [];
  const loaded = await loadCheckpoint(run, 'last', { warn: (m) => warnings.push(m) });
  loaded.model.dispose();
  assert.deepEqual(warnings, [], 'no damaged checkpoint to skip');
  assert.equal(loaded.step, all.at(-1)!.step);
  return { newest: loaded.step, temps: temps.length };
}

/** The step a start said it resumed from (0: a fresh start). */
function resumedFrom(stderr: string): number {
  const line = /^training .*$/m.exec(stderr);
  assert.ok(line, `no "training" line:\n${stderr}`);
  return Number(/resuming from step (\d+)/.exec(line[0])?.[1] ?? 0);
}

const records = (root: string, kind: 'train' | 'valid') =>
  readMetrics(RunDir.open(root))
    .filter((r) => r.kind === kind)
    .map((r) => [r.step, kind === 'train' ? r.loss : r.valid_loss]);

const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const checkpointFile = (root: string, file: string) => fs.readFileSync(path.join(listCheckpoints(RunDir.open(root)).at(-1)!.dir, file));

describe('crash safety: SIGKILL at random moments', () => {
  it('mt train: 20 kills; each leaves a loadable run that resumes from its newest checkpoint, and the end equals an uninterrupted run', { timeout: 400_000 }, async (t: TestContext) => {
    const config = tinyConfig(TINY_MODELS.seq2seq, {
      max_steps: MAX_STEPS,
      valid_every: VALID_EVERY,
      keep_last: 2,
      early_stopping: { metric: 'loss', patience: 1000 },
    });
    const whole = await tinyRun(config);
    const root = path.join(path.dirname(whole.root), 'crashed');
    fs.cpSync(whole.root, root, { recursive: true });
    const trainArgs = (dir: string) => ['train', '--run', dir, '--backend', 'wasm'];

    const uninterrupted = await runMtAsync(trainArgs(whole.root));
    assert.equal(uninterrupted.code, 0, uninterrupted.stderr);

    const rng = Sfc32.fromSeed(2024);
    const times = (n: number, how: TrainKill): TrainKill[] => Array<TrainKill>(n).fill(how);
    // 11 of the 20 aim at a checkpoint save.
    const plan = rng.shuffle([...times(3, 'startup'), ...times(6, 'steps'), ...times(5, 'save'), ...times(6, 'entry')]);
    let expected = 0;
    let midSave = 0;
    for (const [i, how] of plan.entries()) {
      const p = new MtProcess(trainArgs(root));
      const what = `kill ${i + 1} (${how})`;
      if (how === 'startup') {
        await sleep(200 + rng.int(1300));
      } else {
        assert.ok(await p.waitUntil((s) => /^training /m.test(s)), `${what}: did not start:\n${p.stderr}`);
        // The temporaries of the killed save were removed before training went on.
        const ckpts = path.join(root, 'checkpoints');
        if (fs.existsSync(ckpts)) assert.deepEqual(fs.readdirSync(ckpts).filter((e) => e.endsWith('.tmp') || e.endsWith('.old')).filter((e) => !e.includes(`.${p.pid}.`)), []);
        if (how === 'steps') {
          const target = Math.min(expected + 1 + rng.int(2 * VALID_EVERY), MAX_STEPS - 1);
          await p.waitUntil((s) => lastLoggedStep(s) >= target);
          await sleep(rng.int(30));
        } else if (how === 'save') {
          // Printed just before the checkpoint of that validation is written.
          await p.waitUntil((s) => /^validation at step/m.test(s));
          await sleep(rng.int(8));
        } else {
          // Armed only now: the start removes the last kill's temporaries, which is a file event too.
          killOnEntry(p, path.join(root, 'checkpoints'), SAVE_ENTRIES[rng.int(SAVE_ENTRIES.length)]!);
          await p.exited;
        }
      }
      assert.ok(await p.kill(), `${what}: exited on its own:\n${p.stderr}`);
      if (/^training /m.test(p.stderr)) assert.equal(resumedFrom(p.stderr), expected, `${what}: resumed from the newest checkpoint`);
      // The lock was taken before training started, and a SIGKILL leaves it behind.
      if (how !== 'startup') assert.equal(lockOwner(root), p.pid, `${what}: stale lock left`);
      const after = await checkTrainRun(root);
      assert.ok(after.newest >= expected, `${what}: no checkpoint lost`);
      if (after.temps > 0) midSave += 1;
      expected = after.newest;
    }

    const last = new MtProcess(trainArgs(root));
    const exit = await last.exited;
    assert.equal(exit.code, 0, last.stderr);
    assert.equal(resumedFrom(last.stderr), expected);
    assert.equal(lockOwner(root), undefined);
    assert.deepEqual(fs.readdirSync(path.join(root, 'checkpoints')).filter((e) => e.startsWith('.')), [], 'no temporaries left');
    assert.ok(midSave >= 1, 'some kills cut a checkpoint save short');
    t.diagnostic(`${plan.length} kills, ${midSave} of them in the middle of a save; the final start resumed from step ${expected}`);

    // Exact resume: the same loss at every step, and the same weights and Adam moments, bit for bit.
    assert.equal(records(root, 'train').length, MAX_STEPS);
    assert.deepEqual(records(root, 'train'), records(whole.root, 'train'));
    assert.deepEqual(records(root, 'valid'), records(whole.root, 'valid'));
    const [a, b] = await Promise.all([loadCheckpoint(whole, 'last'), loadCheckpoint(RunDir.open(root), 'last')]);
    assert.equal(a.step, MAX_STEPS);
    assert.equal(b.step, MAX_STEPS);
    for (const [name, v] of a.model.namedVariables) {
      const w = b.model.namedVariables.get(name);
      assert.ok(w, name);
      assert.ok(bytes(v.dataSync() as Float32Array).equals(bytes(w.dataSync() as Float32Array)), `${name} differs`);
    }
    a.model.dispose();
    b.model.dispose();
    for (const file of ['model.safetensors', 'optimizer.safetensors']) assert.ok(checkpointFile(root, file).equals(checkpointFile(whole.root, file)), `${file} differs`);
  });

  it('mt prepare and mt vocab: 5 kills each leave their output absent or complete; reruns take over the lock and match', { timeout: 300_000, skip: missingShared('data/multi30k') }, async (t: TestContext) => {
    const cwd = tempDir('mt-crash-');
    const m30k = path.join(SHARED, 'data', 'multi30k');
    for (const lang of ['de', 'en']) {
      const lines = fs.readFileSync(path.join(m30k, `train.${lang}`), 'utf8').split('\n').slice(0, 3000);
      fs.writeFileSync(path.join(cwd, `a.${lang}`), lines.join('\n') + '\n');
    }
    fs.writeFileSync(
      path.join(cwd, 'exp.yaml'),
      [
        'seed: 3',
        'data:',
        '  src_lang: de',
        '  tgt_lang: en',
        '  train: [{ src: a.de, tgt: a.en }]',
        '  split: { valid_size: 100, test_size: 100 }',
        'subword: { type: bpe, vocab_size: 300, joint: true }',
        'model: { type: seq2seq, hidden_size: 16, emb_size: 8 }',
      ].join('\n'),
    );
    const rng = Sfc32.fromSeed(77);

    const root = path.join(cwd, 'run');
    const args = (stage: string): string[] => [stage, '-c', 'exp.yaml', '--run', 'run'];
    /**
     * Run the stage uninterrupted and keep its output as the reference (in the same run directory:
     * subword models record the paths they were trained on); remove it, then kill the stage 5 times
     * (on each file event in `entries`, the rest at random times), and rerun it.
     */
    const crashStage = async (stage: 'prepare' | 'vocab', out: string, entries: RegExp[], check: () => Promise<void>) => {
      // Its working time: from taking the lock to exiting.
      const ref = new MtProcess(args(stage), { cwd });
      let locked = Date.now();
      onEntry(ref, root, /^\.lock$/, () => (locked = Date.now()));
      assert.equal((await ref.exited).code, 0, ref.stderr);
      const workMs = Date.now() - locked;
      const reference = readTree(path.join(root, out));
      fs.rmSync(path.join(root, out), { recursive: true });

      const plan = rng.shuffle<RegExp | 'timed'>([...entries, ...Array<'timed'>(5 - entries.length).fill('timed')]);
      const seen = { absent: 0, complete: 0, staleLocks: 0, finished: 0 };
      for (let i = 0; i < plan.length; ) {
        const how = plan[i]!;
        const what = `${stage} kill ${i + 1} (${how})`;
        // Alternately a first write (no output yet) and a replacement of the previous output.
        if (i % 2 === 0) fs.rmSync(path.join(root, out), { recursive: true, force: true });
        const p = new MtProcess(args(stage), { cwd });
        if (how === 'timed') onEntry(p, root, /^\.lock$/, () => setTimeout(() => p.child.kill('SIGKILL'), rng.float() * workMs));
        else killOnEntry(p, root, how);
        const exit = await p.exited;
        assert.doesNotMatch(p.stderr, /in use by/, `${what}: refused by a stale lock`);
        if (exit.signal !== 'SIGKILL') {
          // A timed kill that came too late (this start ran faster than the reference): try again.
          assert.equal(exit.code, 0, `${what}: ${p.stderr}`);
          assert.ok(how === 'timed' && ++seen.finished <= 5, `${what}: exited on its own:\n${p.stderr}`);
          continue;
        }
        i += 1;
        if (lockOwner(root) === p.pid) seen.staleLocks += 1;
        if (fs.existsSync(path.join(root, 'manifest.json'))) RunDir.open(root);
        const dir = path.join(root, out);
        if (!fs.existsSync(dir)) {
          seen.absent += 1;
          continue;
        }
        // Present means complete: exactly what an uninterrupted run writes.
        assert.deepEqual(readTree(dir), reference, `${what}: ${out}/ is half-written`);
        await check();
        seen.complete += 1;
      }
      const rerun = await runMtAsync(args(stage), { cwd });
      assert.equal(rerun.code, 0, `${stage} rerun after the kills: ${rerun.stderr}`);
      assert.deepEqual(readTree(path.join(root, out)), reference);
      await check();
      assert.equal(lockOwner(root), undefined);
      assert.deepEqual(fs.readdirSync(root).filter((e) => e.startsWith(`.${out}.`)), [], `${stage}: temporaries of killed runs cleaned up`);
      assert.ok(RunDir.open(root).readManifest().stages[stage]);
      t.diagnostic(
        `${stage}: ${plan.length} kills; output then absent ${seen.absent}, complete ${seen.complete}; stale locks taken over ${seen.staleLocks}; late timed kills retried ${seen.finished}`,
      );
      // The file-event kills come after the lock is taken.
      assert.ok(seen.staleLocks >= entries.length);
    };

    // Prepare: cleaning started (staging folder), data/ being filled, moved into place (or the old one moved aside).
    await crashStage('prepare', 'data', [/^\.data\..*staging/, /^\.data\.\d+\.\d+\.tmp$/, /^data$/], async () => {
      assert.ok(RunDir.open(root));
    });
    await crashStage('vocab', 'subword', [/^\.subword\.\d+\.\d+\.tmp$/, /^subword$/], async () => {
      const { src } = await loadSubwords(RunDir.open(root));
      assert.equal(src.vocabSize, 300);
    });
  });
});
