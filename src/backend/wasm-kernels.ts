/**
 * Kernels that replace tfjs-wasm's own where those copy far more than they need to. Each one
 * gives bit-identical results (they only move elements); test/backend-kernels.test.ts checks
 * them against the stock kernels. (Bulk float reads and writes through the wasm heap, for weights
 * that travel between threads, are in transfer.ts.)
 *
 * - Slice: the stock kernel reads the WHOLE input into a fresh JS array (`readSync`) for every
 *   slice, so `tf.unstack` of [64, 20, 1536] copied the input 20 times (313 ms; 1.3 ms here).
 *   These kernels read the input in place through a view of the wasm heap.
 * - SplitV and Unpack (`tf.split`, `tf.unstack`, and the gradients of concat and stack) are
 *   built on Slice in tfjs-wasm, so they inherit the copy.
 * - Concat: the stock kernel copies each input row with `subarray` + `set`, whose fixed cost
 *   dominates when rows are short (appending one position to a Transformer's cached keys
 *   [B, h, d_k, t] is B·h·d_k rows of t floats); here each row is one `copyWithin`.
 *
 * - Cast to bool: the stock kernel stores the value modulo 256 (-2.2 → 254, 256 → 0); here
 *   it is x ≠ 0, as on tfjs's cpu backend.
 * - Identity, Cast to the same dtype, and Transpose by the identity permutation: the stock
 *   kernels copy; these share the input's buffer (same shape), as Reshape does
 *   (reference-counted; tfjs never writes a tensor's buffer in place), and as tfjs's cpu
 *   backend does for Identity. tfjs clones every tensor it saves for a gradient through
 *   Identity, so a training step made ~2,000 full copies (~8% of its time) before this.
 * - Sum over leading axes (bias gradients): the stock kernel transposes the input first; here
 *   rows are added in place, in the stock kernel's order (identical float32 results). A sum
 *   over an empty tensor is 0 (the stock kernel returns uninitialised memory).
 * - GatherV2: the stock kernel copies element by element (12 ms for 32 rows of 8000 floats);
 *   here each gathered slice is one `copyWithin`.
 * - TopK (float32, sorted, k ≤ 64): the stock kernel took 4.8 ms for [160, 8000], k = 10 (a beam-5
 *   decoding step of 32 sentences); here one pass per row keeps the k best in order, and most
 *   elements are turned away by one comparison with the k-th. Same order: value descending, ties
 *   by lower index.
 * - Max over the last axis, and TopK with k = 1 (float32): a SIMD pass (wasm-rowmax.ts), where
 *   the stock Max is a scalar loop and TopK above ran at ~1 ns per element; same first maximum.
 *   Rows with a NaN go to the stock kernels.
 * - BatchMatMul (float32, untransposed): mt's own SIMD kernel (wasm-gemm.ts): 1.0–1.4× XNNPACK
 *   on mt's single matmuls, with the same float32 sums in the same order (bit-identical), and
 *   12–14× the stock kernel on batched ones (attention), which it ran as a scalar loop.
 *   A right-hand side met a second time (a weight at every decoder or RNN step) is packed once
 *   and kept (PackedWeights below).
 *
 * The heap must be read after `makeOutput`: allocating can grow the wasm memory, which
 * replaces the heap's buffer.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { GEMM_SCRATCH_BYTES, type Gemm, createGemm, packedBytes } from './wasm-gemm.ts';
import { ROW_MAX_MIN_WIDTH, type RowMax, createRowMax, rowMaxScratchBytes } from './wasm-rowmax.ts';

type HeapArray = Float32Array | Int32Array | Uint8Array;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The whole wasm heap as bytes; read it after allocating `out` (allocation can replace it). */
function heapOf(backend: BackendWasm, out: tf.TensorInfo): Uint8Array {
  return new Uint8Array(backend.typedArrayFromHeap(out).buffer);
}

/**
 * Copy the box `begin`/`size` of the row-major array of shape `shape` at byte `from` of the
 * heap to byte `to`, densely. Trailing axes taken whole merge into one contiguous run per outer
 * index; each run is one `copyWithin` (a memmove, no allocation: faster than subarray + set or
 * an element loop at every run length measured, 16 to 256 floats).
 */
