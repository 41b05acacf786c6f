/**
 * src/models/common/ops.ts: the faster ops compute what tf's plain ones do, values and
 * gradients; a model's StepMatMul shares transposes only inside a training pass. And the
 * family facts (src/models/facts.ts) that code outside models/ reads instead of the type.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { logSoftmax, logSumExp, matMulLast, rowMean, StepMatMul, tanh } from '../src/models/common/ops.ts';
import { dropoutMask, ModelRng } from '../src/models/common/random.ts';
import { modelFacts } from '../src/models/facts.ts';
import { createModel } from '../src/models/index.ts';
import { TINY_MODELS } from './train-fixture.ts';

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

describe('ops (src/models/common/ops.ts)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it("tanh and its gradient equal tf.tanh's within 1e-6", () => {
    const x = tf.randomNormal([6, 9], 0, 3, 'float32', 11);
    const w = tf.randomNormal([6, 9], 0, 1, 'float32', 12);
    assert.ok(maxDiff(tanh(x), tf.tanh(x)) < 1e-6);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tanh(v), w)))(x);
    const plain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(v), w)))(x);
    assert.ok(maxDiff(g, plain) < 1e-6, `max gradient difference ${maxDiff(g, plain)}`);
    assert.ok(tf.max(tf.abs(plain)).dataSync()[0]! > 1e-2, 'the gradient is not trivially zero');
  });

  it("logSumExp, logSoftmax and their gradients equal tf's within 1e-6", () => {
    const x = tf.randomNormal([5, 13], 0, 2, 'float32', 13) as tf.Tensor2D;
    const w = tf.randomNormal([5], 0, 1, 'float32', 14);
    assert.ok(maxDiff(logSumExp(x), tf.logSumExp(x, 1)) < 1e-5 * tf.max(tf.abs(tf.logSumExp(x, 1))).dataSync()[0]!);
    assert.ok(maxDiff(logSoftmax(x), tf.logSoftmax(x)) < 1e-5);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(logSumExp(v as tf.Tensor2D), w)))(x);
    const plain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.logSumExp(v, 1), w)))(x);
    assert.ok(maxDiff(g, plain) < 1e-6, `max gradient difference ${maxDiff(g, plain)}`);
    assert.ok(tf.max(tf.abs(plain)).dataSync()[0]! > 1e-2, 'the gradient is not trivially zero');
  });

  it('matMulLast multiplies the last axis of any rank', () => {
    const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 15);
    const w = tf.randomNormal([4, 5], 0, 1, 'float32', 16) as tf.Tensor2D;
    const y = matMulLast(x, w);
    assert.deepEqual(y.shape, [2, 3, 5]);
    assert.ok(maxDiff(y, tf.matMul(x, tf.tile(tf.expandDims(w, 0), [2, 1, 1]))) < 1e-6);
  });

  it("a model's StepMatMul shares one transpose per weight inside a training pass only", () => {
    const w = tf.variable(tf.randomNormal([6, 6], 0, 0.5, 'float32', 17), true, 'ops-test/w') as tf.Variable<tf.Rank.R2>;
    const h0 = tf.randomNormal([3, 6], 0, 1, 'float32', 18);
    const steps = new StepMatMul();
    const loop = (mm: (h: tf.Tensor) => tf.Tensor) => () => {
      let h = h0;
      for (let t = 0; t < 4; t++) h = tanh(mm(h));
      return tf.sum(h) as tf.Scalar;
    };
    // Tensors a step leaves behind: the matmul's output and, in a training pass, the first step's transpose.
    const made = (f: () => void) => {
      const before = tf.memory().numTensors;
      f();
      return tf.memory().numTensors - before;
    };
    tf.tidy(() => {
      assert.equal(made(() => steps.apply(h0, w)), 1, 'outside a pass: a plain matmul');
      steps.pass(true, () => {
        assert.equal(made(() => steps.apply(h0, w)), 2, 'the first step transposes');
        assert.equal(made(() => steps.apply(h0, w)), 1, 'later steps reuse it');
      });
      steps.pass(false, () => assert.equal(made(() => steps.apply(h0, w)), 1, 'no training: plain'));
      assert.equal(made(() => steps.apply(h0, w)), 1, 'after a pass: plain again');
    });
    const shared = tf.variableGrads(() => steps.pass(true, loop((h) => steps.apply(h, w))), [w]);
    const plain = tf.variableGrads(loop((h) => tf.matMul(h, w)), [w]);
    assert.ok(maxDiff(shared.value, plain.value) < 1e-6);
    assert.ok(maxDiff(shared.grads[w.name]!, plain.grads[w.name]!) < 1e-6);
    w.dispose();
  });

  it('StepMatMul keeps its transposes through a time step\'s own tidy and frees them when the pass ends', () => {
    const w = tf.variable(tf.randomNormal([5, 5], 0, 0.5, 'float32', 21), true, 'ops-test/w2') as tf.Variable<tf.Rank.R2>;
    const h0 = tf.randomNormal([2, 5], 0, 1, 'float32', 22);
    const steps = new StepMatMul();
    const before = tf.memory().numTensors;
    const grads = tf.variableGrads(() => steps.pass(true, () => {
      let h = h0;
      // Each step in its own tidy, as runCell and the attention decoder run them.
      for (let t = 0; t < 3; t++) h = tf.tidy(() => tanh(steps.apply(h, w)));
      return tf.sum(h) as tf.Scalar;
    }), [w]);
    const plain = tf.variableGrads(() => {
      let h = h0;
      for (let t = 0; t < 3; t++) h = tanh(tf.matMul(h, w));
      return tf.sum(h) as tf.Scalar;
    }, [w]);
    assert.ok(maxDiff(grads.grads[w.name]!, plain.grads[w.name]!) < 1e-6);
    // Left: the value and one gradient of each call; no transpose leaked.
    assert.equal(tf.memory().numTensors - before, 4);
    tf.dispose([grads.value, plain.value, grads.grads[w.name]!, plain.grads[w.name]!, w, h0]);
  });

  it("rowMean and its gradient equal tf.mean's over the last axis, bit for bit", () => {
    const x = tf.randomNormal([7, 13], 0, 2, 'float32', 23) as tf.Tensor2D;
    const w = tf.randomNormal([7], 0, 1, 'float32', 24);
    assert.deepEqual(Array.from(rowMean(x).dataSync()), Array.from(tf.mean(x, 1).dataSync()));
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(rowMean(v as tf.Tensor2D), w)))(x);
    const plain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mean(v, 1), w)))(x);
    assert.deepEqual(Array.from(g.dataSync()), Array.from(plain.dataSync()));
  });

  it("dropout's value and gradient are tf.mul's by its mask, bit for bit", () => {
    const x = tf.randomNormal([6, 11], 0, 1, 'float32', 25);
    const w = tf.randomNormal([6, 11], 0, 1, 'float32', 26);
    const mask = tf.tensor(dropoutMask(x.size, 0.3, new ModelRng(5).nextSeed()), x.shape);
    const y = new ModelRng(5).dropout(x, 0.3, true);
    assert.deepEqual(Array.from(y.dataSync()), Array.from(tf.mul(x, mask).dataSync()));
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(new ModelRng(5).dropout(v, 0.3, true), w)))(x);
    const plain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mul(v, mask), w)))(x);
    assert.deepEqual(Array.from(g.dataSync()), Array.from(plain.dataSync()));
    assert.equal(new ModelRng(5).dropout(x, 0.3, false), x, 'the identity when not training');
  });
});

describe('model facts (src/models/facts.ts)', () => {
  it('every model carries its family facts', () => {
    const expected = {
      seq2seq: { maxPositions: Infinity, hasAttention: false },
      attention: { maxPositions: Infinity, hasAttention: true },
      transformer: { hasAttention: true },
    } as const;
    for (const [family, raw] of Object.entries(TINY_MODELS)) {
      const config = ModelSchema.parse(raw);
      const facts = modelFacts(config);
      const model = createModel(config, 20, 20, 1);
      try {
        assert.deepEqual({ maxPositions: model.maxPositions, hasAttention: model.hasAttention, width: model.width }, facts, family);
        assert.deepEqual({ ...expected[family as keyof typeof expected], ...facts }, facts, family);
        assert.equal(facts.width, config.type === 'transformer' ? config.d_model : config.hidden_size, family);
        if (config.type === 'transformer') assert.equal(facts.maxPositions, config.max_positions);
        assert.equal(model.hasAttention, model.forwardWithAttention !== undefined, `${family}: hasAttention ⇔ forwardWithAttention`);
      } finally {
        model.dispose();
      }
    }
  });
});
