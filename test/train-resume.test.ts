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
import { RunDir } from '../src/run/rundir.ts';
import { train } from '../src/train/trainer.ts';
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
