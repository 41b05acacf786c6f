/**
 * src/backend/tape.ts: the backward pass that frees activations and intermediate gradients as it
 * goes gives exactly tf.variableGrads' gradients (bit for bit: same kernels, same order), leaks
 * nothing, and holds less memory at the end of the backward, where tf.variableGrads still holds
 * every activation and every intermediate gradient.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { OVERRIDDEN_GRADIENTS } from '../src/backend/gradients.ts';
import { SHAPE_ONLY, variableGrads } from '../src/backend/tape.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { createModel } from '../src/models/index.ts';
import { labelSmoothedLoss } from '../src/train/loss.ts';
import { disposeBatch, makeBatch, randomSentences, VOCAB } from './helpers/models.ts';
import { TINY_MODELS } from './train-fixture.ts';

type Grads = (f: () => tf.Scalar, vars: tf.Variable[]) => { value: tf.Scalar; grads: Record<string, tf.Tensor> };

/** Bytes the engine holds when the gradient reaches `x` (the first op of f: the backward's last node). */
function probe(record: (bytes: number) => void): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    return {
      value: tf.clone(x),
      gradFunc: (dy: tf.Tensor) => {
        record(tf.memory().numBytes);
        return tf.clone(dy);
      },
    };
  });
}

describe('lean backward (src/backend/tape.ts)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const [family, config] of Object.entries(TINY_MODELS)) {
    it(`${family}: the same gradients as tf.variableGrads, bit for bit, with less held at the end and no leak`, () => {
      const model = createModel(ModelSchema.parse(config), VOCAB, VOCAB, 5);
      const batch = makeBatch(randomSentences(6, 3, 9, 1), randomSentences(6, 3, 9, 2));
      const first = model.variables[0]!;
      const run = (grads: Grads) => {
        let held = -1;
        model.rngState = 42; // the same dropout masks in both runs
        const before = tf.memory().numTensors;
        const { value, grads: g } = grads(() => {
          // An op on a weight before the model's forward: its gradient is the backward's last step.
          const touched = probe((bytes) => (held = bytes))(first);
          const logits = model.forward(batch, true, 1);
          const { loss } = labelSmoothedLoss(logits, batch.tgtOut, batch.tgtMask, 0.1);
          return tf.add(loss, tf.mul(tf.sum(touched), 1e-3)) as tf.Scalar;
        }, model.variables);
        const out = { value: value.dataSync()[0]!, grads: Object.fromEntries(Object.entries(g).map(([k, t]) => [k, t.dataSync().slice()])), held };
        tf.dispose([value, ...Object.values(g)]);
        assert.equal(tf.memory().numTensors, before, `${family}: live tensors after the step`);
        return out;
      };
      const plain = run((f, vars) => tf.variableGrads(f, vars) as ReturnType<Grads>);
      const lean = run(variableGrads);
      assert.equal(lean.value, plain.value, 'loss');
      assert.deepEqual(Object.keys(lean.grads).sort(), Object.keys(plain.grads).sort(), 'which variables have gradients');
      for (const [name, g] of Object.entries(plain.grads)) assert.deepEqual(lean.grads[name], g, `gradient of ${name}`);
      assert.ok(lean.held > 0 && lean.held < 0.8 * plain.held, `bytes held at the backward's end: ${lean.held} vs tf.variableGrads ${plain.held}`);
      disposeBatch(batch);
      model.dispose?.();
    });
  }

  it("frees shape-only saves only for kernels whose gradient is tfjs's own", () => {
    for (const kernel of OVERRIDDEN_GRADIENTS) assert.ok(!SHAPE_ONLY.has(kernel), `${kernel}: mt's own gradient may read what it saves`);
  });

  it('rejects a non-scalar f and leaves no tape behind', () => {
    const v = tf.variable(tf.ones([3]));
    assert.throws(() => variableGrads(() => tf.mul(v, 2) as unknown as tf.Scalar, [v]), /scalar/);
    assert.equal(tf.engine().state.activeTape, null);
    const { value, grads } = variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]);
    assert.deepEqual([...grads[v.name]!.dataSync()], [2, 2, 2]);
    tf.dispose([value, grads[v.name]!, v]);
  });
});
