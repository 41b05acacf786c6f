/**
 * Label-smoothed cross-entropy over the real (non-pad) target positions.
 *
 * The smoothed target puts 1 − ε on the gold token and spreads ε uniformly over all V tokens
 * (PyTorch's `label_smoothing` convention), so per position
 *   loss = (1 − ε) · (−log p(gold)) + ε · mean_v(−log p(v)).
 * The logits are flattened to [B·T, V] and normalised with logSoftmax (numerically stable).
 */
import * as tf from '@tensorflow/tfjs';

export interface LossTerms {
  /** Mean smoothed loss per real target token: what training minimises. */
  loss: tf.Scalar;
  /** Summed −log p(gold) without smoothing, over real tokens: perplexity = exp(nllSum / tokens). */
  nllSum: tf.Scalar;
  /** Number of real target tokens (the mask's sum). */
  tokens: tf.Scalar;
}

export function labelSmoothedLoss(
  logits: tf.Tensor3D,
  target: tf.Tensor2D,
  mask: tf.Tensor2D,
  smoothing: number,
): LossTerms {
  return tf.tidy(() => {
    const [b, t, v] = logits.shape;
    const n = b * t;
    const logProbs = tf.logSoftmax(tf.reshape(logits, [n, v]));
    // oneHot straight to float32 is wrong on wasm (FINDINGS); cast the int32 result instead.
    const gold = tf.cast(tf.oneHot(tf.reshape(target, [n]), v), 'float32');
    const nll = tf.neg(tf.sum(tf.mul(logProbs, gold), 1));
    const real = tf.reshape(mask, [n]);
    const nllSum = tf.sum(tf.mul(nll, real));
    const tokens = tf.sum(real);
    let total = nllSum;
    if (smoothing > 0) {
      const uniform = tf.neg(tf.mean(logProbs, 1));
      const smoothed = tf.add(tf.mul(nll, 1 - smoothing), tf.mul(uniform, smoothing));
      total = tf.sum(tf.mul(smoothed, real));
    }
    const loss = tf.div(total, tf.maximum(tokens, 1)) as tf.Scalar;
    return { loss, nllSum: nllSum as tf.Scalar, tokens: tokens as tf.Scalar };
  });
}
