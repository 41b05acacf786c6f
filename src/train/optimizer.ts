/**
 * Adam and AdamW on tfjs ops, with their moment estimates in named variables so that a
 * checkpoint can store and restore them exactly (tf.train.adam keeps its state out of reach),
 * plus gradient clipping by global norm and gradient accumulation.
 *
 * Adam's weight decay is L2 added to the gradient (as PyTorch's Adam); AdamW's is decoupled:
 * p ← p − lr·wd·p besides the Adam step (Loshchilov & Hutter 2019).
 */
import * as tf from '@tensorflow/tfjs';

export type Gradients = Record<string, tf.Tensor>;

export interface AdamOptions {
  decoupled: boolean;
  beta1: number;
  beta2: number;
  weightDecay: number;
  epsilon?: number;
}

export class Adam {
  /** Stable names (for checkpoints) and the variables they name. */
  private readonly names: string[];
  private readonly params: tf.Variable[];
  private readonly opts: Required<AdamOptions>;
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  /** Updates applied so far (Adam's t, used for bias correction). */
  updates = 0;

  /** `params`: the model's variables by stable name (NmtModel.namedVariables). */
  constructor(params: ReadonlyMap<string, tf.Variable>, opts: AdamOptions) {
    this.names = [...params.keys()];
    this.params = [...params.values()];
    this.opts = { epsilon: 1e-8, ...opts };
    // tidy frees the zeros once the variables hold their own reference.
    this.m = tf.tidy(() => this.params.map((p) => tf.variable(tf.zerosLike(p), false)));
    this.v = tf.tidy(() => this.params.map((p) => tf.variable(tf.zerosLike(p), false)));
  }

  /** One update from `grads` (keyed by tfjs variable name, as tf.variableGrads gives them) at rate `lr`. */
  apply(grads: Gradients, lr: number): void {
    this.updates += 1;
    const { beta1, beta2, weightDecay, decoupled, epsilon } = this.opts;
    const stepSize = lr / (1 - beta1 ** this.updates);
    const vCorrection = 1 - beta2 ** this.updates;
    this.params.forEach((p, i) => {
      const grad = grads[p.name];
      // A weight the loss does not depend on (tf.variableGrads leaves it out) stays as it is.
      if (!grad) return;
      const m = this.m[i]!;
      const v = this.v[i]!;
      // Each formula in its own tidy, so that only its result outlives it: one tidy over the
      // whole update held some ten temporaries of the weight's size (of every weight's, when it
      // spanned all of them), and that was the peak of a data-parallel step's main thread.
      const g = weightDecay > 0 && !decoupled ? tf.tidy(() => tf.add(grad, tf.mul(p, weightDecay))) : grad;
      tf.tidy(() => void m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))));
      tf.tidy(() => void v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2))));
      if (g !== grad) g.dispose();
      const denominator = tf.tidy(() => tf.add(tf.sqrt(tf.div(v, vCorrection)), epsilon));
      const step = tf.tidy(() => tf.div(tf.mul(m, stepSize), denominator));
      denominator.dispose();
      tf.tidy(() => void p.assign(tf.sub(weightDecay > 0 && decoupled ? tf.mul(p, 1 - lr * weightDecay) : p, step)));
      step.dispose();
    });
  }

  /** The moments as named tensors (`m/<stable name>`, `v/<stable name>`); owned by the optimizer. */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    this.names.forEach((name, i) => {
      out[`m/${name}`] = this.m[i]!;
      out[`v/${name}`] = this.v[i]!;
    });
    return out;
  }

  /** Restore moments saved by stateTensors() and the update count. */
  loadState(tensors: Record<string, tf.Tensor>, updates: number): void {
    this.names.forEach((name, i) => {
      for (const [key, target] of [[`m/${name}`, this.m[i]!], [`v/${name}`, this.v[i]!]] as const) {
        const t = tensors[key];
        if (!t) throw new Error(`optimizer state has no tensor ${key}`);
        if (t.shape.join(',') !== target.shape.join(',')) {
          throw new Error(`optimizer state ${key} has shape [${t.shape}] but the variable has [${target.shape}]`);
        }
        target.assign(t);
      }
    });
    this.updates = updates;
  }

  dispose(): void {
    tf.dispose([...this.m, ...this.v]);
  }
}

/**
 * Scale all gradients by min(1, maxNorm / globalNorm). Takes over `grads` (each is disposed
 * once its scaled copy exists, so that two full sets never coexist) and returns the scaled
 * gradients and the global norm before clipping. maxNorm 0 leaves them unscaled.
 */
export function clipByGlobalNorm(grads: Gradients, maxNorm: number): { grads: Gradients; norm: tf.Scalar } {
  const names = Object.keys(grads);
  // Each weight's sum of squares in its own tidy: the squares of all weights at once are
  // another model-sized set of temporaries.
  const sums = names.map((n) => tf.tidy(() => tf.sum(tf.square(grads[n]!))));
  const { norm, scale } = tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(sums)) as tf.Scalar;
    const scale = maxNorm > 0 ? tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) : tf.scalar(1);
    return { norm, scale };
  });
  tf.dispose(sums);
  const clipped: Gradients = {};
  for (const n of names) {
    clipped[n] = tf.mul(grads[n]!, scale);
    grads[n]!.dispose();
  }
  scale.dispose();
  return { grads: clipped, norm };
}

/**
 * Sums gradients over `accum_steps` batches; `mean()` gives their average, as if the batches
 * had been one (each batch's loss is already a per-token mean).
 */
export class GradientAccumulator {
  private sum: Gradients | undefined;
  count = 0;

  /** Add `grads` (taken over: they are disposed here). */
  add(grads: Gradients): void {
    this.count += 1;
    if (!this.sum) {
      this.sum = grads;
      return;
    }
    const previous = this.sum;
    this.sum = tf.tidy(() => Object.fromEntries(Object.keys(previous).map((n) => [n, tf.add(previous[n]!, grads[n]!)])));
    tf.dispose([Object.values(previous), Object.values(grads)]);
  }

  /** The average of what was added; resets the accumulator. The caller disposes the result. */
  mean(): Gradients {
    if (!this.sum) throw new Error('no gradients accumulated');
    const sum = this.sum;
    const count = this.count;
    this.sum = undefined;
    this.count = 0;
    if (count === 1) return sum;
    const mean = tf.tidy(() => Object.fromEntries(Object.keys(sum).map((n) => [n, tf.div(sum[n]!, count)])));
    tf.dispose(Object.values(sum));
    return mean;
  }

  dispose(): void {
    if (this.sum) tf.dispose(Object.values(this.sum));
    this.sum = undefined;
    this.count = 0;
  }
}