function copyBox(heap: Uint8Array, from: number, shape: number[], begin: number[], size: number[], to: number, bytes: number): void {
  const rank = shape.length;
  if (rank === 0) {
    heap.copyWithin(to, from, from + bytes);
    return;
  }
  const strides = tf.util.computeStrides(shape);
  const stride = (axis: number) => (axis < rank - 1 ? strides[axis]! : 1) * bytes;
  // The innermost axis not taken whole: everything from it inward is one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === shape[inner]) inner--;
  const run = size[inner]! * stride(inner);
  let offset = from;
  for (let axis = 0; axis <= inner; axis++) offset += begin[axis]! * stride(axis);
  // Odometer over the outer axes 0 … inner−1.
  const index = new Array<number>(inner).fill(0);
  const outer = tf.util.sizeFromShape(size.slice(0, inner));
  for (let n = 0; n < outer; n++, to += run) {
    heap.copyWithin(to, offset, offset + run);
    for (let axis = inner - 1; axis >= 0; axis--) {
      offset += stride(axis);
      if (++index[axis]! < size[axis]!) break;
      offset -= size[axis]! * stride(axis);
      index[axis] = 0;
    }
  }
}

/** A new tensor holding x[begin : begin + size], with shape `outShape` (same element count). */
function sliceToTensor(backend: BackendWasm, x: tf.TensorInfo, begin: number[], size: number[], outShape = size): tf.TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  const from = backend.getMemoryOffset(x.dataId);
  const to = backend.getMemoryOffset(out.dataId);
  copyBox(heapOf(backend, out), from, x.shape, begin, size, to, tf.util.bytesPerElement(x.dtype));
  return out;
}

function slice(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  if (x.dtype === 'string') return stock(args);
  const attrs = args.attrs as unknown as tf.SliceAttrs;
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  return sliceToTensor(args.backend as BackendWasm, x, begin, size);
}

function splitV(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  if (x.dtype === 'string') return stock(args);
  const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = [...x.shape];
    size[ax] = s;
    const out = sliceToTensor(args.backend as BackendWasm, x, begin, size);
    begin[ax]! += s;
    return out;
  });
}

function unpack(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.value!;
  if (x.dtype === 'string') return stock(args);
  const rank = x.shape.length;
  let { axis } = args.attrs as unknown as tf.UnpackAttrs;
  if (axis < 0) axis += rank;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const size = [...x.shape];
  size[axis] = 1;
  const begin = new Array<number>(rank).fill(0);
  return Array.from({ length: x.shape[axis]! }, (_, i) => {
    begin[axis] = i;
    return sliceToTensor(args.backend as BackendWasm, x, begin, size, outShape);
  });
}

function concat(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const inputs = args.inputs as unknown as tf.TensorInfo[];
  const first = inputs[0]!;
  const axis = tf.util.parseAxisParam((args.attrs as unknown as tf.ConcatAttrs).axis, first.shape)[0]!;
  const nonEmpty = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  // Strings, and the cases the stock kernel answers without copying row by row.
  if (first.dtype === 'string' || nonEmpty.length < 2) return stock(args);
  tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput(tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis), first.dtype);
  const heap = heapOf(backend, out);
  const bytes = tf.util.bytesPerElement(first.dtype);
  const rows = tf.util.sizeFromShape(first.shape.slice(0, axis));
  const widths = nonEmpty.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)) * bytes);
  const total = widths.reduce((a, b) => a + b, 0);
  let to = backend.getMemoryOffset(out.dataId);
  nonEmpty.forEach((t, k) => {
    const width = widths[k]!;
    let from = backend.getMemoryOffset(t.dataId);
    for (let r = 0, at = to; r < rows; r++, from += width, at += total) heap.copyWithin(at, from, from + width);
    to += width;
  });
  return out;
}

/**
 * tf.gather (batchDims 0): one `copyWithin` per gathered slice. The stock kernel's per-element
 * loop took 12 ms to pick 32 rows of a [3, 8000] table (the decoder's per-row score masks:
 * ~20% of a Transformer's greedy decoding) and ~25 ms to reorder a beam's key cache.
 */
function gather(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  if (x.dtype === 'string' || batchDims !== 0 || indices.dtype !== 'int32') return stock(args);
  const backend = args.backend as BackendWasm;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
  const dim = x.shape[ax]!;
  const ids = (backend.typedArrayFromHeap(indices) as Int32Array).slice();
  for (const id of ids) tf.util.assert(id <= dim - 1 && id >= 0, () => `GatherV2: the index value ${id} is not in [0, ${dim - 1}]`);
  const out = backend.makeOutput([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype);
  if (tf.util.sizeFromShape(x.shape) === 0 || ids.length === 0) return out;
  const heap = heapOf(backend, out);
  const slice = tf.util.sizeFromShape(x.shape.slice(ax + 1)) * tf.util.bytesPerElement(x.dtype);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const from = backend.getMemoryOffset(x.dataId);
  let to = backend.getMemoryOffset(out.dataId);
  for (let o = 0; o < outer; o++) {
    const base = from + o * dim * slice;
    for (const id of ids) {
      heap.copyWithin(to, base + id * slice, base + (id + 1) * slice);
      to += slice;
    }
  }
  return out;
}

/** The input itself, as a new reference-counted handle on the same buffer. */
function share(backend: BackendWasm, x: tf.TensorInfo, shape: number[], dtype = x.dtype): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype };
}

