/**
 * Weight transport between threads: tensors to and from flat float32 arrays (shared with worker
 * threads), read and written straight through the wasm heap where the backend is wasm. Used by
 * the data-parallel training and decoding pools (src/train/parallel*.ts, src/decode/parallel*.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Copy the values of a float32 tensor into `target` at `offset`. On wasm they are read straight
 * from the heap: `dataSync()` returns a freshly allocated copy, and first-touching that much
 * new memory made reading 12 M weights take ~350 ms (data-parallel training reads them every
 * step); this takes ~10 ms.
 */
export function readFloats(t: tf.Tensor, target: Float32Array, offset: number): void {
  const backend = tf.backend();
  const values = tf.getBackend() === 'wasm' ? (backend as unknown as BackendWasm).typedArrayFromHeap(t) : t.dataSync();
  target.set(values as Float32Array, offset);
}

/**
 * A float32 tensor holding a copy of `values`, so that their buffer can be reused (or shared
 * with another thread). The wasm backend copies into its heap; tfjs's cpu backend would keep
 * the very array, so it gets a copy.
 */
export function floatTensor(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}

/**
 * The flat float32 layout that weights travel in between threads: `variables` in order, each
 * `size` floats. The total length of that layout.
 */
export function flatLength(variables: readonly tf.Variable[]): number {
  return variables.reduce((n, v) => n + v.size, 0);
}

/** Copy the values of `variables` into `flat`, in the flat layout. */
export function writeVariables(variables: readonly tf.Variable[], flat: Float32Array): void {
  let offset = 0;
  for (const v of variables) {
    readFloats(v, flat, offset);
    offset += v.size;
  }
}

/** Assign `variables` the values in `flat` (the flat layout). */
export function loadVariables(variables: readonly tf.Variable[], flat: Float32Array): void {
  let offset = 0;
  for (const v of variables) {
    tf.tidy(() => v.assign(floatTensor(flat.subarray(offset, offset + v.size), v.shape)));
    offset += v.size;
  }
}
