/**
 * The safetensors file format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON header, then the raw little-endian tensor bytes. The header
 * maps each tensor name to {dtype, shape, data_offsets: [begin, end)} relative to the data
 * section, plus an optional "__metadata__" object of strings. Readable from Python with
 * `safetensors.torch.load_file` or `safetensors.numpy.load_file`.
 */
import * as os from 'node:os';

export type DType = 'F32' | 'I32';

export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: Float32Array | Int32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

const BYTES_PER_ELEMENT: Record<DType, number> = { F32: 4, I32: 4 };

if (os.endianness() !== 'LE') throw new Error('mt: safetensors I/O assumes a little-endian machine');

export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name]!;
    const bytes = t.data.length * BYTES_PER_ELEMENT[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // Pad with spaces (allowed by the format) so the data starts 8-byte aligned.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded > json.length) json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const data = tensors[name]!.data;
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, at);
    at += data.byteLength;
  }
  return out;
}

/** Parse a safetensors buffer; throws an Error saying what is malformed. */
export function decodeSafetensors(buf: Uint8Array): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8) throw new Error('too short for a safetensors file');
  const headerLength = Number(b.readBigUInt64LE(0));
  if (headerLength > b.length - 8) throw new Error(`header length ${headerLength} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(b.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new Error('header is not valid JSON');
  }
  const dataStart = 8 + headerLength;
  const dataLength = b.length - dataStart;
  const tensors: Record<string, HostTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = value as Record<string, string>;
      continue;
    }
    const e = value as Partial<HeaderEntry>;
    if (e.dtype !== 'F32' && e.dtype !== 'I32') throw new Error(`tensor ${name}: unsupported dtype ${String(e.dtype)}`);
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) throw new Error(`tensor ${name}: malformed header entry`);
    const [begin, end] = offsets;
    const size = shape.reduce((n, d) => n * d, 1);
    if (begin < 0 || end > dataLength || end - begin !== size * BYTES_PER_ELEMENT[e.dtype]) {
      throw new Error(`tensor ${name}: data offsets [${begin}, ${end}) do not fit shape [${shape}] in ${dataLength} data bytes`);
    }
    // Copy out: the source buffer's offset need not be 4-byte aligned.
    const bytes = b.buffer.slice(b.byteOffset + dataStart + begin, b.byteOffset + dataStart + end);
    const data = e.dtype === 'F32' ? new Float32Array(bytes) : new Int32Array(bytes);
    tensors[name] = { dtype: e.dtype, shape, data };
  }
  return { tensors, metadata };
}