function identity(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  if (x.dtype === 'string') return stock(args);
  return share(args.backend as BackendWasm, x, x.shape);
}

function cast(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype === 'string') return stock(args);
  if (x.dtype === dtype) return share(args.backend as BackendWasm, x, x.shape);
  if (dtype !== 'bool') return stock(args);
  // The stock kernel stores the number modulo 256 (-2.2 → 254, 256 → 0); bool means x ≠ 0.
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput(x.shape, 'bool');
  const src = backend.typedArrayFromHeap(x) as HeapArray;
  const dst = backend.typedArrayFromHeap(out) as HeapArray;
  for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}

function transpose(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  // Only the identity permutation shares: XNNPACK caches its packed matmul weights by buffer,
  // assuming one shape per buffer, so a [64, 1] weight shared as [1, 64] would reuse the
  // wrong packing (NaNs). Permutations that only move size-1 axes still copy, as stock does.
  if (x.dtype === 'string' || perm.some((axis, i) => axis !== i)) return stock(args);
  return share(args.backend as BackendWasm, x, x.shape);
}

/**
 * Sum over the leading axes of a float32 tensor (bias and broadcast gradients: [B, T, F] → [F]).
 * The stock kernel first transposes the reduced axes innermost; this adds the rows into the
 * output in place, in the same order the stock kernel adds each column (so the same float32
 * roundings, bit for bit).
 */
function sum(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.every((a, i) => a === i) && axes.length > 0 && axes.length < x.shape.length;
  const empty = tf.util.sizeFromShape(x.shape) === 0 && x.dtype !== 'string';
  if (!empty && (x.dtype !== 'float32' || !leading)) return stock(args);
  const backend = args.backend as BackendWasm;
  const kept = x.shape.filter((_, i) => !axes.includes(i));
  const out = backend.makeOutput(keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept, x.dtype);
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const acc = backend.typedArrayFromHeap(out) as Float32Array;
  const width = acc.length;
  // Also the sum over nothing: 0 (the stock kernel leaves that output uninitialised).
  acc.fill(0);
  if (empty) return out;
  for (let from = 0; from < src.length; from += width) {
    for (let j = 0; j < width; j++) acc[j] = acc[j]! + src[from + j]!;
  }
  return out;
}

/** tfjs-wasm's heap, which mt's own kernels (wasm-gemm.ts, wasm-rowmax.ts) import. */
function heapMemory(backend: BackendWasm): WebAssembly.Memory | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}

const rowMaxes = new WeakMap<BackendWasm, RowMax | null>();

/** The SIMD row maximum on this backend's heap (null where it cannot run: see createRowMax). */
function rowMaxFor(backend: BackendWasm): RowMax | null {
  let rowMax = rowMaxes.get(backend);
  if (rowMax === undefined) {
    const memory = heapMemory(backend);
    rowMax = memory ? createRowMax(memory) : null;
    rowMaxes.set(backend, rowMax);
  }
  return rowMax;
}

/**
 * Each row's maximum (`values`) and, with `indices`, its first index, by the SIMD pass; false
 * (outputs then incomplete: the caller disposes them) where it cannot run or a row holds a NaN.
 */
function rowMaxInto(backend: BackendWasm, x: tf.TensorInfo, values: tf.TensorInfo, indices?: tf.TensorInfo): boolean {
  const width = x.shape.at(-1) ?? 0;
  const rowMax = rowMaxFor(backend);
  if (!rowMax || width < ROW_MAX_MIN_WIDTH) return false;
  const rows = tf.util.sizeFromShape(x.shape) / width;
  const scratch = backend.makeOutput([rowMaxScratchBytes(rows) / 4], 'float32');
  // Written straight into the outputs: views made after the last allocation (see above).
  const max = backend.typedArrayFromHeap(values) as Float32Array;
  const at = indices ? (backend.typedArrayFromHeap(indices) as Int32Array) : undefined;
  const done = rowMax(backend.getMemoryOffset(x.dataId), rows, width, backend.getMemoryOffset(scratch.dataId), max, at);
  backend.disposeData(scratch.dataId);
  return done;
}

