/**
 * Building blocks shared by all three families: affine layers that run as one 2-D matmul
 * whatever the input rank (the fast XNNPACK path on wasm), embeddings, layer norm and the
 * output projection (optionally tied to the target embedding).
 */
import * as tf from '@tensorflow/tfjs';
import { matMulLast, type StepMatMul } from './ops.ts';
import type { ParamStore } from './params.ts';

/** y = x W + b over the last axis. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;
  private readonly steps: StepMatMul;

  constructor(params: ParamStore, name: string, inSize: number, outSize: number, bias = true) {
    this.weight = params.glorot(`${name}/weight`, inSize, outSize);
    this.bias = bias ? params.zeros(`${name}/bias`, [outSize]) : undefined;
    this.steps = params.steps;
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.withBias(matMulLast(x, this.weight as tf.Tensor2D));
  }

  /** apply() at one step of a time loop: the model's pass shares the weight's transpose (see StepMatMul). */
  applyStep(x: tf.Tensor): tf.Tensor {
    return this.withBias(this.steps.apply(x, this.weight as tf.Tensor2D));
  }

  private withBias(y: tf.Tensor): tf.Tensor {
    return this.bias ? tf.add(y, this.bias) : y;
  }
}

/** Token embedding table [V, E]; lookup is a gather (its gradient is fixed in src/backend). */
/**
 * Initial spread of the RNN models' word vectors: N(0, 1), PyTorch's nn.Embedding default. With
 * N(0, 1/E) the inputs to the first GRU layer started ~10× weaker and the quickstart model was
 * still at train ppl 188 at step 100 (37.7 with N(0, 1); docs/results.md).
 */
export const RNN_EMBEDDING_STD = 1;

export class Embedding {
  readonly table: tf.Variable;

  /** `std`: of the initial vectors (the Transformer scales its lookups by √size, the RNNs do not). */
  constructor(params: ParamStore, name: string, vocabSize: number, size: number, std: number) {
    this.table = params.normal(`${name}/table`, [vocabSize, size], std);
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
  /** Decoding's Eᵀ, and the buffer of E it was made from (E changes when trained or loaded). */
  private decodingTable: { source: object; transposed: tf.Tensor2D } | undefined;
  /** decodeConstant's cut of the first projection's weight, and the buffer it was cut from. */
  private slices: { source: object; varyingSize: number; varying: tf.Tensor2D; constant: tf.Tensor2D } | undefined;

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
    // An explicit transpose keeps the matmul itself untransposed (fast path on wasm).
    const tableT = tf.transpose(this.tiedTo!.table as tf.Tensor2D);
    return this.tiedLogits(this.bottleneck ? this.bottleneck.apply(x) : x, tableT);
  }

  /** apply() at one step of a time loop (see StepMatMul). */
  applyStep(x: tf.Tensor): tf.Tensor {
    if (this.untied) return this.untied.applyStep(x);
    const tableT = tf.transpose(this.tiedTo!.table as tf.Tensor2D);
    return this.tiedLogits(this.bottleneck ? this.bottleneck.applyStep(x) : x, tableT);
  }

  /**
   * apply() for decoding steps, where no gradient is taken: the tied table's transpose is made
   * once and reused by every step (re-transposing the 8000 × 256 table cost ~4% of a step).
   */
  decode(x: tf.Tensor): tf.Tensor {
    if (this.untied) return this.untied.apply(x);
    return this.decodeTied(this.bottleneck ? this.bottleneck.apply(x) : x);
  }

  /** Tied logits of bottleneck outputs [..., E], with the cached Eᵀ. */
  private decodeTied(features: tf.Tensor): tf.Tensor {
    const table = this.tiedTo!.table;
    if (this.decodingTable?.source !== table.dataId) {
      this.decodingTable?.transposed.dispose();
      this.decodingTable = { source: table.dataId, transposed: tf.keep(tf.transpose(table as tf.Tensor2D)) };
    }
    return this.tiedLogits(features, this.decodingTable.transposed);
  }

  /**
   * For decoding with features [x; c] whose last columns c stay the same at every step of a
   * sentence (seq2seq's context vector): c's share of the first projection (the output layer
   * itself, or the tied layer's bottleneck), computed once per sentence at encode time. Each
   * step then multiplies only x (decodeWithConstant); at 256 of 768 feature columns that is a
   * third of the 8000-way projection saved per step. Undefined where there is no first
   * projection to split (tied without a bottleneck).
   */
  decodeConstant(c: tf.Tensor2D, varyingSize: number): tf.Tensor2D | undefined {
    const first = this.untied ?? this.bottleneck;
    if (!first) return undefined;
    const y = matMulLast(c, this.decodingSlices(first, varyingSize).constant) as tf.Tensor2D;
    return first.bias ? tf.add(y, first.bias) as tf.Tensor2D : y;
  }

  /** decode([x; c]) from x [B, varyingSize] and decodeConstant(c): equal up to float rounding (another summation order). */
  decodeWithConstant(x: tf.Tensor2D, constant: tf.Tensor2D): tf.Tensor {
    const first = (this.untied ?? this.bottleneck)!;
    const projected = tf.add(matMulLast(x, this.decodingSlices(first, x.shape[1]).varying), constant);
    return this.untied ? projected : this.decodeTied(projected);
  }

  dispose(): void {
    this.decodingTable?.transposed.dispose();
    this.decodingTable = undefined;
    this.releaseSlices();
  }

  /** The first projection's weight cut into its varying rows and its constant rows, made once per weight buffer. */
  private decodingSlices(first: Linear, varyingSize: number): { varying: tf.Tensor2D; constant: tf.Tensor2D } {
    const w = first.weight as tf.Tensor2D;
    if (this.slices?.source !== w.dataId || this.slices.varyingSize !== varyingSize) {
      this.releaseSlices();
      const varying = tf.keep(tf.slice(w, [0, 0], [varyingSize, -1]));
      const constant = tf.keep(tf.slice(w, [varyingSize, 0], [-1, -1]));
      this.slices = { source: w.dataId, varyingSize, varying, constant };
    }
    return this.slices;
  }

  private releaseSlices(): void {
    this.slices?.varying.dispose();
    this.slices?.constant.dispose();
    this.slices = undefined;
  }

  /** x W_b [..., E] (x itself without a bottleneck) → logits (x W_b) Eᵀ + b. */
  private tiedLogits(features: tf.Tensor, tableT: tf.Tensor2D): tf.Tensor {
    return tf.add(matMulLast(features, tableT), this.bias!);
  }
}
