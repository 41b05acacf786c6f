/**
 * The building blocks of training, each on its own: the resumable RNG, token batching with
 * length bucketing, label-smoothed loss, Adam/AdamW, clipping, accumulation, schedules.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { TrainSchema } from '../src/config/sections/train.ts';
import { BatchStream, makeBatch, planEpoch, type Pair } from '../src/train/batching.ts';
import { labelSmoothedLoss } from '../src/train/loss.ts';
import { Adam, clipByGlobalNorm, GradientAccumulator } from '../src/train/optimizer.ts';
import { LrSchedule } from '../src/train/schedule.ts';
import { Sfc32 } from '../src/util/random.ts';

before(async () => {
  await initBackend('wasm');
});

function syntheticPairs(n: number, seed: number): Pair[] {
  const rng = Sfc32.fromSeed(seed);
  const seq = (len: number) => Array.from({ length: len }, () => 4 + rng.int(20));
  return Array.from({ length: n }, () => ({ src: seq(1 + rng.int(30)), tgt: seq(1 + rng.int(30)) }));
}

describe('Sfc32', () => {
  it('continues identically from a saved state and differs across seeds', () => {
    const a = Sfc32.fromSeed(7);
    for (let i = 0; i < 10; i++) a.uint32();
    const b = Sfc32.fromState(a.state());
    assert.deepEqual(Array.from({ length: 5 }, () => a.float()), Array.from({ length: 5 }, () => b.float()));
    assert.notEqual(Sfc32.fromSeed(1).uint32(), Sfc32.fromSeed(2).uint32());
    const f = Sfc32.fromSeed(3);
    for (let i = 0; i < 1000; i++) {
      const x = f.float();
      assert.ok(x >= 0 && x < 1);
    }
  });
});

describe('batching', () => {
  const pairs = syntheticPairs(500, 11);
  const opts = { batchTokens: 120, maxSentences: 16 };

  it('an epoch serves every pair once, within the token and sentence budgets, with little padding', () => {
    const batches = planEpoch(pairs, opts, Sfc32.fromSeed(5));
    const seen = batches.flat().sort((a, b) => a - b);
    assert.deepEqual(seen, pairs.map((_, i) => i));
    let padded = 0;
    let real = 0;
    for (const b of batches) {
      const longest = Math.max(...b.map((i) => Math.max(pairs[i]!.src.length, pairs[i]!.tgt.length + 1)));
      assert.ok(b.length <= opts.maxSentences);
      assert.ok(b.length === 1 || longest * b.length <= opts.batchTokens, `batch of ${b.length} × ${longest}`);
      const tgtLongest = Math.max(...b.map((i) => pairs[i]!.tgt.length + 1));
      padded += tgtLongest * b.length;
      real += b.reduce((n, i) => n + pairs[i]!.tgt.length + 1, 0);
    }
    // Random lengths 1–30 would pad ~50%; sorting pools by length keeps it small.
    assert.ok(real / padded > 0.85, `target padding efficiency ${(real / padded).toFixed(2)}`);
  });

  it('the same seed gives the same order; another seed another', () => {
    assert.deepEqual(planEpoch(pairs, opts, Sfc32.fromSeed(5)), planEpoch(pairs, opts, Sfc32.fromSeed(5)));
    assert.notDeepEqual(planEpoch(pairs, opts, Sfc32.fromSeed(5)), planEpoch(pairs, opts, Sfc32.fromSeed(6)));
  });

  it('a stream rebuilt from a saved position continues with the same batches, across epochs', () => {
    const a = BatchStream.fromSeed(pairs, opts, 42);
    const perEpoch = a.batchesPerEpoch;
    for (let i = 0; i < perEpoch - 3; i++) a.next();
    const b = new BatchStream(pairs, opts, a.position());
    for (let i = 0; i < 10; i++) {
      const x = a.next();
      const y = b.next();
      assert.deepEqual(y, x);
    }
    assert.equal(a.position().epoch, 2);
    // The second epoch's order differs from the first.
    const first = planEpoch(pairs, opts, Sfc32.fromSeed(1));
    assert.notDeepEqual(first, planEpoch(pairs, opts, Sfc32.fromSeed(2)));
  });

  it('builds padded tensors with bos/eos and masks', () => {
    const ids = { srcPad: 0, tgtPad: 0, bos: 2, eos: 3 };
    const p: Pair[] = [
      { src: [10, 11, 12], tgt: [20] },
      { src: [13], tgt: [21, 22] },
    ];
    const b = makeBatch(p, [0, 1], ids);
    assert.deepEqual(b.src.arraySync(), [[10, 11, 12], [13, 0, 0]]);
    assert.deepEqual(b.srcMask.arraySync(), [[1, 1, 1], [1, 0, 0]]);
    assert.deepEqual(b.tgtIn.arraySync(), [[2, 20, 0], [2, 21, 22]]);
    assert.deepEqual(b.tgtOut.arraySync(), [[20, 3, 0], [21, 22, 3]]);
    assert.deepEqual(b.tgtMask.arraySync(), [[1, 1, 0], [1, 1, 1]]);
    assert.equal(b.src.dtype, 'int32');
    tf.dispose([b.src, b.srcMask, b.tgtIn, b.tgtOut, b.tgtMask]);
  });
});

describe('label-smoothed loss', () => {
  it('equals the hand-computed value on a toy case, ignoring padded positions', () => {
    // Position 1: p = [1/8, 2/8, 5/8], gold 2. Position 2: uniform, gold 0. Position 3: padding.
    const logits = tf.tensor3d([[[0, Math.log(2), Math.log(5)], [0, 0, 0], [100, -100, 0]]]);
    const target = tf.tensor2d([[2, 0, 1]], undefined, 'int32');
    const mask = tf.tensor2d([[1, 1, 0]]);
    const eps = 0.1;
    const nll1 = -Math.log(5 / 8);
    const uniform1 = -(Math.log(1 / 8) + Math.log(2 / 8) + Math.log(5 / 8)) / 3;
    const nll2 = Math.log(3);
    const expected = ((1 - eps) * nll1 + eps * uniform1 + nll2) / 2; // position 2: both terms ln 3
    const t = labelSmoothedLoss(logits, target, mask, eps);
    assert.ok(Math.abs(t.loss.dataSync()[0]! - expected) < 1e-5, `${t.loss.dataSync()[0]} vs ${expected}`);
    assert.ok(Math.abs(t.nllSum.dataSync()[0]! - (nll1 + nll2)) < 1e-5);
    assert.equal(t.tokens.dataSync()[0], 2);
    const plain = labelSmoothedLoss(logits, target, mask, 0);
    assert.ok(Math.abs(plain.loss.dataSync()[0]! - (nll1 + nll2) / 2) < 1e-5);
    tf.dispose([logits, target, mask, t.loss, t.nllSum, t.tokens, plain.loss, plain.nllSum, plain.tokens]);
  });

  it('stays finite for extreme logits, and exact', () => {
    // x = [1e4, −1e4, 0], gold 1, ε = 0.1. lse = 1e4 + ln(1 + e^−2e4 + e^−1e4) = 1e4 (the rest is
    // below float precision), so −log p = lse − x = [0, 2e4, 1e4]:
    //   nll = 2e4,  mean_v(−log p(v)) = (0 + 2e4 + 1e4) / 3 = 1e4,
    //   loss = 0.9 · 2e4 + 0.1 · 1e4 = 18000 + 1000 = 19000 (one real token).
    // A naive softmax-then-log would give log(0) = −Infinity for the gold probability e^−2e4.
    const logits = tf.tensor3d([[[1e4, -1e4, 0]]]);
    const target = tf.tensor2d([[1]], undefined, 'int32');
    const mask = tf.tensor2d([[1]]);
    const t = labelSmoothedLoss(logits, target, mask, 0.1);
    const loss = t.loss.dataSync()[0]!;
    assert.ok(Number.isFinite(loss));
    assert.ok(Math.abs(loss - 19000) < 1e-2, `loss ${loss} vs 19000`);
    assert.ok(Math.abs(t.nllSum.dataSync()[0]! - 20000) < 1e-2, `nllSum ${t.nllSum.dataSync()[0]} vs 20000`);
    assert.equal(t.tokens.dataSync()[0], 1);
    // The other extreme: the gold token is the huge logit, so its −log p is 0 and only smoothing costs:
    // loss = 0.9 · 0 + 0.1 · 1e4 = 1000.
    const easyTarget = tf.tensor2d([[0]], undefined, 'int32');
    const easy = labelSmoothedLoss(logits, easyTarget, mask, 0.1);
    assert.ok(Math.abs(easy.loss.dataSync()[0]! - 1000) < 1e-2, `loss ${easy.loss.dataSync()[0]} vs 1000`);
    assert.ok(Math.abs(easy.nllSum.dataSync()[0]!) < 1e-2, `nllSum ${easy.nllSum.dataSync()[0]} vs 0`);
    tf.dispose([logits, target, easyTarget, mask, t.loss, t.nllSum, t.tokens, easy.loss, easy.nllSum, easy.tokens]);
  });
});

describe('optimizer', () => {
  it('Adam matches tf.train.adam step for step', () => {
    const init = tf.tensor1d([0.5, -1.5, 2]);
    const mine = tf.variable(init.clone(), true, 'opt-test/mine');
    const ref = tf.variable(init.clone(), true, 'opt-test/ref');
    const adam = new Adam(new Map([['w', mine]]), { decoupled: false, beta1: 0.9, beta2: 0.98, weightDecay: 0, epsilon: 1e-8 });
    const refOpt = tf.train.adam(0.01, 0.9, 0.98, 1e-8);
    const lossOf = (w: tf.Variable) => () => tf.sum(tf.mul(tf.square(tf.sub(w, tf.tensor1d([1, 2, 3]))), tf.tensor1d([1, 3, 0.5]))) as tf.Scalar;
    for (let i = 0; i < 20; i++) {
      const { grads } = tf.variableGrads(lossOf(mine), [mine]);
      adam.apply(grads, 0.01);
      tf.dispose(Object.values(grads));
      refOpt.minimize(lossOf(ref));
    }
    const a = mine.dataSync();
    const b = ref.dataSync();
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `${a[i]} vs ${b[i]}`);
    assert.equal(adam.updates, 20);
    adam.dispose();
    refOpt.dispose();
    tf.dispose([init, mine, ref]);
  });

  it('AdamW decays decoupled from the gradient; state round-trips', () => {
    const p = tf.variable(tf.tensor1d([2, -4]), true, 'opt-test/w2');
    const adamw = new Adam(new Map([['w', p]]), { decoupled: true, beta1: 0.9, beta2: 0.999, weightDecay: 0.1, epsilon: 0 });
    const g = { [p.name]: tf.tensor1d([0.5, -0.25]) };
    adamw.apply(g, 0.1);
    // First step: m̂ = g, v̂ = g², so the Adam step is lr·sign(g); the decay is p·lr·wd.
    assert.deepEqual(Array.from(p.dataSync()).map((x) => Number(x.toFixed(5))), [2 * 0.99 - 0.1, -4 * 0.99 + 0.1]);
    const saved = adamw.stateTensors();
    assert.deepEqual(Object.keys(saved).sort(), ['m/w', 'v/w']);
    const copy = Object.fromEntries(Object.entries(saved).map(([k, t]) => [k, t.clone()]));
    const q = tf.variable(tf.tensor1d([0, 0]), true, 'opt-test/w3');
    const other = new Adam(new Map([['w', q]]), { decoupled: true, beta1: 0.9, beta2: 0.999, weightDecay: 0.1 });
    other.loadState(copy, adamw.updates);
    assert.deepEqual(other.stateTensors()['m/w']!.dataSync(), saved['m/w']!.dataSync());
    assert.equal(other.updates, 1);
    tf.dispose([p, q, Object.values(g), Object.values(copy)]);
    adamw.dispose();
    other.dispose();
  });

  it('clips by global norm and averages accumulated gradients', () => {
    const grads = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) };
    const { grads: clipped, norm } = clipByGlobalNorm(grads, 1);
    // It takes over its input: the unscaled gradients are freed.
    assert.ok(grads.a.isDisposed && grads.b.isDisposed);
    assert.ok(Math.abs(norm.dataSync()[0]! - 5) < 1e-6);
    assert.ok(Math.abs(clipped.a!.dataSync()[0]! - 0.6) < 1e-5);
    assert.ok(Math.abs(clipped.b!.dataSync()[0]! - 0.8) < 1e-5);
    const unclipped = clipByGlobalNorm({ a: tf.tensor1d([3]), b: tf.tensor1d([4]) }, 10).grads;
    assert.equal(unclipped.a!.dataSync()[0], 3);
    const acc = new GradientAccumulator();
    acc.add({ a: tf.tensor1d([1, 2]) });
    acc.add({ a: tf.tensor1d([3, 6]) });
    const mean = acc.mean();
    assert.deepEqual(Array.from(mean.a!.dataSync()), [2, 4]);
    tf.dispose([Object.values(clipped), norm, Object.values(unclipped), Object.values(mean)]);
  });
});

describe('learning-rate schedules', () => {
  const schedule = (s: Record<string, unknown>, lr = 1e-3, size = 256) => {
    const cfg = TrainSchema.parse({ schedule: s }).schedule;
    return new LrSchedule(cfg, lr, size);
  };
  const rateAt = (sch: LrSchedule, step: number) => {
    while (sch.state().steps < step - 1) sch.advance();
    return sch.rate();
  };

  it('warmup, inverse_sqrt and noam follow their formulas', () => {
    assert.equal(rateAt(schedule({ type: 'constant' }), 50), 1e-3);
    assert.ok(Math.abs(rateAt(schedule({ type: 'constant', warmup_steps: 100 }), 50) - 5e-4) < 1e-12);
    const inv = schedule({ type: 'inverse_sqrt', warmup_steps: 100 });
    assert.ok(Math.abs(rateAt(inv, 100) - 1e-3) < 1e-12);
    assert.ok(Math.abs(rateAt(inv, 400) - 5e-4) < 1e-12);
    const noam = schedule({ type: 'noam', warmup_steps: 4000 }, 2, 512);
    assert.ok(Math.abs(rateAt(noam, 4000) - 2 * 512 ** -0.5 * 4000 ** -0.5) < 1e-12);
  });

  it('plateau lowers the rate after `patience` validations without improvement, never below the floor; state round-trips', () => {
    const cfg = TrainSchema.parse({ schedule: { type: 'plateau', factor: 0.5, patience: 1, min_learning_rate: 3e-4 } }).schedule;
    const sch = new LrSchedule(cfg, 1e-3, 256);
    const lower = (a: number, b: number) => a < b;
    assert.equal(sch.observe(5, lower), false);
    assert.equal(sch.observe(6, lower), false); // 1 bad: within patience
    assert.equal(sch.observe(6, lower), true); // 2 bad: lowered
    assert.ok(Math.abs(sch.rate() - 5e-4) < 1e-12);
    sch.observe(7, lower);
    sch.observe(7, lower);
    assert.ok(Math.abs(sch.rate() - 3e-4) < 1e-12, 'floored at min_learning_rate');
    const copy = new LrSchedule(cfg, 1e-3, 256, JSON.parse(JSON.stringify(sch.state())));
    assert.equal(copy.rate(), sch.rate());
  });
});