/** The maximum over the last axis (log-softmax at every decoding step and in the loss). */
function max(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  const { reductionIndices, keepDims } = args.attrs as unknown as tf.MaxAttrs;
  const last = x.shape.length - 1;
  const axes = tf.util.parseAxisParam(reductionIndices, x.shape);
  if (x.dtype !== 'float32' || last < 0 || axes.length !== 1 || axes[0] !== last || tf.util.sizeFromShape(x.shape) === 0) return stock(args);
  const backend = args.backend as BackendWasm;
  const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, -1), 1] : x.shape.slice(0, -1), 'float32');
  if (rowMaxInto(backend, x, out)) return out;
  backend.disposeData(out.dataId);
  return stock(args);
}

/** The k largest of each row of the last axis, best first; equal values by lower index. */
function topK(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const x = args.inputs.x!;
  const { k, sorted } = args.attrs as unknown as tf.TopKAttrs;
  const width = x.shape.at(-1) ?? 0;
  if (x.dtype !== 'float32' || !sorted || k < 1 || k > 64 || k > width) return stock(args);
  const backend = args.backend as BackendWasm;
  const outShape = [...x.shape.slice(0, -1), k];
  if (k === 1 && width >= ROW_MAX_MIN_WIDTH && tf.util.sizeFromShape(x.shape) > 0) {
    // The best token of a greedy step: the row maximum's first index (a NaN row: stock below).
    const values = backend.makeOutput(outShape, 'float32');
    const indices = backend.makeOutput(outShape, 'int32');
    if (rowMaxInto(backend, x, values, indices)) return [values, indices];
    backend.disposeData(values.dataId);
    backend.disposeData(indices.dataId);
    return stock(args);
  }
  const values = backend.makeOutput(outShape, 'float32');
  const indices = backend.makeOutput(outShape, 'int32');
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const outValues = backend.typedArrayFromHeap(values) as Float32Array;
  const outIndices = backend.typedArrayFromHeap(indices) as Int32Array;
  const best = new Float32Array(k);
  const at = new Int32Array(k);
  for (let row = 0, from = 0; from < src.length; row++, from += width) {
    let count = 0;
    // The k-th best so far, in a local: most elements are turned away by this one comparison.
    let kth = -Infinity;
    for (let j = from, end = from + width; j < end; j++) {
      const v = src[j]!;
      if (v <= kth && count === k) continue;
      if (v !== v) {
        // NaN (only ever reached here): leave its ordering to the stock kernel.
        backend.disposeData(values.dataId);
        backend.disposeData(indices.dataId);
        return stock(args);
      }
      // Slide the smaller ones down; an equal one stays ahead (its index is lower).
      let p = count < k ? count++ : k - 1;
      while (p > 0 && best[p - 1]! < v) {
        best[p] = best[p - 1]!;
        at[p] = at[p - 1]!;
        p--;
      }
      best[p] = v;
      at[p] = j - from;
      if (count === k) kth = best[k - 1]!;
    }
    outValues.set(best, row * k);
    outIndices.set(at, row * k);
  }
  return [values, indices];
}

/**
 * Packed copies of the right-hand sides that matmuls meet more than once: a decoder multiplies
 * by the same weights at every step, and packing B anew at every call (wasm-gemm.ts) made the
 * seq2seq output projection, [32, 512] · [512, 8000], 6.6 ms instead of 5.9. A B is packed into its own heap block the second time it is seen and used as is after
 * that. Keyed by the tensor's dataId, which is sound because tfjs never writes a tensor's
 * buffer in place: new values get a new dataId (Variable.assign included), so a key's data
 * never changes. Operands met once (activations, explicit transposes) are never copied.
 * Entries whose tensor was disposed are freed at the next insertion; beyond MAX_BYTES the
 * least recently used go, so training, where weights change every step, keeps at most that
 * much (a few small RNN weights in practice: its large matmuls meet each B once).
 */
class PackedWeights {
  static readonly MAX_BYTES = 64 << 20;
  private readonly seen = new WeakSet<object>();
  /** dataId → heap offset and size of the packed copy, least recently used first. */
  private readonly entries = new Map<object, { at: number; bytes: number }>();
  private bytes = 0;

  /** Emscripten's allocator, which tfjs-wasm exports but does not declare. */
  private readonly heap: { _malloc(bytes: number): number; _free(at: number): void };

  constructor(private readonly backend: BackendWasm, private readonly gemm: Gemm) {
    this.heap = backend.wasm as unknown as PackedWeights['heap'];
  }

