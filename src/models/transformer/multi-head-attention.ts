/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017). The model dimension is split
 * into `heads` subspaces; in each, queries are compared with keys (q·k/√d_k), masked, turned
 * into softmax weights and used to average the values; the heads are concatenated and mixed
 * by an output projection.
 *
 * Layouts, chosen so every matmul is untransposed: queries and values [B, h, T, d_k], keys
 * pre-transposed [B, h, d_k, S]. Projections are 2-D matmuls (fused: Q, K, V in one for
 * self-attention; K, V in one for cross-attention, computed once per source).
 */
import * as tf from '@tensorflow/tfjs';
import { Linear } from '../common/layers.ts';
import type { ParamStore } from '../common/params.ts';

/** Keys [B, h, d_k, S] and values [B, h, S, d_k] of one attention layer. */
export interface KeysValues {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
}

export class MultiHeadAttention {
  private readonly dk: number;
  /** self-attention: x → [q; k; v]; cross-attention: x → q and memory → [k; v] */
  private readonly qkv: Linear | undefined;
  private readonly query: Linear | undefined;
  private readonly kv: Linear | undefined;
  private readonly out: Linear;

  constructor(params: ParamStore, name: string, private readonly d: number, private readonly heads: number, self: boolean) {
    this.dk = d / heads;
    if (self) this.qkv = new Linear(params, `${name}/qkv`, d, 3 * d);
    else {
      this.query = new Linear(params, `${name}/query`, d, d);
      this.kv = new Linear(params, `${name}/kv`, d, 2 * d);
    }
    this.out = new Linear(params, `${name}/out`, d, d);
  }

  /** Self-attention: x [B, T, d] → queries (scaled by 1/√d_k) plus this input's keys and values. */
  projectSelf(x: tf.Tensor3D): { queries: tf.Tensor4D } & KeysValues {
    const [q, k, v] = tf.split(this.qkv!.apply(x), 3, 2);
    return { queries: this.toQueries(q!), keys: this.toKeys(k!), values: this.toValues(v!) };
  }

  /** Cross-attention keys and values from the encoder memory [B, S, d]; once per source. */
  projectMemory(memory: tf.Tensor3D): KeysValues {
    const [k, v] = tf.split(this.kv!.apply(memory), 2, 2);
    return { keys: this.toKeys(k!), values: this.toValues(v!) };
  }

  /** Cross-attention queries from the decoder states x [B, T, d]. */
  projectQueries(x: tf.Tensor3D): tf.Tensor4D {
    return this.toQueries(this.query!.apply(x));
  }

  /**
   * queries [B, h, T, d_k], keys/values over S positions, bias broadcastable to [B, h, T, S]
   * (0 or −1e9; none when nothing is masked) → output [B, T, d] and the softmax weights [B, h, T, S].
   */
  attend(queries: tf.Tensor4D, kv: KeysValues, bias: tf.Tensor | undefined): { output: tf.Tensor3D; weights: tf.Tensor4D } {
    const dots = tf.matMul(queries, kv.keys);
    const scores = bias ? tf.add(dots, bias) : dots;
    const weights = tf.softmax(scores) as tf.Tensor4D;
    const perHead = tf.matMul(weights, kv.values); // [B, h, T, d_k]
    const [B, , T] = queries.shape;
    const joined = tf.reshape(tf.transpose(perHead, [0, 2, 1, 3]), [B, T, this.d]);
    return { output: this.out.apply(joined) as tf.Tensor3D, weights };
  }

  private split(x: tf.Tensor): tf.Tensor4D {
    const [B, T] = x.shape;
    return tf.reshape(x, [B!, T!, this.heads, this.dk]) as tf.Tensor4D;
  }

  private toQueries(x: tf.Tensor): tf.Tensor4D {
    return tf.transpose(tf.mul(this.split(x), 1 / Math.sqrt(this.dk)) as tf.Tensor4D, [0, 2, 1, 3]);
  }

  private toKeys(x: tf.Tensor): tf.Tensor4D {
    return tf.transpose(this.split(x), [0, 2, 3, 1]);
  }

  private toValues(x: tf.Tensor): tf.Tensor4D {
    return tf.transpose(this.split(x), [0, 2, 1, 3]);
  }
}
