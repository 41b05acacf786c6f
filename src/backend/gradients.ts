/**
 * Gradient overrides registered after tfjs loads, so that training is fast and works on wasm.
 *
 * - BatchMatMul: tfjs-core's gradient calls matMul with transposeA/transposeB set. On wasm only
 *   the untransposed matmul takes XNNPACK's fast path; the transposed one is a scalar loop
 *   (≈7× slower backward, see docs/performance.md). Transposing explicitly first is the same maths.
 * - GatherV2 (embedding lookup): tfjs-core's gradient uses UnsortedSegmentSum, which wasm lacks
 *   and cpu implements by looping over the whole vocabulary. ScatterNd sums duplicate indices
 *   and exists on every backend.
 */
import * as tf from '@tensorflow/tfjs';

function maybeTranspose(x: tf.Tensor, transpose: boolean): tf.Tensor {
  if (!transpose) return x;
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/** matMul(a, b, tA, tB) computed with an explicit transpose and an untransposed matmul. */
function plainMatMul(a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean): tf.Tensor {
  return tf.matMul(maybeTranspose(a, tA), maybeTranspose(b, tB));
}

const batchMatMulGrad: tf.GradConfig = {
  kernelName: 'BatchMatMul',
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    const dyT = dy as tf.Tensor;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) {
      return { a: () => plainMatMul(dyT, b, false, true), b: () => plainMatMul(a, dyT, true, false) };
    }
    if (!transposeA && transposeB) {
      return { a: () => plainMatMul(dyT, b, false, false), b: () => plainMatMul(dyT, a, true, false) };
    }
    if (transposeA && !transposeB) {
      return { a: () => plainMatMul(b, dyT, false, true), b: () => plainMatMul(a, dyT, false, false) };
    }
    return { a: () => plainMatMul(b, dyT, true, true), b: () => plainMatMul(dyT, a, true, true) };
  },
};

const gatherGrad: tf.GradConfig = {
  kernelName: 'GatherV2',
  inputsToSave: ['x', 'indices'],
  gradFunc: (dy, saved, attrs) => {
    const [x, indices] = saved as [tf.Tensor, tf.Tensor];
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    if (batchDims !== 0) throw new Error('mt: gather gradient supports batchDims 0 only');
    const ax = axis < 0 ? axis + x.rank : axis;
    return {
      x: () => {
        const outer = x.shape.slice(0, ax);
        const inner = x.shape.slice(ax + 1);
        const n = indices.size;
        // dy has shape [...outer, ...indices.shape, ...inner]; bring the gathered axis first.
        const values = tf.reshape(dy as tf.Tensor, [...outer, n, ...inner]);
        const toFront = [outer.length, ...outer.map((_, i) => i), ...inner.map((_, i) => outer.length + 1 + i)];
        const front = tf.transpose(values, toFront);
        const summed = tf.scatterND(
          tf.reshape(indices, [n, 1]),
          front,
          [x.shape[ax]!, ...outer, ...inner],
        );
        const back = toFront.map((_, i) => toFront.indexOf(i));
        return tf.transpose(summed, back);
      },
      // Indices get no gradient; a float zero keeps the tape happy when they were computed (argmax).
      indices: () => tf.zeros(indices.shape),
    };
  },
};

/** The kernels whose gradient mt replaces (src/backend/tape.ts relies on tfjs's own for the rest). */
export const OVERRIDDEN_GRADIENTS = [batchMatMulGrad.kernelName, gatherGrad.kernelName];

export function registerGradientOverrides(): void {
  // registerGradient warns when overwriting; that overwrite is the point here.
  const warn = console.warn;
  console.warn = () => {};
  try {
    tf.registerGradient(batchMatMulGrad);
    tf.registerGradient(gatherGrad);
  } finally {
    console.warn = warn;
  }
}
