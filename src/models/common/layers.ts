/**
 * Building blocks shared by all three families: affine layers that run as one 2-D matmul
 * whatever the input rank (the fast XNNPACK path on wasm), embeddings, layer norm and the
 * output projection (optionally tied to the target embedding).
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamStore } from './params.ts';

/** tf.customGrad passes the inputs, then the function that saves tensors for the gradient. */
type CustomGradArgs = (tf.Tensor | tf.GradSaveFunc)[];

/**
 * tanh(x) computed as 2·sigmoid(2x) − 1: wasm's Tanh kernel is scalar libm (~20 ns/element),
 * its Sigmoid is XNNPACK SIMD (~1.2 ns/element); measured 11× faster on [64, 2048]. The
 * gradient is tanh's own, dy·(1 − y²): three ops instead of autodiff's five through the chain.
 */
export const tanh: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: CustomGradArgs) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const y = tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);
  save([y]);
  return { value: y, gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, tf.sub(1, tf.square(saved!))) };
});

/**
 * log Σ_v exp(x[n, v]) for x [N, V] → [N], from the softmax: with m the row maximum,
 * softmax(x) at the argmax is exp(0) / Σ_v exp(x_v − m), so lse = m − log(max_v softmax(x)).
 * wasm's Exp kernel is scalar libm (64 ms for [896, 8000]); its Softmax is XNNPACK's vectorised
 * one (9.5 ms). The gradient, softmax(x)·dy, reuses the forward's softmax (one pass), where
 * autodiff through max/exp/sum/log would take several.
 */
export const logSumExp: (x: tf.Tensor2D) => tf.Tensor1D = tf.customGrad((...args: CustomGradArgs) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const probs = tf.softmax(x);
  save([probs]);
  return {
    value: tf.sub(tf.max(x, 1), tf.log(tf.max(probs, 1))),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(saved!, tf.reshape(dy, [-1, 1])),
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

/** Log-probabilities over the last axis of [N, V] scores: x − logSumExp(x). */
export function logSoftmax(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(x, tf.expandDims(logSumExp(x), 1));
}

/** x [..., In] × w [In, Out] as one 2-D matmul: batched matmuls are slow on wasm. */
export function matMulLast(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
  const inner = x.shape[x.rank - 1]!;
  const out = w.shape[1];
  if (x.rank === 2) return tf.matMul(x as tf.Tensor2D, w);
  const lead = x.shape.slice(0, -1);
  return tf.reshape(tf.matMul(tf.reshape(x, [-1, inner]), w), [...lead, out]);
}

/**
 * Matmuls by the weights of a time loop (RNN steps, attention at every decoder step), for one
 * forward pass. Autodiff's backward of x·W transposes W anew at every step, and XNNPACK then
 * repacks that fresh copy: a GRU+attention training step spent ~15% of its time there. In
 * training, this transposes each weight once per pass and every step's backward reuses it;
 * otherwise it is a plain matmul. The transposes belong to the enclosing tf.tidy, so create one
 * per forward pass inside it.
 */
export class StepMatMul {
  /** No backward will run (decoding, validation). */
  static readonly plain = new StepMatMul(false);

  private readonly transposed = new Map<tf.Tensor, tf.Tensor2D>();

  constructor(private readonly training: boolean) {}

  /** x [..., In] × w [In, Out] */
  apply(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
    if (!this.training) return matMulLast(x, w);
    if (x.rank !== 2) return tf.reshape(this.apply(tf.reshape(x, [-1, w.shape[0]]), w), [...x.shape.slice(0, -1), w.shape[1]]);
    let wT = this.transposed.get(w);
    if (!wT) {
      wT = tf.transpose(w);
      this.transposed.set(w, wT);
    }
    const shared = wT;
    const matMul = tf.customGrad((...args: CustomGradArgs) => {
      const [input, weight, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([input, shared]);
      return {
        value: tf.matMul(input as tf.Tensor2D, weight as tf.Tensor2D),
        gradFunc: (dy: tf.Tensor, [saved, savedT]: tf.Tensor[]) => [
          tf.matMul(dy as tf.Tensor2D, savedT as tf.Tensor2D),
          tf.matMul(tf.transpose(saved as tf.Tensor2D), dy as tf.Tensor2D),
        ],
      };
    });
    return matMul(x, w);
  }
}

/** y = x W + b over the last axis. */
export class Linear {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(params: ParamStore, name: string, inSize: number, outSize: number, bias = true) {
    this.weight = params.glorot(`${name}/weight`, inSize, outSize);
    this.bias = bias ? params.zeros(`${name}/bias`, [outSize]) : undefined;
  }

  /** `steps`: when applied at every step of a time loop (see StepMatMul). */
  apply(x: tf.Tensor, steps?: StepMatMul): tf.Tensor {
    const y = steps ? steps.apply(x, this.weight as tf.Tensor2D) : matMulLast(x, this.weight as tf.Tensor2D);
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

  /** `steps`: when applied at every step of a time loop (see StepMatMul). */
  apply(x: tf.Tensor, steps?: StepMatMul): tf.Tensor {
    if (this.untied) return this.untied.apply(x, steps);
    // An explicit transpose keeps the matmul itself untransposed (fast path on wasm).
    return this.tiedLogits(x, tf.transpose(this.tiedTo!.table as tf.Tensor2D), steps);
  }

  /**
   * apply() for decoding steps, where no gradient is taken: the tied table's transpose is made
   * once and reused by every step (re-transposing the 8000 × 256 table cost ~4% of a step).
   */
  decode(x: tf.Tensor): tf.Tensor {
    if (this.untied) return this.untied.apply(x);
    const table = this.tiedTo!.table;
    if (this.decodingTable?.source !== table.dataId) {
      this.decodingTable?.transposed.dispose();
      this.decodingTable = { source: table.dataId, transposed: tf.keep(tf.transpose(table as tf.Tensor2D)) };
    }
    return this.tiedLogits(x, this.decodingTable.transposed);
  }

  dispose(): void {
    this.decodingTable?.transposed.dispose();
    this.decodingTable = undefined;
  }

  private tiedLogits(x: tf.Tensor, tableT: tf.Tensor2D, steps?: StepMatMul): tf.Tensor {
    const features = this.bottleneck ? this.bottleneck.apply(x, steps) : x;
    return tf.add(matMulLast(features, tableT), this.bias!);
  }
}
