/**
 * Attention over the encoder states: each decoder step asks a *query* (its hidden state),
 * compares it with one *key* per source position to get *alignment scores*, turns the scores
 * into *softmax weights* (padded source positions masked out), and returns the weighted sum of
 * the *values* (the encoder states) — the *context vector* for that step.
 *
 *   bahdanau          score(q, k_s) = vᵀ tanh(W_q q + W_k m_s)      (additive; Bahdanau et al. 2015)
 *   luong_dot         score(q, k_s) = qᵀ m_s                         (Luong et al. 2015)
 *   luong_general     score(q, k_s) = qᵀ W_a m_s
 *   luong_scaled_dot  score(q, k_s) = qᵀ m_s / √H                    (as in the Transformer)
 *
 * Keys depend only on the source, so `prepareKeys` computes them once per batch (for Bahdanau
 * the projection W_k m, for Luong the transposed [B, H, S] matrix, so that the per-step score
 * is an untransposed matmul).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { Linear } from '../common/layers.ts';
import { tanh } from '../common/ops.ts';
import type { ParamStore } from '../common/params.ts';

export type AttentionKind = Extract<ModelConfig, { type: 'attention' }>['attention'];

/** Added to the scores of padded source positions before the softmax. */
const MASKED_SCORE = -1e9;

/** [B, S] 1/0 source mask → [B, 1, S] additive bias (0 or −1e9), computed once per batch. */
export function maskBias(srcMask: tf.Tensor2D): tf.Tensor3D {
  return tf.expandDims(tf.mul(tf.sub(1, srcMask), MASKED_SCORE), 1) as tf.Tensor3D;
}

export class Attention {
  private readonly queryLayer: Linear | undefined;
  private readonly keyLayer: Linear | undefined;
  private readonly scoreVector: Linear | undefined;

  constructor(params: ParamStore, readonly kind: AttentionKind, private readonly hiddenSize: number) {
    if (kind === 'bahdanau') {
      this.queryLayer = new Linear(params, 'attention/query', hiddenSize, hiddenSize, false);
      this.keyLayer = new Linear(params, 'attention/key', hiddenSize, hiddenSize);
      this.scoreVector = new Linear(params, 'attention/score', hiddenSize, 1, false);
    } else if (kind === 'luong_general') {
      this.keyLayer = new Linear(params, 'attention/key', hiddenSize, hiddenSize, false);
    }
  }

  /** memory [B, S, H] → keys: [B, S, H] (bahdanau) or transposed [B, H, S] (luong). */
  prepareKeys(memory: tf.Tensor3D): tf.Tensor3D {
    if (this.kind === 'bahdanau') return this.keyLayer!.apply(memory) as tf.Tensor3D;
    const keys = this.keyLayer ? this.keyLayer.apply(memory) : memory;
    return tf.transpose(keys, [0, 2, 1]) as tf.Tensor3D;
  }

  /**
   * query [B, T, H] (T = 1 for one decoder step), keys from prepareKeys, values [B, S, H],
   * bias [B, 1, S] → context vectors [B, T, H] and softmax weights [B, T, S].
   */
  attend(query: tf.Tensor3D, keys: tf.Tensor3D, values: tf.Tensor3D, bias: tf.Tensor3D): { context: tf.Tensor3D; weights: tf.Tensor3D } {
    return this.attendWith(query, keys, values, bias, false);
  }

  /** attend() at one decoder step, inside a time loop (see StepMatMul). */
  attendStep(query: tf.Tensor3D, keys: tf.Tensor3D, values: tf.Tensor3D, bias: tf.Tensor3D): { context: tf.Tensor3D; weights: tf.Tensor3D } {
    return this.attendWith(query, keys, values, bias, true);
  }

  private attendWith(
    query: tf.Tensor3D,
    keys: tf.Tensor3D,
    values: tf.Tensor3D,
    bias: tf.Tensor3D,
    inLoop: boolean,
  ): { context: tf.Tensor3D; weights: tf.Tensor3D } {
    const scores = tf.add(this.alignmentScores(query, keys, inLoop), bias);
    const weights = tf.softmax(scores) as tf.Tensor3D;
    const context = tf.matMul(weights, values) as tf.Tensor3D;
    return { context, weights };
  }

  /** [B, T, S] */
  private alignmentScores(query: tf.Tensor3D, keys: tf.Tensor3D, inLoop: boolean): tf.Tensor {
    if (this.kind !== 'bahdanau') {
      const scores = tf.matMul(query, keys);
      return this.kind === 'luong_scaled_dot' ? tf.mul(scores, 1 / Math.sqrt(this.hiddenSize)) : scores;
    }
    const [B, T] = query.shape;
    const S = keys.shape[1];
    // tanh(W_q q_t + W_k m_s) for every (t, s): [B, T, S, H], then one 2-D matmul with v.
    const apply = (layer: Linear, x: tf.Tensor) => (inLoop ? layer.applyStep(x) : layer.apply(x));
    const q = tf.expandDims(apply(this.queryLayer!, query), 2);
    const hidden = tanh(tf.add(q, tf.expandDims(keys, 1)));
    return tf.reshape(apply(this.scoreVector!, hidden), [B, T, S]);
  }
}
