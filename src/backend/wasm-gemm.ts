/**
 * A float32 matrix multiply in WebAssembly SIMD that runs on tfjs-wasm's own heap.
 *
 * Why: tfjs-wasm 4.22's BatchMatMul (XNNPACK) reaches 22–36 GFLOP/s on one core of this machine
 * for mt's shapes, and a scalar loop (1.5–1.7 GFLOP/s) whenever the batch is above 1. This kernel
 * reaches 29–48 GFLOP/s on the same single matmuls and 20–22 on the batched ones (bench/matmul.ts;
 * docs/performance.md, "mt's own matmul kernel"); matmuls are most of every training and
 * decoding step.
 *
 * The micro-kernel computes a tile of R = 4 rows × W = 8 columns of C, holding it in eight f32x4
 * registers while it walks the shared dimension: per k, two loads of B's row, four splats of A's
 * column, eight multiply-adds (separate mul and add: the relaxed-SIMD FMA needs a flag in Node 20
 * and was not faster on this CPU). Around it, blocking keeps the working set in cache: B is
 * taken KC = 256 rows at a time and packed into panels of 8 columns (a 256 × 8 panel, 8 KB,
 * stays in L1 while the row tiles pass), and A MC = 128 rows at a time (a 128 × 256 block stays
 * in L2 while every panel passes). Edge tiles use the same loops with R = 1–3 rows and W = 4
 * or 1 columns. Each C element is the sum over k in order, k = 0, 1, …, with a separate
 * multiply and add: the sums XNNPACK's kernels make, so a batch of one gives XNNPACK's result
 * bit for bit (test/backend-kernels.test.ts).
 *
 * Packing B costs a read and a write of all of it per call: little next to the multiply when
 * M is in the thousands (training), but 10% of the call when M is 32 sentences and B is the
 * [512, 8000] output projection (6.6 ms, 5.9 ms with B packed beforehand). So `packB` can also
 * pack a whole B once, and the driver then skips packing: the caller (wasm-kernels.ts) keeps
 * such copies of the weights a decoder multiplies by at every step.
 *
 * The module imports tfjs's WebAssembly.Memory, so operands are read and results written in
 * place: no copies in or out. The code is emitted byte by byte at start-up (wasm-encoder.ts),
 * so there is no binary blob and no build step.
 */

import { F32, I32, V128, functionBody, instantiate, moduleBytes, op } from './wasm-encoder.ts';

const KC = 256;
const MC = 128;
const NC = 64;
const PARAMS = 12;

/** Bytes of heap the kernel needs for packing B: one KC × NC block. */
export const GEMM_SCRATCH_BYTES = KC * NC * 4;

/**
 * Bytes of a whole packed B [K, N] (`Gemm.packB`): its first N − N mod 8 columns, the ones the
 * 8-wide tiles read; the last 1–7 columns are always read in place.
 */
export function packedBytes(K: number, N: number): number {
  return K * (N - (N % 8)) * 4;
}

/**
 * One tile loop: for j in [j0, j1) step W, for i in [0, M) step R, C[i.., j..] (+)= A[i.., 0:K] ·
 * B[0:K, j..]. W = 8 reads B from the packed block made by `pack` (panel j/8 at packed + j·K·4,
 * rows 32 bytes apart); W = 4 and 1 (the last columns) read B in place. Pointers are byte
 * offsets; lda/ldb/ldc are row strides in floats. Every loop runs at least once: the caller
 * passes M ≥ R, K ≥ 1 and j1 − j0 ≥ W, multiples of R and W.
 */
