/** Batches that do not fit: out-of-memory errors are recognised, and `mt train --max-tokens` caps batches. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend, isOutOfMemory } from '../src/backend/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { runMt } from './helpers/cli.ts';
import { readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

describe('resource limits', () => {
  it("recognises the wasm backend's out-of-memory error, and only that", () => {
    // 4.4 GB: more than wasm's 4 GB heap can hold; refused before anything is allocated.
    let tooBig: unknown;
    try {
      tf.zeros([1100, 1000, 1000]).dispose();
    } catch (e) {
      tooBig = e;
    }
    assert.ok(tooBig, 'a 4.4 GB tensor was allocated');
    assert.ok(isOutOfMemory(tooBig), String(tooBig));
    let other: unknown;
    try {
      tf.tidy(() => tf.add(tf.ones([2, 3]), tf.ones([4, 5])));
    } catch (e) {
      other = e;
    }
    assert.ok(other);
    assert.equal(isOutOfMemory(other), false);
    // The backend still works afterwards.
    assert.equal(tf.tidy(() => tf.sum(tf.ones([3])).dataSync()[0]), 3);
  });

  it('--max-tokens lowers train.batch_tokens and raises accum_steps to keep the tokens per update', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.seq2seq, { batch_tokens: 120, accum_steps: 1, max_steps: 3 }));
    const r = runMt(['train', '--run', run.root, '--backend', 'wasm', '--max-tokens', '50']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /--max-tokens 50: train\.batch_tokens 120 → 50, train\.accum_steps 1 → 3/);
    const config = RunDir.open(run.root).config.train;
    assert.equal(config.batch_tokens, 50);
    assert.equal(config.accum_steps, 3);
    assert.equal(readMetrics(run).filter((m) => m.kind === 'train').length, 3);

    // A cap above the batch size changes nothing.
    const again = runMt(['train', '--run', run.root, '--backend', 'wasm', '--max-tokens', '500']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /--max-tokens/);
    assert.equal(RunDir.open(run.root).config.train.batch_tokens, 50);
  });

  it('--max-tokens must be a positive whole number', () => {
    const r = runMt(['train', '--run', '/nonexistent', '--max-tokens', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--max-tokens.*positive whole number/);
  });
});