  /** The packed copy of b [K, N], made now if b was seen before; undefined otherwise. */
  lookup(b: tf.TensorInfo, K: number, N: number): number | undefined {
    const hit = this.entries.get(b.dataId);
    (globalThis as any).__stats ??= {hit:0,miss:0,pack:0}; 
    if (hit) {
      (globalThis as any).__stats.hit++;
      this.entries.delete(b.dataId);
      this.entries.set(b.dataId, hit);
      return hit.at;
    }
    if (!this.seen.has(b.dataId)) {
      this.seen.add(b.dataId);
      return undefined;
    }
    (globalThis as any).__stats.pack++;
    const bytes = packedBytes(K, N);
    if (bytes === 0 || bytes > PackedWeights.MAX_BYTES) return undefined;
    this.sweep(bytes);
    const at = this.heap._malloc(bytes);
    this.gemm.packB(this.backend.getMemoryOffset(b.dataId), K, N, at);
    this.entries.set(b.dataId, { at, bytes });
    this.bytes += bytes;
    return at;
  }

  /** Free entries of disposed tensors, then the least recently used until `room` bytes fit. */
  private sweep(room: number): void {
    for (const [dataId, entry] of this.entries) {
      if (this.backend.dataIdMap.has(dataId) && this.bytes + room <= PackedWeights.MAX_BYTES) continue;
      this.heap._free(entry.at);
      this.bytes -= entry.bytes;
      this.entries.delete(dataId);
    }
  }
}

const gemms = new WeakMap<BackendWasm, { gemm: Gemm; packed: PackedWeights } | null>();

/** The SIMD kernel on this backend's heap (null where it cannot run: see createGemm). */
function gemmFor(backend: BackendWasm): { gemm: Gemm; packed: PackedWeights } | null {
  let entry = gemms.get(backend);
  if (entry === undefined) {
    const memory = heapMemory(backend);
    const gemm = memory ? createGemm(memory) : null;
    entry = gemm ? { gemm, packed: new PackedWeights(backend, gemm) } : null;
    gemms.set(backend, entry);
  }
  return entry;
}

/**
 * a [...batch, M, K] · b [...batch, K, N] → [...batch, M, N], float32, neither transposed (the
 * gradients in gradients.ts transpose explicitly); a batch of one on either side is broadcast.
 * Anything else goes to the stock kernel.
 */
function batchMatMul(args: KernelArgs, stock: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const backend = args.backend as BackendWasm;
  if (transposeA || transposeB || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return stock(args);
  const [M, K] = a.shape.slice(-2) as [number, number];
  const [K2, N] = b.shape.slice(-2) as [number, number];
  const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
  const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
  if (K !== K2 || M * K * N === 0 || (batchA !== batchB && batchA !== 1 && batchB !== 1)) return stock(args);
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = tf.util.sizeFromShape(batchShape);
  const kernel = gemmFor(backend);
  if (!kernel || batch !== Math.max(batchA, batchB)) return stock(args);
  const out = backend.makeOutput([...batchShape, M, N], 'float32');
  // A single B (a weight, typically) may have a packed copy; batched ones are activations.
  const packed = batchB === 1 ? kernel.packed.lookup(b, K, N) : undefined;
  const aAt = backend.getMemoryOffset(a.dataId);
  const bAt = backend.getMemoryOffset(b.dataId);
  const cAt = backend.getMemoryOffset(out.dataId);
  const scratch = packed === undefined ? backend.makeOutput([GEMM_SCRATCH_BYTES / 4], 'float32') : undefined;
  const scratchAt = scratch ? backend.getMemoryOffset(scratch.dataId) : 0;
  for (let t = 0; t < batch; t++) {
    kernel.gemm.multiply(aAt + (batchA === 1 ? 0 : t * M * K * 4), bAt + (batchB === 1 ? 0 : t * K * N * 4), cAt + t * M * N * 4, M, K, N, scratchAt, packed);
  }
  if (scratch) backend.disposeData(scratch.dataId);
  return out;
}

type Replacement = (args: KernelArgs, stock: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[];

const REPLACEMENTS: Record<string, Replacement> = {
  Slice: slice,
  SplitV: splitV,
  Unpack: unpack,
  Concat: concat,
  Identity: identity,
  Cast: cast,
  Transpose: transpose,
  Sum: sum,
  GatherV2: gather,
  BatchMatMul: batchMatMul,
  TopK: topK,
  Max: max,
};

let registered = false;

/** Replace the wasm kernels above; call once the wasm backend is in use. Idempotent. */
export function registerWasmKernels(): void {
  if (registered) return;
  registered = true;
  for (const [kernelName, replacement] of Object.entries(REPLACEMENTS)) {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`mt: tfjs-wasm has no ${kernelName} kernel to replace`);
    tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: (args) => replacement(args, stock.kernelFunc) });
  }
}
