/**
 * Weights of an exported site: safetensors (8-byte little-endian header length, JSON header,
 * raw little-endian data), F32 as the checkpoint holds them or F16 (`--float16`, half the
 * download). Written in Node by `mt export web`, read in the browser (no Buffer, no node: imports).
 */

export interface WebTensor {
  shape: number[];
  data: Float32Array;
}

/** float32 → IEEE half bits, rounding to nearest even; beyond the half range → ±Infinity. */
export function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero).
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++; // a carry into the exponent is still right
  return sign | half;
}

/** IEEE half bits → number. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A safetensors file of F16 tensors from float32 ones (names sorted, data 8-byte aligned). */
export function encodeF16Safetensors(tensors: Record<string, WebTensor>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    header[name] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + 2 * t.data.length] };
    offset += 2 * t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const name of names) {
    for (const v of tensors[name]!.data) {
      view.setUint16(at, toHalf(v), true);
      at += 2;
    }
  }
  return out;
}

/** Every tensor of a safetensors file (F32 or F16) as float32. */
export function readWebSafetensors(bytes: Uint8Array): Record<string, WebTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) throw new Error('too short for a safetensors file');
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.length - 8) throw new Error(`header length ${headerLength} exceeds the file size`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + headerLength;
  const out: Record<string, WebTensor> = {};
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const n = e.shape.reduce((a, d) => a * d, 1);
    const [begin, end] = e.data_offsets;
    const data = new Float32Array(n);
    if (e.dtype === 'F32' && end - begin === 4 * n) {
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(start + begin + 4 * i, true);
    } else if (e.dtype === 'F16' && end - begin === 2 * n) {
      for (let i = 0; i < n; i++) data[i] = fromHalf(view.getUint16(start + begin + 2 * i, true));
    } else {
      throw new Error(`tensor ${name}: dtype ${e.dtype} with offsets [${begin}, ${end}) for shape [${e.shape}] is not readable here`);
    }
    out[name] = { shape: e.shape, data };
  }
  return out;
}
