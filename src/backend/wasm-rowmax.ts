/**
 * The maximum of each row of a float32 matrix and its first index, in WebAssembly SIMD on
 * tfjs-wasm's heap.
 *
 * Why: every decoding step reduces the [rows, 8000] scores three times — log-softmax takes two
 * row maxima (tfjs-wasm's Max, a scalar loop: 0.17 ms for [32, 8000]) and the search then takes
 * the best token (mt's TopK in JavaScript, about 1 ns per element: 0.45 ms). Four lanes at a
 * time these take a fraction of that.
 *
 * Sixteen lanes (four sets of four, so that four compare-and-select chains run at once) each
 * keep the largest of every 16th element and the first index it was met at (strictly greater
 * replaces, as the scalar loop `if (v > max) max = v` does); the lanes and the last width mod
 * 16 elements are then merged in JavaScript, equal values going to
 * the lower index. So the result is the first maximum in row order, the one a scalar loop
 * finds — to the sign of a zero. NaN is never taken by `>`; the pass also reports whether a
 * row holds one, so the caller can leave such inputs to the stock kernels.
 */
import { I32, V128, functionBody, instantiate, moduleBytes, op } from './wasm-encoder.ts';

/** Independent sets of four lanes: one set's compare-and-select chain would bound the pass by its latency. */
const SETS = 4;
/** Elements per iteration of the pass, and the least width it takes. */
export const ROW_MAX_MIN_WIDTH = 4 * SETS;
/** Bytes per row that the SIMD pass writes: per set, the lane maxima and their indices; then the NaN lanes. */
const ROW_BYTES = SETS * 32 + 16;

/**
 * lanes(x, rows, width, width16, out): for each row of `width` floats at x, over its first
 * width16 elements (a multiple of 16, ≥ 16), set s lane l keeps the maximum of elements
 * 16i + 4s + l and its first index: at out + 32s the maxima (f32x4), at out + 32s + 16 the
 * indices (i32x4); at out + 128 the lanes that met a NaN (all ones). out advances ROW_BYTES per row.
 */
function lanesFunction(): number[] {
  const [x, rows, width, width16, out] = [0, 1, 2, 3, 4];
  let next = 5;
  const r = next++, p = next++, q = next++, end = next++, rowBytes = next++;
  const i32Locals = next - 5;
  const maxv = Array.from({ length: SETS }, () => next++);
  const idx = Array.from({ length: SETS }, () => next++);
  const cur = Array.from({ length: SETS }, () => next++);
  const nan = next++, v = next++, m = next++, step = next++;
  const code = [
    ...op.get(width), ...op.i32(2), ...op.shl, ...op.set(rowBytes),
    ...op.i32(ROW_MAX_MIN_WIDTH), ...op.i32x4Splat, ...op.set(step),
    ...op.get(x), ...op.set(p),
    ...op.i32(0), ...op.set(r),
    ...op.loop, // rows
    ...op.v128Zero, ...op.set(nan),
  ];
  for (let set = 0; set < SETS; set++) {
    const first = 4 * set;
    code.push(
      ...op.get(p), ...op.v128Load(16 * set), ...op.tee(maxv[set]!),
      ...op.get(maxv[set]!), ...op.f32x4Ne, ...op.get(nan), ...op.v128Or, ...op.set(nan),
      ...op.i32x4Const([first, first + 1, first + 2, first + 3]), ...op.set(idx[set]!),
      ...op.i32x4Const([first + 16, first + 17, first + 18, first + 19]), ...op.set(cur[set]!),
    );
  }
  code.push(
    ...op.get(p), ...op.i32(16 * SETS), ...op.add, ...op.set(q),
    ...op.get(p), ...op.get(width16), ...op.i32(2), ...op.shl, ...op.add, ...op.set(end),
    ...op.get(q), ...op.get(end), ...op.ltU, ...op.if,
    ...op.loop, // columns, 16 at a time
  );
  for (let set = 0; set < SETS; set++) {
    code.push(
      ...op.get(q), ...op.v128Load(16 * set), ...op.set(v),
      ...op.get(v), ...op.get(maxv[set]!), ...op.f32x4Gt, ...op.set(m),
      ...op.get(v), ...op.get(maxv[set]!), ...op.get(m), ...op.v128Bitselect, ...op.set(maxv[set]!),
      ...op.get(cur[set]!), ...op.get(idx[set]!), ...op.get(m), ...op.v128Bitselect, ...op.set(idx[set]!),
      ...op.get(nan), ...op.get(v), ...op.get(v), ...op.f32x4Ne, ...op.v128Or, ...op.set(nan),
      ...op.get(cur[set]!), ...op.get(step), ...op.i32x4Add, ...op.set(cur[set]!),
    );
  }
  code.push(
    ...op.get(q), ...op.i32(16 * SETS), ...op.add, ...op.tee(q), ...op.get(end), ...op.ltU, ...op.brIf(0),
    ...op.end, // columns
    ...op.end, // if
  );
  for (let set = 0; set < SETS; set++) {
    code.push(...op.get(out), ...op.get(maxv[set]!), ...op.v128Store(32 * set), ...op.get(out), ...op.get(idx[set]!), ...op.v128Store(32 * set + 16));
  }
  code.push(
    ...op.get(out), ...op.get(nan), ...op.v128Store(32 * SETS),
    ...op.get(out), ...op.i32(ROW_BYTES), ...op.add, ...op.set(out),
    ...op.get(p), ...op.get(rowBytes), ...op.add, ...op.set(p),
    ...op.get(r), ...op.i32(1), ...op.add, ...op.tee(r), ...op.get(rows), ...op.ltU, ...op.brIf(0),
    ...op.end, // rows
    ...op.end,
  );
  return functionBody([[i32Locals, I32], [next - 5 - i32Locals, V128]], code);
}

