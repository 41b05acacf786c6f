/**
 * A minimal WebAssembly encoder: the few opcodes mt's own kernels (wasm-gemm.ts,
 * wasm-rowmax.ts) use, and a module of one-signature functions over an imported memory. The
 * kernels are emitted byte by byte at start-up with these, so there is no binary blob and no
 * build step. Opcodes: the WebAssembly 2.0 spec (SIMD: section 5.4.8).
 */

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
const simd = (op: number) => [0xfd, ...uleb(op)];
const memarg = (offset: number) => [0, ...uleb(offset)]; // alignment hint 1: always valid

export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  ltU: [0x49],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  f32Load: (offset: number) => [0x2a, ...memarg(offset)],
  f32Store: (offset: number) => [0x38, ...memarg(offset)],
  f32Zero: [0x43, 0, 0, 0, 0],
  f32Add: [0x92],
  f32Mul: [0x94],
  v128Load: (offset: number) => [...simd(0x00), ...memarg(offset)],
  v128Splat32: (offset: number) => [...simd(0x09), ...memarg(offset)],
  v128Store: (offset: number) => [...simd(0x0b), ...memarg(offset)],
  v128Zero: [...simd(0x0c), ...new Array<number>(16).fill(0)],
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  /** i32x4 constant of four lanes. */
  i32x4Const: (lanes: [number, number, number, number]) => [...simd(0x0c), ...lanes.flatMap((n) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff])],
  i32x4Splat: simd(0x11),
  i32x4Add: simd(0xae),
  f32x4Ne: simd(0x42),
  f32x4Gt: simd(0x44),
  v128Or: simd(0x50),
  /** (v1 & c) | (v2 & ~c), operands pushed v1, v2, c. */
  v128Bitselect: simd(0x52),
};

/** A function's body: its locals ([count, type] runs) and code. */
export function functionBody(locals: [number, number][], code: number[]): number[] {
  const body = [...uleb(locals.length), ...locals.flatMap(([n, type]) => [...uleb(n), type]), ...code];
  return [...uleb(body.length), ...body];
}

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((ch) => ch.charCodeAt(0))];
}

/**
 * A module that imports `env.memory` and exports `functions` under `names`, all of one type:
 * `params` i32 parameters, no result.
 */
export function moduleBytes(params: number, names: string[], functions: number[][]): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...uleb(params), ...new Array<number>(params).fill(I32), 0];
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vector([type])),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(names.map(() => [0]))),
    ...section(7, vector(names.map((n, f) => [...name(n), 0x00, ...uleb(f)]))),
    ...section(10, vector(functions)),
  ]);
}

const compiled = new Map<() => Uint8Array<ArrayBuffer>, WebAssembly.Module | null>();

/**
 * The exports of the module `bytes()` makes (compiled once per process), instantiated on
 * `memory`; null where it cannot run: no WebAssembly SIMD (the bytes do not validate), or a
 * shared memory (tfjs's threaded build), which a module must import as shared.
 */
export function instantiate(bytes: () => Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): WebAssembly.Exports | null {
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  let module = compiled.get(bytes);
  if (module === undefined) {
    const code = bytes();
    module = WebAssembly.validate(code) ? new WebAssembly.Module(code) : null;
    compiled.set(bytes, module);
  }
  return module ? new WebAssembly.Instance(module, { env: { memory } }).exports : null;
}
