import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { UserError } from '../src/errors.ts';
import { createModel } from '../src/models/index.ts';
import {
  BOS,
  VOCAB,
  assertClose,
  checkEachVariant,
  checkForwardWithAttention,
  disposeBatch,
  learnTask,
  makeBatch,
  modelConfig,
} from './helpers/models.ts';

const tiny = { type: 'transformer', d_model: 8, heads: 2, ff_size: 16, encoder_layers: 2, decoder_layers: 2, dropout: 0.1, max_positions: 32 };
const VARIANTS: Record<string, Record<string, unknown>> = {
  'pre-norm, sinusoidal, tied': { ...tiny, norm: 'pre', positions: 'sinusoidal', tie_embeddings: true },
  'post-norm, learned, untied': { ...tiny, norm: 'post', positions: 'learned', tie_embeddings: false },
  'pre-norm, learned, untied, 1+3 layers': { ...tiny, norm: 'pre', positions: 'learned', tie_embeddings: false, encoder_layers: 1, decoder_layers: 3 },
  'post-norm, sinusoidal, tied, 4 heads': { ...tiny, norm: 'post', heads: 4, tie_embeddings: true },
};

describe('transformer model', () => {
  before(async () => {
    await initBackend('wasm');
  });

  checkEachVariant(VARIANTS);

  it('forwardWithAttention gives the logits of forward and cross-attention weights per target position', async () => {
    const model = createModel(modelConfig(VARIANTS['pre-norm, sinusoidal, tied']!), 15, VOCAB, 3);
    const rows = await checkForwardWithAttention(model);
    for (const row of rows) assertClose([row.reduce((a, b) => a + b, 0)], [1], 1e-5, 'weights sum to 1');
    model.dispose();
  });

  it('decodeStep gives every layer\'s per-head cross-attention [B, layers, heads, S] only when asked; the logits and averaged attention unchanged', () => {
    const model = createModel(modelConfig(VARIANTS['pre-norm, learned, untied, 1+3 layers']!), 15, VOCAB, 3);
    const enc = model.encode(tf.tensor2d([[3, 4, 5], [6, 7, 0]], undefined, 'int32'), tf.tensor2d([[1, 1, 1], [1, 1, 0]]));
    const state = model.initDecoderState(enc);
    const prev = tf.tensor1d([BOS, BOS], 'int32');
    const plain = model.decodeStep(enc, state, prev);
    const withHeads = model.decodeStep(enc, state, prev, { attentionHeads: true });
    assert.equal(plain.attentionHeads, undefined);
    assert.deepEqual(withHeads.attentionHeads!.shape, [2, 3, 2, 3]);
    assert.deepEqual(withHeads.logProbs.arraySync(), plain.logProbs.arraySync());
    assert.deepEqual(withHeads.attention!.arraySync(), plain.attention!.arraySync());
    const lastMean = tf.tidy(() => tf.mean(tf.slice(withHeads.attentionHeads!, [0, 2, 0, 0], [-1, 1, -1, -1]), [1, 2]));
    assertClose(Array.from(lastMean.dataSync()), Array.from(plain.attention!.dataSync()), 1e-6, 'the last layer\'s head mean is the attention');
    const sums = tf.tidy(() => tf.sum(withHeads.attentionHeads!, 3));
    assertClose(Array.from(sums.dataSync()), new Array<number>(2 * 3 * 2).fill(1), 1e-5, 'every head\'s weights sum to 1');
    // The padded source position of sentence 2 gets no weight.
    const padded = tf.tidy(() => tf.slice(withHeads.attentionHeads!, [1, 0, 0, 2], [1, -1, -1, 1]));
    assert.ok(Array.from(padded.dataSync()).every((w) => w < 1e-6));
    tf.dispose([prev, lastMean, sums, padded, plain.logProbs, plain.attention!, withHeads.logProbs, withHeads.attention!, withHeads.attentionHeads!]);
    tf.dispose([...Object.values(plain.state.tensors), ...Object.values(withHeads.state.tensors), ...Object.values(enc.tensors)]);
    model.dispose();
  });

  it('refuses positions beyond max_positions with a clear message', () => {
    const model = createModel(modelConfig({ ...tiny, max_positions: 4 }), 15, VOCAB, 3);
    const batch = makeBatch([[3, 4, 5, 6, 7]], [[5, 4]]);
    assert.throws(() => model.forward(batch, false), (e: unknown) => e instanceof UserError && /5 tokens is longer than model\.max_positions \(4\)/.test(e.message));
    const enc = model.encode(tf.tensor2d([[3, 4]], undefined, 'int32'), tf.tensor2d([[1, 1]]));
    let state = model.initDecoderState(enc);
    const prev = tf.tensor1d([BOS], 'int32');
    for (let t = 0; t < 4; t++) {
      const step = model.decodeStep(enc, state, prev);
      tf.dispose([step.logProbs, step.attention!, ...Object.values(state.tensors)]);
      state = step.state;
    }
    assert.throws(() => model.decodeStep(enc, state, prev), UserError);
    tf.dispose([prev, ...Object.values(state.tensors), ...Object.values(enc.tensors)]);
    disposeBatch(batch);
    model.dispose();
  });

  it('learns to copy random sequences (≥ 95% exact match, greedy)', async () => {
    const config = modelConfig({ type: 'transformer', d_model: 32, heads: 2, ff_size: 64, encoder_layers: 1, decoder_layers: 1, dropout: 0 });
    const model = createModel(config, VOCAB, VOCAB, 1);
    const { accuracy, steps } = await learnTask(model, { task: 'copy', maxSteps: 600, lr: 3e-3, batchSize: 64 });
    assert.ok(accuracy >= 0.95, `accuracy ${accuracy} after ${steps} steps`);
    model.dispose();
  });
});