function tileFunction(R: number, W: 1 | 4 | 8): number[] {
  const [a, b, c, lda, ldb, ldc, M, K, j0, j1, accumulate, packed] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  let next = PARAMS;
  const i = next++, j = next++, k = next++, pb = next++, pc = next++, rowA = next++, rowC = next++;
  const panel = next++, panelStride = next++;
  const pa = Array.from({ length: R }, () => next++);
  const i32Locals = next - PARAMS;
  const vectors = W === 1 ? 1 : W / 4; // registers per row of the tile
  const lane = W === 1 ? F32 : V128;
  const bReg = Array.from({ length: vectors }, () => next++);
  const aReg = next++;
  const acc = Array.from({ length: R }, () => Array.from({ length: vectors }, () => next++));
  const laneLocals = next - PARAMS - i32Locals;
  const step = W === 1 ? 4 : 16; // bytes per register

  const rowOfC = (r: number) => [...op.get(pc), ...op.i32(r), ...op.get(rowC), ...op.mul, ...op.add];
  const load = (offset: number) => (W === 1 ? op.f32Load(offset) : op.v128Load(offset));
  const store = (offset: number) => (W === 1 ? op.f32Store(offset) : op.v128Store(offset));
  const code: number[] = [
    ...op.get(lda), ...op.i32(2), ...op.shl, ...op.set(rowA),
    ...op.get(ldc), ...op.i32(2), ...op.shl, ...op.set(rowC),
    ...(W === 8 ? [...op.i32(32)] : [...op.get(ldb), ...op.i32(2), ...op.shl]), ...op.set(panelStride),
    ...op.get(j0), ...op.set(j),
    ...op.loop, // j
    // W = 8: panel = packed + (j − j0)·K·4; else panel = b + j·4
    ...(W === 8
      ? [...op.get(packed), ...op.get(j), ...op.get(j0), ...op.sub, ...op.get(K), ...op.mul, ...op.i32(2), ...op.shl, ...op.add]
      : [...op.get(b), ...op.get(j), ...op.i32(2), ...op.shl, ...op.add]),
    ...op.set(panel),
    ...op.i32(0), ...op.set(i),
    ...op.loop, // i
    // pc = c + (i·ldc + j)·4
    ...op.get(c), ...op.get(i), ...op.get(ldc), ...op.mul, ...op.get(j), ...op.add, ...op.i32(2), ...op.shl, ...op.add, ...op.set(pc),
  ];
  // The tile's accumulators start at C (accumulate) or at zero.
  code.push(...op.get(accumulate), ...op.if);
  for (let r = 0; r < R; r++) for (let v = 0; v < vectors; v++) code.push(...rowOfC(r), ...load(v * step), ...op.set(acc[r]![v]!));
  code.push(...op.else);
  for (let r = 0; r < R; r++) for (let v = 0; v < vectors; v++) code.push(...(W === 1 ? op.f32Zero : op.v128Zero), ...op.set(acc[r]![v]!));
  code.push(...op.end);
  for (let r = 0; r < R; r++) {
    // pa[r] = a + (i + r)·lda·4
    code.push(...op.get(a), ...op.get(i), ...op.i32(r), ...op.add, ...op.get(rowA), ...op.mul, ...op.add, ...op.set(pa[r]!));
  }
  code.push(...op.get(panel), ...op.set(pb));
  code.push(...op.get(K), ...op.set(k), ...op.loop); // k
  for (let v = 0; v < vectors; v++) code.push(...op.get(pb), ...load(v * step), ...op.set(bReg[v]!));
  for (let r = 0; r < R; r++) {
    code.push(...op.get(pa[r]!), ...(W === 1 ? op.f32Load(0) : op.v128Splat32(0)), ...op.set(aReg));
    for (let v = 0; v < vectors; v++) {
      code.push(...op.get(acc[r]![v]!), ...op.get(aReg), ...op.get(bReg[v]!));
      code.push(...(W === 1 ? [...op.f32Mul, ...op.f32Add] : [...op.f32x4Mul, ...op.f32x4Add]), ...op.set(acc[r]![v]!));
    }
    code.push(...op.get(pa[r]!), ...op.i32(4), ...op.add, ...op.set(pa[r]!));
  }
  code.push(...op.get(pb), ...op.get(panelStride), ...op.add, ...op.set(pb));
  code.push(...op.get(k), ...op.i32(1), ...op.sub, ...op.tee(k), ...op.brIf(0), ...op.end); // k
  for (let r = 0; r < R; r++) for (let v = 0; v < vectors; v++) code.push(...rowOfC(r), ...op.get(acc[r]![v]!), ...store(v * step));
  code.push(...op.get(i), ...op.i32(R), ...op.add, ...op.tee(i), ...op.get(M), ...op.ltU, ...op.brIf(0), ...op.end); // i
  code.push(...op.get(j), ...op.i32(W), ...op.add, ...op.tee(j), ...op.get(j1), ...op.ltU, ...op.brIf(0), ...op.end); // j
  code.push(...op.end);
  return functionBody([[i32Locals, I32], [laneLocals, lane]], code);
}

