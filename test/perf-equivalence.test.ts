/**
 * The speed work of issue 8 (docs/performance.md) changes how training computes, not what:
 * mt's wasm kernels (src/backend/wasm-kernels.ts), one shared transpose per weight in time loops
 * (StepMatMul), and the custom gradients of tanh and of the loss's log-sum-exp. Checked two ways:
 * - real training steps (src/train/step.ts) of each family on wasm, with all of it, give the
 *   same loss curve as on tfjs's pure-JS cpu backend, whose stock kernels share no code with
 *   wasm's (same seed: same initial weights and dropout masks on both);
 * - each custom gradient equals autodiff of the plain formula it replaces, and the faster
 *   dropout masks keep each element with probability 1 − rate, independently of other draws;
 * - data-parallel training (worker threads, src/train/parallel.ts) makes the same updates as
 *   one thread (without dropout, whose masks depend on how the batch is split).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { TrainSchema } from '../src/config/sections/train.ts';
import { StepMatMul, tanh } from '../src/models/common/ops.ts';
import { dropoutMask } from '../src/models/common/random.ts';
import { createModel } from '../src/models/index.ts';
import { labelSmoothedLoss } from '../src/train/loss.ts';
import { Adam } from '../src/train/optimizer.ts';
import { DataParallel, splitByTokens } from '../src/train/parallel.ts';
import { optimizerUpdate } from '../src/train/step.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { makeRandom } from './helpers/models.ts';
import { TINY_MODELS } from './train-fixture.ts';

const STEPS = 4;

/** Train each tiny model STEPS updates on `backend` in a fresh process; the losses per family. */
function lossCurves(backend: 'wasm' | 'cpu'): Record<string, number[]> {
  const script = `
    import { initBackend } from '${REPO_ROOT}/src/backend/index.ts';
    import { ModelSchema } from '${REPO_ROOT}/src/config/sections/model.ts';
    import { TrainSchema } from '${REPO_ROOT}/src/config/sections/train.ts';
    import { createModel } from '${REPO_ROOT}/src/models/index.ts';
    import { Adam } from '${REPO_ROOT}/src/train/optimizer.ts';
    import { optimizerUpdate } from '${REPO_ROOT}/src/train/step.ts';
    import { makeRandom } from '${REPO_ROOT}/test/helpers/models.ts';
    import { TINY_MODELS } from '${REPO_ROOT}/test/train-fixture.ts';
    await initBackend('${backend}');
    const V = 40;
    const rand = makeRandom(3);
    const sentence = () => Array.from({ length: 3 + rand(6) }, () => 4 + rand(V - 4));
    const pairs = Array.from({ length: 8 }, () => ({ src: sentence(), tgt: sentence() }));
    const ids = { srcPad: 0, tgtPad: 0, bos: 2, eos: 3 };
    const settings = TrainSchema.parse({ label_smoothing: 0.1, clip_norm: 1 });
    const curves = {};
    for (const [family, config] of Object.entries(TINY_MODELS)) {
      const model = createModel(ModelSchema.parse(config), V, V, 7);
      const adam = new Adam(model.namedVariables, { decoupled: false, beta1: 0.9, beta2: 0.98, weightDecay: 0 });
      curves[family] = [];
      for (let step = 0; step < ${STEPS}; step++) {
        // the same batch each step, so the loss falls steadily
        const indices = [0, 1, 2, 3, 4, 5, 6, 7];
        curves[family].push((await optimizerUpdate(model, adam, [indices.map((i) => pairs[i])], ids, settings, 3e-3)).loss);
      }
    }
    console.log(JSON.stringify(curves));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number[]>;
}

describe('training with the speed-ups computes what it did without them', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('gives the same loss curves on wasm (all speed-ups) as on the cpu backend', () => {
    const wasm = lossCurves('wasm');
    const cpu = lossCurves('cpu');
    for (const family of Object.keys(TINY_MODELS)) {
      const [a, b] = [wasm[family]!, cpu[family]!];
      assert.equal(a.length, STEPS);
      // The model learns: the curves are not flat, so equal curves mean equal updates.
      assert.ok(a[STEPS - 1]! < a[0]!, `${family} loss falls: ${a}`);
      a.forEach((loss, i) => assert.ok(Math.abs(loss - b[i]!) < 1e-4 * Math.abs(b[i]!), `${family} step ${i}: wasm ${loss} vs cpu ${b[i]}`));
    }
  });

  it("tanh's custom gradient equals autodiff of 2·sigmoid(2x) − 1", () => {
    const x = tf.randomNormal([5, 7], 0, 3, 'float32', 1);
    const w = tf.randomNormal([5, 7], 0, 1, 'float32', 2);
    const plain = (v: tf.Tensor) => tf.sum(tf.mul(tf.sub(tf.mul(tf.sigmoid(tf.mul(v, 2)), 2), 1), w));
    const custom = (v: tf.Tensor) => tf.sum(tf.mul(tanh(v), w));
    assert.ok(Math.abs(custom(x).dataSync()[0]! - plain(x).dataSync()[0]!) < 1e-5);
    const diff = tf.max(tf.abs(tf.sub(tf.grad(custom)(x), tf.grad(plain)(x)))).dataSync()[0]!;
    assert.ok(diff < 1e-5, `max gradient difference ${diff}`);
  });

  it("the loss's custom log-sum-exp gives the gradient of the plain log-softmax formula", () => {
    const [B, T, V] = [3, 4, 11];
    const rand = makeRandom(5);
    const logits = tf.randomNormal([B, T, V], 0, 4, 'float32', 3);
    const target = tf.tensor2d(Array.from({ length: B }, () => Array.from({ length: T }, () => rand(V))), undefined, 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]]);
    const eps = 0.1;
    const plain = (x: tf.Tensor) => {
      const logProbs = tf.logSoftmax(tf.reshape(x, [B * T, V]));
      const gold = tf.cast(tf.oneHot(tf.reshape(target, [B * T]), V), 'float32');
      const nll = tf.neg(tf.sum(tf.mul(logProbs, gold), 1));
      const smoothed = tf.add(tf.mul(nll, 1 - eps), tf.mul(tf.neg(tf.mean(logProbs, 1)), eps));
      const real = tf.reshape(mask, [B * T]);
      return tf.div(tf.sum(tf.mul(smoothed, real)), tf.sum(real)) as tf.Scalar;
    };
    const custom = (x: tf.Tensor) => labelSmoothedLoss(x as tf.Tensor3D, target, mask, eps).loss;
    assert.ok(Math.abs(custom(logits).dataSync()[0]! - plain(logits).dataSync()[0]!) < 1e-5);
    const g1 = tf.grad(custom)(logits);
    const g2 = tf.grad(plain)(logits);
    const diff = tf.max(tf.abs(tf.sub(g1, g2))).dataSync()[0]!;
    assert.ok(diff < 1e-6, `max gradient difference ${diff}`);
    assert.ok(tf.max(tf.abs(g2)).dataSync()[0]! > 1e-3, 'the gradient is not trivially zero');
  });

  it('StepMatMul in training gives the gradients of plain matmuls through a time loop', () => {
    const w = tf.variable(tf.randomNormal([6, 6], 0, 0.5, 'float32', 4), true, 'perf-eq/w') as tf.Variable<tf.Rank.R2>;
    const h0 = tf.randomNormal([3, 6], 0, 1, 'float32', 5);
    const loop = (steps: StepMatMul | undefined) => () => {
      let h = h0;
      for (let t = 0; t < 5; t++) h = tanh(steps ? steps.apply(h, w) : tf.matMul(h, w));
      // also a rank-3 input, as attention applies its weights to [B, 1, H]
      const h3 = tf.expandDims(h, 1);
      return tf.sum(steps ? steps.apply(h3, w) : tf.reshape(tf.matMul(h, w), [3, 1, 6])) as tf.Scalar;
    };
    const shared = tf.variableGrads(loop(new StepMatMul(true)), [w]);
    const plain = tf.variableGrads(loop(undefined), [w]);
    assert.ok(Math.abs(shared.value.dataSync()[0]! - plain.value.dataSync()[0]!) < 1e-5);
    const diff = tf.max(tf.abs(tf.sub(shared.grads[w.name]!, plain.grads[w.name]!))).dataSync()[0]!;
    assert.ok(diff < 1e-5, `max gradient difference ${diff}`);
    assert.ok(tf.max(tf.abs(plain.grads[w.name]!)).dataSync()[0]! > 1e-3, 'the gradient is not trivially zero');
  });

  it('dropout masks keep 1 − rate of the elements, scaled, and differ from draw to draw', () => {
    for (const rate of [0.1, 0.3, 0.5]) {
      const n = 200_000;
      const mask = dropoutMask(n, rate, 42);
      const kept = mask.filter((v) => v !== 0);
      assert.ok(kept.every((v) => v === Math.fround(1 / (1 - rate))), 'kept elements are scaled by 1/(1 − rate)');
      // ±5 standard deviations of a binomial count
      const sd = Math.sqrt(n * rate * (1 - rate));
      assert.ok(Math.abs(n - kept.length - n * rate) < 5 * sd, `rate ${rate}: ${n - kept.length} of ${n} dropped`);
      assert.deepEqual(dropoutMask(n, rate, 42), mask, 'the same seed gives the same mask');
      const other = dropoutMask(n, rate, 43);
      let agree = 0;
      for (let i = 0; i < n; i++) if ((other[i] === 0) === (mask[i] === 0)) agree += 1;
      const expected = n * (rate * rate + (1 - rate) * (1 - rate));
      assert.ok(Math.abs(agree - expected) < 5 * Math.sqrt(n * 0.25), `rate ${rate}: neighbouring seeds agree on ${agree}, independent masks on ~${expected}`);
    }
  });

  it('data-parallel updates on 2 threads equal one-thread updates (no dropout)', async () => {
    const V = 30;
    const rand = makeRandom(9);
    const sentence = () => Array.from({ length: 2 + rand(7) }, () => 4 + rand(V - 4));
    const pairs = Array.from({ length: 10 }, () => ({ src: sentence(), tgt: sentence() }));
    const ids = { srcPad: 0, tgtPad: 0, bos: 2, eos: 3 };
    const settings = TrainSchema.parse({ label_smoothing: 0.1, clip_norm: 1 });
    const config = ModelSchema.parse({ ...TINY_MODELS.attention, dropout: 0 });
    const train = async (parallel: boolean) => {
      const model = createModel(config, V, V, 11);
      const adam = new Adam(model.namedVariables, { decoupled: false, beta1: 0.9, beta2: 0.98, weightDecay: 0 });
      const dp = parallel ? await DataParallel.start(2, model, { backend: 'wasm', model: config, srcVocab: V, tgtVocab: V, seed: 11 }) : undefined;
      try {
        const losses: number[] = [];
        for (let step = 0; step < 3; step++) losses.push((await optimizerUpdate(model, adam, [pairs], ids, settings, 1e-2, dp)).loss);
        const weights = model.variables.map((v) => Array.from(v.dataSync()));
        return { losses, weights };
      } finally {
        await dp?.close();
        adam.dispose();
        model.dispose();
      }
    };
    const one = await train(false);
    const two = await train(true);
    assert.ok(one.losses[2]! < one.losses[0]!, `the loss falls: ${one.losses}`);
    one.losses.forEach((l, i) => assert.ok(Math.abs(l - two.losses[i]!) < 1e-5 * l, `step ${i}: ${l} vs ${two.losses[i]}`));
    // Adam divides by √v, which magnifies float differences in near-zero gradients: 1% of a step.
    const worst = Math.max(...one.weights.flatMap((w, i) => w.map((x, j) => Math.abs(x - two.weights[i]![j]!))));
    assert.ok(worst < 1e-4, `weights differ by up to ${worst}`);
    // The shards balance target tokens and keep every pair once, in order.
    const shards = splitByTokens(pairs, 3);
    assert.deepEqual(shards.flat(), pairs);
    const tokens = shards.map((sh) => sh.reduce((n, p) => n + p.tgt.length + 1, 0));
    assert.ok(Math.max(...tokens) - Math.min(...tokens) <= 2 * 9, `shard tokens ${tokens}`);
  });
});
