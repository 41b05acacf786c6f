/**
 * Building blocks shared by all three families: affine layers that run as one 2-D matmul
 * whatever the input rank (the fast XNNPACK path on wasm), embeddings, layer norm and the
 * output projection (optionally tied to the target embedding).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './params.ts';

/**
 * tanh(x) computed as 2·sigmoid(2x) − 1: wasm's Tanh kernel is scalar libm (~20 ns/element),
 * its Sigmoid is XNNPACK SIMD (~1.2 ns/element); measured 11× faster on [64, 2048].
 */
export function tanh(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
}

/** x [..., In] × w [In, Out] as one 2-D matmul: batched matmuls are slow on wasm. */
export function matMulLast(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  const inner = x.shape[x.rank - 1]!;
  const out = w.shape[1];
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, w);
  const lead = x.shape.slice(0, -1);
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, inner]), w), [...lead, out]);
}

/** y = x W + b over the last axis. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(params: ParamStore, name: string, inSize: number, outSize: number, bias = true) {
    this.weight = params.glorot(`${name}/weight`, inSize, outSize);
    this.bias = bias ? params.zeros(`${name}/bias`, [outSize]) : undefined;
  }

  apply(x: tf.Tensor): tf.Tensor {
    const y = matMulLast(x, this.weight as tf.Tensor2D);
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/** Token embedding table [V, E]; lookup is a gather (its gradient is fixed in src/backend). */
export class Embedding {
  readonly table: tf.Variable;

  constructor(params: ParamStore, name: string, vocabSize: number, size: number) {
    this.table = params.normal(`${name}/table`, [vocabSize, size], 1 / Math.sqrt(size));
  }

  /** ids [...] int32 → [..., E] */
  lookup(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.table, ids);
  }
}

export class LayerNorm {
  readonly gain: tf.Variable;
  readonly bias: tf.Variable;

  constructor(params: ParamStore, name: string, size: number, private readonly epsilon = 1e-6) {
    this.gain = params.ones(`${name}/gain`, [size]);
    this.bias = params.zeros(`${name}/bias`, [size]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(normed, this.gain), this.bias);
  }
}

/**
 * Decoder features [..., F] → logits [..., V]. Tied: logits = (x W_b) Eᵀ + b with the target
 * embedding E, where W_b maps F to the embedding size (omitted when they are equal).
 */
export class OutputLayer {
  private readonly untied: Linear | undefined;
  private readonly bottleneck: Linear | undefined;
  private readonly bias: tf.Variable | undefined;

  constructor(
    params: ParamStore,
    featureSize: number,
    vocabSize: number,
    private readonly tiedTo: Embedding | undefined,
  ) {
    if (!tiedTo) {
      this.untied = new Linear(params, 'output', featureSize, vocabSize);
      return;
    }
    const embSize = tiedTo.table.shape[1]!;
    if (featureSize !== embSize) this.bottleneck = new Linear(params, 'output/bottleneck', featureSize, embSize, false);
    this.bias = params.zeros('output/bias', [vocabSize]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    if (this.untied) return this.untied.apply(x);
    const features = this.bottleneck ? this.bottleneck.apply(x) : x;
    // An explicit transpose keeps the matmul itself untransposed (fast path on wasm).
    const table = tf.transpose(this.tiedTo!.table as tf.Tensor2D);
    return tf.add(matMulLast(features, table), this.bias!);
  }
}
