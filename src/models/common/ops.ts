/**
 * The maths ops the models and the loss (src/train/loss.ts) compute with where tfjs's own are
 * slow on wasm or hold more memory than they need: tanh, log-sum-exp, the row mean and a masked
 * multiply (dropout) with their own gradients, matmuls over the last axis as
 * one 2-D matmul, and the shared weight transposes of time loops (StepMatMul). Each computes
 * what the plain formula does (test/perf-equivalence.test.ts, test/ops.test.ts); only speed
 * or memory differs. No layer or model code here: the layers (layers.ts, rnn.ts …) build on these.
 */
import * as tf from '@tensorflow/tfjs';

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

/**
 * The mean of each row of x [N, V] → [N]. Its gradient, dy / V broadcast to [N, V], is the
 * value tfjs's Mean gradient gives (dy · ones / V; dy · 1 is exact), made as one [N, V] tensor,
 * [N, 1] · [1, V] broadcast by XNNPACK's multiply, where that one makes three (the ones, their
 * product, the quotient): for the loss's 8,000-way logits those were the largest transient of a
 * training step. Not tf.broadcastTo: on wasm that is the Tile kernel, a scalar index loop that
 * took 15% of a training step (0.6 s of 3.7 s).
 */
export const rowMean: (x: tf.Tensor2D) => tf.Tensor1D = tf.customGrad((...args: CustomGradArgs) => {
  const [x] = args as [tf.Tensor2D];
  const [n, v] = x.shape;
  return {
    value: tf.mean(x, 1),
    gradFunc: (dy: tf.Tensor) => tf.mul(tf.reshape(tf.div(dy, v), [n, 1]), tf.ones([1, v])),
  };
}) as (x: tf.Tensor2D) => tf.Tensor1D;

/** Log-probabilities over the last axis of [N, V] scores: x − logSumExp(x). */
export function logSoftmax(x: tf.Tensor2D): tf.Tensor2D {
  return tf.sub(x, tf.expandDims(logSumExp(x), 1));
}

/**
 * x · mask for a constant mask, whose gradient dy · mask is what autodiff of tf.mul gives
 * (bit-identical), but which saves only the mask for it: tf.mul saves x too (for a gradient
 * of the mask nobody asks for), which kept every dropout's input alive until the backward.
 */
export function maskedMul(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  const masked = tf.customGrad((...args: CustomGradArgs) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([mask]);
    return { value: tf.mul(input, mask), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, saved!) };
  });
  const y = masked(x);
  mask.dispose();
  return y;
}

/**
 * tf.tidy for a function that returns an interface-typed record of tensors (an RNN state, a
 * decoder step), which tf.tidy's TensorContainer type does not admit without an index signature.
 */
export function tidyRecord<T extends object>(f: () => T): T {
  return tf.tidy(f as unknown as () => tf.TensorContainer) as unknown as T;
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
 * otherwise it is a plain matmul. The transposes live until the pass ends.
 *
 * Each model owns one (its ParamStore's `steps`, which the layers' per-step methods use) and
 * runs every forward pass through `pass`, inside the pass's tf.tidy; outside a pass (decoding)
 * it is a plain matmul.
 */
export class StepMatMul {
  private transposed = new Map<tf.Tensor, tf.Tensor2D>();

  /** `training`: a backward will run over the matmuls (not for decoding or validation). */
  constructor(private training = false) {}

  /**
   * Run `f`, one forward pass (call it inside the pass's tf.tidy): its matmuls share one
   * transpose per weight when `training`. The transposes are forgotten when it returns.
   */
  pass<T>(training: boolean, f: () => T): T {
    const outer = { training: this.training, transposed: this.transposed };
    this.training = training;
    this.transposed = new Map();
    try {
      return f();
    } finally {
      // Kept (a time step may run in its own tidy) until the pass ends; the backward's saved
      // copies share their buffers.
      tf.dispose([...this.transposed.values()]);
      this.training = outer.training;
      this.transposed = outer.transposed;
    }
  }

  /** x [..., In] × w [In, Out] */
  apply(x: tf.Tensor, w: tf.Tensor2D): tf.Tensor {
    if (!this.training) return matMulLast(x, w);
    if (x.rank !== 2) return tf.reshape(this.apply(tf.reshape(x, [-1, w.shape[0]]), w), [...x.shape.slice(0, -1), w.shape[1]]);
    let wT = this.transposed.get(w);
    if (!wT) {
      wT = tf.keep(tf.transpose(w));
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