export function rowMaxModuleBytes(): Uint8Array<ArrayBuffer> {
  return moduleBytes(5, ['lanes'], [lanesFunction()]);
}

/**
 * For each of `rows` rows of `width` (≥ ROW_MAX_MIN_WIDTH) floats at byte x of the memory: its maximum into
 * max[row] and, if `at` is given, the first index of it into at[row]. `scratch` is
 * rowMaxScratchBytes(rows) of the memory the pass may overwrite. False if any row holds a NaN
 * (max and at are then incomplete).
 */
export type RowMax = (x: number, rows: number, width: number, scratch: number, max: Float32Array, at?: Int32Array) => boolean;

export function rowMaxScratchBytes(rows: number): number {
  return rows * ROW_BYTES;
}

/** The pass bound to `memory`, or null where it cannot run (no SIMD, or a shared memory: see `instantiate`). */
export function createRowMax(memory: WebAssembly.Memory): RowMax | null {
  const exports = instantiate(rowMaxModuleBytes, memory);
  if (!exports) return null;
  const lanes = exports.lanes as (...args: number[]) => void;

  return (x, rows, width, scratch, max, at) => {
    const width16 = width - (width % ROW_MAX_MIN_WIDTH);
    lanes(x, rows, width, width16, scratch);
    // Views made after the call: nothing in it grows the memory, but an earlier call may have.
    const words = ROW_BYTES / 4;
    const laneMax = new Float32Array(memory.buffer, scratch, rows * words);
    const laneAt = new Int32Array(memory.buffer, scratch, rows * words);
    const src = new Float32Array(memory.buffer, x, rows * width);
    for (let row = 0; row < rows; row++) {
      const o = row * words;
      const nan = o + 8 * SETS;
      if ((laneAt[nan]! | laneAt[nan + 1]! | laneAt[nan + 2]! | laneAt[nan + 3]!) !== 0) return false;
      let best = laneMax[o]!;
      let bestAt = laneAt[o + 4]!;
      for (let set = 0; set < SETS; set++) {
        for (let l = 0; l < 4; l++) {
          const v = laneMax[o + 8 * set + l]!;
          const j = laneAt[o + 8 * set + 4 + l]!;
          if (v > best || (v === best && j < bestAt)) {
            best = v;
            bestAt = j;
          }
        }
      }
      for (let j = width16, from = row * width; j < width; j++) {
        const v = src[from + j]!;
        if (v !== v) return false;
        if (v > best) {
          best = v;
          bestAt = j;
        }
      }
      max[row] = best;
      if (at) at[row] = bestAt;
    }
    return true;
  };
}
