/** Position information added to the token embeddings: fixed sinusoids or a learned table. */
import * as tf from '@tensorflow/tfjs';

/** PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(…) (Vaswani et al. 2017). */
export function sinusoidalTable(length: number, d: number): tf.Tensor2D {
  const values = new Float32Array(length * d);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < d; i += 2) {
      const angle = p / Math.pow(10000, i / d);
      values[p * d + i] = Math.sin(angle);
      if (i + 1 < d) values[p * d + i + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [length, d]);
}