/**
 * pack(b, ldb, K, j0, j1, packed): copy B[0:K, j0:j1] into panels of 8 columns, each K rows of 32
 * contiguous bytes (the panel of column j at packed + (j − j0)·K·4). Read in place, rows of B a
 * power of two bytes apart (N = 1024: 4 KB) all fell into the same L1 sets, and N = 1024 ran at
 * half the speed of N = 1000; packed, a panel is 8 KB of consecutive lines.
 * Same parameter list as the tiles (unused ones ignored), so one function type serves all.
 */
function packFunction(): number[] {
  const [b, ldb, K, j0, j1, packed] = [1, 4, 7, 8, 9, 11];
  let next = PARAMS;
  const k = next++, j = next++, from = next++, to = next++, rowB = next++, panelBytes = next++;
  const code = [
    ...op.get(ldb), ...op.i32(2), ...op.shl, ...op.set(rowB),
    ...op.get(K), ...op.i32(5), ...op.shl, ...op.set(panelBytes),
    ...op.i32(0), ...op.set(k),
    ...op.loop, // k: row k of B → row k of every panel
    ...op.get(b), ...op.get(k), ...op.get(rowB), ...op.mul, ...op.add, ...op.get(j0), ...op.i32(2), ...op.shl, ...op.add, ...op.set(from),
    ...op.get(packed), ...op.get(k), ...op.i32(5), ...op.shl, ...op.add, ...op.set(to),
    ...op.get(j0), ...op.set(j),
    ...op.loop, // j
    ...op.get(to), ...op.get(from), ...op.v128Load(0), ...op.v128Store(0),
    ...op.get(to), ...op.get(from), ...op.v128Load(16), ...op.v128Store(16),
    ...op.get(from), ...op.i32(32), ...op.add, ...op.set(from),
    ...op.get(to), ...op.get(panelBytes), ...op.add, ...op.set(to),
    ...op.get(j), ...op.i32(8), ...op.add, ...op.tee(j), ...op.get(j1), ...op.ltU, ...op.brIf(0), ...op.end,
    ...op.get(k), ...op.i32(1), ...op.add, ...op.tee(k), ...op.get(K), ...op.ltU, ...op.brIf(0), ...op.end,
    ...op.end,
  ];
  return functionBody([[next - PARAMS, I32]], code);
}

/** Tiles of 4 rows, and of the 1–3 rows left at the bottom, by each width. */
const VARIANTS = [4, 3, 2, 1].flatMap((R) => ([8, 4, 1] as const).map((W) => [R, W] as const));

/** The module's bytes: one function per (R, W) variant, exported as `tile{R}x{W}`, and `pack`. */
export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const names = [...VARIANTS.map(([R, W]) => `tile${R}x${W}`), 'pack'];
  return moduleBytes(PARAMS, names, [...VARIANTS.map(([R, W]) => tileFunction(R, W)), packFunction()]);
}

type Tile = (a: number, b: number, c: number, lda: number, ldb: number, ldc: number, M: number, K: number, j0: number, j1: number, accumulate: number, packed: number) => void;

