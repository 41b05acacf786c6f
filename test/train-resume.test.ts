/**
 * Exact resume: training N steps in one go and training N/2, stopping (as Ctrl-C does) and
 * resuming give the same loss at every step and the same final weights. Dropout, teacher
 * forcing below 1 and gradient accumulation are on, so every piece of saved state matters.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { createHash } from 'node:crypto';
import { RunDir } from '../src/run/rundir.ts';
import { train } from '../src/train/trainer.ts';
import { Logger } from '../src/util/log.ts';
import { quietLog, readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

async function finalWeights(run: RunDir): Promise<Map<string, Float32Array>> {
  const { model } = await loadCheckpoint(run, 'last');
  const weights = new Map([...model.namedVariables].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  model.dispose();
  return weights;
}

const trainLosses = (run: RunDir) => readMetrics(run).filter((r) => r.kind === 'train').map((r) => [r.step, r.loss]);

describe('resume', () => {
  for (const family of ['attention', 'transformer'] as const) {
    it(`${family}: N steps uninterrupted = N/2 + stop + resume (losses and weights)`, async () => {
      // Validation at step 4 and 8; the stop lands at 5, between checkpoints.
      const config = tinyConfig(TINY_MODELS[family], {
        max_steps: 8,
        valid_every: 4,
        accum_steps: 2,
        teacher_forcing: 0.7,
        learning_rate: 1e-2,
        schedule: { type: 'inverse_sqrt', warmup_steps: 3 },
      });
      const whole = await tinyRun(config);
      const resumedDir = path.join(path.dirname(whole.root), 'resumed');
      fs.cpSync(whole.root, resumedDir, { recursive: true });
      const resumed = RunDir.open(resumedDir);

      await train(whole, { log: quietLog() });

      const stop = new AbortController();
      const first = await train(resumed, { log: quietLog(), signal: stop.signal, onStep: (r) => r.step === 5 && stop.abort() });
      assert.equal(first.stopped, 'interrupted');
      assert.equal(first.step, 5);
      const second = await train(resumed, { log: quietLog() });
      assert.equal(second.resumedFrom, 5);
      assert.equal(second.step, 8);

      assert.deepEqual(trainLosses(resumed), trainLosses(whole));
      assert.equal(trainLosses(whole).length, 8);
      const a = await finalWeights(whole);
      const b = await finalWeights(resumed);
      assert.deepEqual([...b.keys()], [...a.keys()]);
      for (const [name, w] of a) assert.deepEqual(b.get(name), w, `${name} differs`);
    });
  }
});

/** A quiet logger that keeps its warnings. */
class CapturingLog extends Logger {
  readonly warnings: string[] = [];
  constructor() {
    super({ quiet: true, json: false, verbose: false });
  }
  override warn(msg: string): void {
    this.warnings.push(msg);
  }
}

describe('CPU time (cpu_s)', () => {
  const stateFile = (run: RunDir, step: number) => run.path('checkpoints', `step-${String(step).padStart(6, '0')}`, 'state.json');
  const savedCpu = (run: RunDir, step: number): unknown =>
    (JSON.parse(fs.readFileSync(stateFile(run, step), 'utf8')) as { training: { cpu_s?: unknown } }).training.cpu_s;
  /** Every record's cpu_s, in file order; each must be a number. */
  const loggedCpu = (run: RunDir): [step: number, cpu: number][] =>
    readMetrics(run).map((r) => {
      const cpu = (r as { cpu_s?: unknown }).cpu_s;
      assert.equal(typeof cpu, 'number', `${r.kind} record at step ${r.step} has cpu_s`);
      return [r.step, cpu as number];
    });
  const nonDecreasing = (values: number[]) => values.every((v, i) => i === 0 || v >= values[i - 1]!);
  const config = () => tinyConfig(TINY_MODELS.seq2seq, { max_steps: 6, valid_every: 2 });

  it('is logged with every train and valid record, never decreases, and continues across a resume', async () => {
    const run = await tinyRun(config());
    const stop = new AbortController();
    const first = await train(run, { log: quietLog(), signal: stop.signal, onStep: (r) => r.step === 3 && stop.abort() });
    assert.equal(first.step, 3);
    const atStop = savedCpu(run, 3);
    assert.equal(typeof atStop, 'number');
    const before = loggedCpu(run);
    assert.deepEqual(
      readMetrics(run).map((r) => `${r.kind}@${r.step}`),
      ['train@1', 'train@2', 'valid@2', 'train@3'],
    );
    // Records round cpu_s to 0.1 s: a tiny model's first step can log 0.0; the run's own total is exact.
    assert.ok(before[0]![1] >= 0 && first.cpu_s > 0, 'CPU time is counted from the first record');
    assert.ok(nonDecreasing(before.map(([, c]) => c)), JSON.stringify(before));
    assert.ok((atStop as number) >= before.at(-1)![1] && (atStop as number) <= first.cpu_s);

    const second = await train(run, { log: quietLog() });
    assert.equal(second.resumedFrom, 3);
    const all = loggedCpu(run);
    assert.equal(all.length, 9, 'train records 1-6 and valid records 2, 4, 6');
    assert.ok(nonDecreasing(all.map(([, c]) => c)), JSON.stringify(all));
    for (const [step, cpu] of all.filter(([step]) => step > 3)) {
      // (Rounded to 0.1 s, a record may read up to 0.05 s below the unrounded checkpoint value.)
      assert.ok(cpu >= (atStop as number) - 0.05, `step ${step}: ${cpu} s continues from the checkpoint's ${atStop as number} s`);
    }
    assert.ok((savedCpu(run, 6) as number) >= all.at(-1)![1], 'the last checkpoint carries the CPU time up to its saving');
    assert.ok(second.cpu_s >= all.at(-1)![1]);
  });

  it('a checkpoint written before cpu_s existed still resumes: counting starts at 0 there, with a warning', async () => {
    const run = await tinyRun(config());
    const stop = new AbortController();
    await train(run, { log: quietLog(), signal: stop.signal, onStep: (r) => r.step === 2 && stop.abort() });
    // Make step-000002 what an older mt wrote: no training.cpu_s (and the manifest's hash to match).
    const file = stateFile(run, 2);
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { training: Record<string, unknown> };
    assert.equal(typeof state.training.cpu_s, 'number');
    delete state.training.cpu_s;
    const text = JSON.stringify(state, null, 2) + '\n';
    fs.writeFileSync(file, text);
    const manifestFile = path.join(path.dirname(file), 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { files: Record<string, { sha256: string; bytes: number }> };
    manifest.files['state.json'] = { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) };
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));

    const log = new CapturingLog();
    const resumed = await train(run, { log });
    assert.equal(resumed.resumedFrom, 2);
    assert.equal(resumed.step, 6);
    assert.ok(
      log.warnings.some((w) => /step-000002 records no CPU time \(written by an older mt\): cpu_s counts from 0 at its step 2/.test(w)),
      log.warnings.join('\n'),
    );
    // Counted from 0 at step 2: logged to 0.1 s, a tiny model's first steps may still read 0.
    const after = loggedCpu(run).filter(([step]) => step > 2);
    assert.ok(after.every(([, c]) => c >= 0) && nonDecreasing(after.map(([, c]) => c)), JSON.stringify(after));
    assert.equal(typeof savedCpu(run, 6), 'number');
  });
});