/** The kernel on one memory. Pointers are byte offsets of that memory; matrices row-major float32. */
export interface Gemm {
  /**
   * C[M, N] = A[M, K] · B[K, N]. `scratch` is GEMM_SCRATCH_BYTES the kernel may overwrite;
   * `packed`, if given, is B as `packB` left it, and B is then not packed again.
   */
  multiply(a: number, b: number, c: number, M: number, K: number, N: number, scratch: number, packed?: number): void;
  /**
   * Pack all of B [K, N] at `dest` (packedBytes(K, N)): for each block of KC rows, at
   * dest + k0·N8·4, the panels of 8 columns in order, each kc rows of 32 bytes — the layout
   * `multiply` packs one KC × NC block at a time into its scratch.
   */
  packB(b: number, K: number, N: number, dest: number): void;
}

/**
 * The kernel bound to `memory`, or null where it cannot run: no WebAssembly SIMD, or a shared
 * memory (see `instantiate`).
 */
export function createGemm(memory: WebAssembly.Memory): Gemm | null {
  const exports = instantiate(gemmModuleBytes, memory);
  if (!exports) return null;
  const fns = exports as Record<string, Tile>;
  // tiles[R][W], looked up once here rather than by name on every call of the driver below.
  const tiles: Record<number, Record<number, Tile>> = {};
  for (const [R, W] of VARIANTS) (tiles[R] ??= {})[W] = fns[`tile${R}x${W}`]!;
  const tile = (R: number, W: number) => tiles[R]![W]!;
  const pack = fns.pack!;

  return {
    multiply(a, b, c, M, K, N, scratch, packed) {
      const M4 = M - (M % 4);
      const N8 = N - (N % 8);
      const N4 = N - (N % 4);
      // Blocks of columns, by tile width: [0, N8) by 8 in blocks of NC (packed), then [N8, N4) by 4
      // and [N4, N) by 1 (read in place).
      const columns: [number, number, number][] = [];
      for (let j = 0; j < N8; j += NC) columns.push([8, j, Math.min(N8, j + NC)]);
      if (N4 > N8) columns.push([4, N8, N4]);
      if (N > N4) columns.push([1, N4, N]);
      for (let k0 = 0; k0 < K; k0 += KC) {
        const kc = Math.min(KC, K - k0);
        const accumulate = k0 > 0 ? 1 : 0;
        const bAt = b + k0 * N * 4;
        const packedBlock = packed === undefined ? 0 : packed + k0 * N8 * 4;
        for (let i0 = 0; i0 < M; i0 += MC) {
          const mc = Math.min(MC, M - i0);
          const full = Math.min(mc, Math.max(0, M4 - i0)); // rows of this block in 4-row tiles
          const aAt = a + (i0 * K + k0) * 4;
          for (const [W, from, to] of columns) {
            // The 8-wide tiles read panel j at panels + (j − from)·kc·4.
            let panels = scratch;
            if (W === 8 && packed === undefined) pack(0, bAt, 0, 0, N, 0, 0, kc, from, to, 0, scratch);
            else if (W === 8) panels = packedBlock + from * kc * 4;
            if (full > 0) tile(4, W)(aAt, bAt, c + i0 * N * 4, K, N, N, full, kc, from, to, accumulate, panels);
            if (mc > full) tile(mc - full, W)(aAt + full * K * 4, bAt, c + (i0 + full) * N * 4, K, N, N, mc - full, kc, from, to, accumulate, panels);
          }
        }
      }
    },
    packB(b, K, N, dest) {
      const N8 = N - (N % 8);
      if (N8 === 0) return;
      for (let k0 = 0; k0 < K; k0 += KC) pack(0, b + k0 * N * 4, 0, 0, N, 0, 0, Math.min(KC, K - k0), 0, N8, 0, dest + k0 * N8 * 4);
    },
  };
}
