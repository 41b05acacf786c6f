/**
 * SentencePiece's `.model` file: the `ModelProto` protobuf (sentencepiece_model.proto, proto2).
 *
 * A small hand-written reader/writer for the fields mt uses: the pieces, the trainer spec
 * (model type, vocab size, special ids, piece rules) and the normalizer spec (with the
 * precompiled charsmap). Unknown fields are skipped when reading; mt never rewrites a model it
 * did not train, so nothing is lost.
 */

/** `ModelProto.SentencePiece.Type`. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

export interface ModelPiece {
  piece: string;
  score: number;
  type: PieceType;
}

/** `TrainerSpec.ModelType` names, index = enum value. */
const MODEL_TYPES = [undefined, 'unigram', 'bpe', 'word', 'char'] as const;
export type ModelType = NonNullable<(typeof MODEL_TYPES)[number]>;

/** The TrainerSpec fields mt reads and writes (proto names, camel-cased). Absent = proto default. */
export interface TrainerSpec {
  input?: string[];
  inputFormat?: string;
  modelPrefix?: string;
  modelType?: ModelType;
  vocabSize?: number;
  selfTestSampleSize?: number;
  characterCoverage?: number;
  inputSentenceSize?: number;
  shuffleInputSentence?: boolean;
  seedSentencepieceSize?: number;
  shrinkingFactor?: number;
  maxSentenceLength?: number;
  numThreads?: number;
  numSubIterations?: number;
  maxSentencepieceLength?: number;
  splitByUnicodeScript?: boolean;
  splitByNumber?: boolean;
  splitByWhitespace?: boolean;
  treatWhitespaceAsSuffix?: boolean;
  allowWhitespaceOnlyPieces?: boolean;
  splitDigits?: boolean;
  controlSymbols?: string[];
  userDefinedSymbols?: string[];
  requiredChars?: string;
  byteFallback?: boolean;
  vocabularyOutputPieceScore?: boolean;
  hardVocabLimit?: boolean;
  useAllVocab?: boolean;
  unkId?: number;
  bosId?: number;
  eosId?: number;
  padId?: number;
  unkPiece?: string;
  bosPiece?: string;
  eosPiece?: string;
  padPiece?: string;
  unkSurface?: string;
  trainExtremelyLargeCorpus?: boolean;
}

export interface NormalizerSpec {
  name?: string;
  precompiledCharsmap?: Uint8Array;
  addDummyPrefix?: boolean;
  removeExtraWhitespaces?: boolean;
  escapeWhitespaces?: boolean;
  normalizationRuleTsv?: string;
}

export interface ModelProto {
  pieces: ModelPiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
}

type Kind = 'string' | 'strings' | 'int32' | 'uint64' | 'float' | 'bool' | 'bytes' | 'modelType';

/** Field numbers and kinds, from sentencepiece_model.proto. Written in this order. */
const TRAINER_FIELDS: { [K in keyof Required<TrainerSpec>]: [number, Kind] } = {
  input: [1, 'strings'],
  modelPrefix: [2, 'string'],
  modelType: [3, 'modelType'],
  vocabSize: [4, 'int32'],
  selfTestSampleSize: [6, 'int32'],
  inputFormat: [7, 'string'],
  characterCoverage: [10, 'float'],
  inputSentenceSize: [11, 'uint64'],
  seedSentencepieceSize: [14, 'int32'],
  shrinkingFactor: [15, 'float'],
  numThreads: [16, 'int32'],
  numSubIterations: [17, 'int32'],
  maxSentenceLength: [18, 'int32'],
  shuffleInputSentence: [19, 'bool'],
  maxSentencepieceLength: [20, 'int32'],
  splitByUnicodeScript: [21, 'bool'],
  splitByWhitespace: [22, 'bool'],
  splitByNumber: [23, 'bool'],
  treatWhitespaceAsSuffix: [24, 'bool'],
  splitDigits: [25, 'bool'],
  allowWhitespaceOnlyPieces: [26, 'bool'],
  controlSymbols: [30, 'strings'],
  userDefinedSymbols: [31, 'strings'],
  vocabularyOutputPieceScore: [32, 'bool'],
  hardVocabLimit: [33, 'bool'],
  useAllVocab: [34, 'bool'],
  byteFallback: [35, 'bool'],
  requiredChars: [36, 'string'],
  unkId: [40, 'int32'],
  bosId: [41, 'int32'],
  eosId: [42, 'int32'],
  padId: [43, 'int32'],
  unkSurface: [44, 'string'],
  unkPiece: [45, 'string'],
  bosPiece: [46, 'string'],
  eosPiece: [47, 'string'],
  padPiece: [48, 'string'],
  trainExtremelyLargeCorpus: [49, 'bool'],
};

const NORMALIZER_FIELDS: { [K in keyof Required<NormalizerSpec>]: [number, Kind] } = {
  name: [1, 'string'],
  precompiledCharsmap: [2, 'bytes'],
  addDummyPrefix: [3, 'bool'],
  removeExtraWhitespaces: [4, 'bool'],
  escapeWhitespaces: [5, 'bool'],
  normalizationRuleTsv: [6, 'string'],
};

/** Proto defaults of the fields whose defaults matter to readers of a model. */
export const TRAINER_DEFAULTS = {
  modelType: 'unigram',
  unkId: 0,
  bosId: 1,
  eosId: 2,
  padId: -1,
  treatWhitespaceAsSuffix: false,
  byteFallback: false,
} as const;

export const NORMALIZER_DEFAULTS = {
  addDummyPrefix: true,
  removeExtraWhitespaces: true,
  escapeWhitespaces: true,
} as const;

/** Thrown for bytes that are not a well-formed ModelProto; callers add the file name. */
export class ProtoError extends Error {}

// ---------------------------------------------------------------------------------------------
// Wire format

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

class Reader {
  pos: number;
  private readonly view: DataView;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    return this.varint64().value;
  }

  /** int32 fields are sign-extended to 64 bits on the wire: keep the low 32 bits exactly. */
  int32(): number {
    return this.varint64().low32 | 0;
  }

  private varint64(): { value: number; low32: number } {
    let value = 0;
    let low32 = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint');
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (i < 5) low32 = (low32 | ((b & 0x7f) << (7 * i))) >>> 0;
      if (b < 0x80) return { value, low32 };
      scale *= 128;
    }
    throw new ProtoError('varint longer than 10 bytes');
  }

  float(): number {
    if (this.pos + 4 > this.end) throw new ProtoError('truncated float');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw new ProtoError('truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch (e) {
      if (e instanceof ProtoError) throw e;
      throw new ProtoError('string field is not valid UTF-8');
    }
  }

  /** A sub-reader over a length-delimited field. */
  message(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new ProtoError('truncated embedded message');
    const sub = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return sub;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        break;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos += this.varint();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new ProtoError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw new ProtoError('truncated field');
  }
}

class Writer {
  private chunks: Uint8Array[] = [];
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  varint(v: number): void {
    if (v < 0) {
      // Negative int32: two's complement over 64 bits, always 10 bytes.
      let lo = v >>> 0;
      for (let i = 0; i < 4; i++) {
        this.scratch.push((lo & 0x7f) | 0x80);
        lo >>>= 7;
      }
      // bits 28..31 of the low word, then all-ones high bits.
      this.scratch.push((lo & 0x0f) | 0x70 | 0x80);
      for (let i = 0; i < 4; i++) this.scratch.push(0xff);
      this.scratch.push(0x01);
      return;
    }
    let n = v;
    while (n >= 0x80) {
      this.scratch.push((n % 128) | 0x80);
      n = Math.floor(n / 128);
    }
    this.scratch.push(n);
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(...b);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.flushScratch();
    this.chunks.push(data);
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8Encoder.encode(s));
  }

  /** Bytes already encoded as fields. */
  raw(data: Uint8Array): void {
    this.flushScratch();
    this.chunks.push(data);
  }

  finish(): Uint8Array {
    this.flushScratch();
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

function readFields<T extends object>(r: Reader, table: { [K in keyof T]-?: [number, Kind] }): T {
  const byNumber = new Map<number, [string, Kind]>();
  for (const [name, [num, kind]] of Object.entries(table) as [string, [number, Kind]][]) byNumber.set(num, [name, kind]);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    const field = byNumber.get(num);
    if (!field) {
      r.skip(wire);
      continue;
    }
    const [name, kind] = field;
    const expectedWire = kind === 'float' ? 5 : kind === 'string' || kind === 'strings' || kind === 'bytes' ? 2 : 0;
    if (wire !== expectedWire) throw new ProtoError(`field ${num} has wire type ${wire}, expected ${expectedWire}`);
    switch (kind) {
      case 'string':
        out[name] = r.string();
        break;
      case 'strings':
        ((out[name] ??= []) as string[]).push(r.string());
        break;
      case 'bytes':
        out[name] = r.bytes().slice();
        break;
      case 'int32':
        out[name] = r.int32();
        break;
      case 'uint64':
        out[name] = r.varint();
        break;
      case 'bool':
        out[name] = r.varint() !== 0;
        break;
      case 'float':
        out[name] = r.float();
        break;
      case 'modelType': {
        const v = r.varint();
        const t = MODEL_TYPES[v];
        if (!t) throw new ProtoError(`unknown model_type ${v}`);
        out[name] = t;
        break;
      }
    }
  }
  return out as T;
}

function writeFields<T extends object>(w: Writer, value: T, table: { [K in keyof T]-?: [number, Kind] }): void {
  const entries = (Object.entries(table) as [keyof T & string, [number, Kind]][]).sort((a, b) => a[1][0] - b[1][0]);
  for (const [name, [num, kind]] of entries) {
    const v = value[name] as unknown;
    if (v === undefined) continue;
    switch (kind) {
      case 'string':
        w.string(num, v as string);
        break;
      case 'strings':
        for (const s of v as string[]) w.string(num, s);
        break;
      case 'bytes':
        w.bytes(num, v as Uint8Array);
        break;
      case 'int32':
      case 'uint64':
        w.tag(num, 0);
        w.varint(v as number);
        break;
      case 'bool':
        w.tag(num, 0);
        w.varint(v ? 1 : 0);
        break;
      case 'float':
        w.float(num, v as number);
        break;
      case 'modelType':
        w.tag(num, 0);
        w.varint(MODEL_TYPES.indexOf(v as ModelType));
        break;
    }
  }
}

function readPiece(r: Reader): ModelPiece {
  const p: ModelPiece = { piece: '', score: 0, type: PieceType.NORMAL };
  while (!r.done) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    if (num === 1 && (key & 7) === 2) p.piece = r.string();
    else if (num === 2 && (key & 7) === 5) p.score = r.float();
    else if (num === 3 && (key & 7) === 0) {
      const t = r.varint();
      if (t < 1 || t > 6) throw new ProtoError(`unknown piece type ${t}`);
      p.type = t as PieceType;
    } else r.skip(key & 7);
  }
  return p;
}

/** Parse `.model` bytes. Throws ProtoError when they are not a ModelProto. */
export function decodeModelProto(buf: Uint8Array): ModelProto {
  const r = new Reader(buf);
  const model: ModelProto = { pieces: [], trainerSpec: {}, normalizerSpec: {} };
  while (!r.done) {
    const key = r.varint();
    const num = Math.floor(key / 8);
    const wire = key & 7;
    if (num >= 1 && num <= 3 && wire !== 2) throw new ProtoError(`field ${num} has wire type ${wire}, expected 2`);
    if (num === 1) model.pieces.push(readPiece(r.message()));
    else if (num === 2) model.trainerSpec = readFields<TrainerSpec>(r.message(), TRAINER_FIELDS);
    else if (num === 3) model.normalizerSpec = readFields<NormalizerSpec>(r.message(), NORMALIZER_FIELDS);
    else r.skip(wire);
  }
  return model;
}

/**
 * The pieces as repeated field 1: each a message of piece (1), score (2, float) and type (3,
 * left out when NORMAL, as spm does). Written straight into one buffer: a model has tens of
 * thousands of pieces, and a Writer per piece was slower than training a small model.
 */
function encodePieces(pieces: ModelPiece[]): Uint8Array {
  let buf = new Uint8Array(1024 + pieces.length * 32);
  let view = new DataView(buf.buffer);
  let n = 0;
  const varint = (v: number) => {
    while (v >= 0x80) {
      buf[n++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[n++] = v;
  };
  for (const p of pieces) {
    if (n + 32 + 3 * p.piece.length > buf.length) {
      const grown = new Uint8Array(2 * buf.length + 3 * p.piece.length);
      grown.set(buf.subarray(0, n));
      buf = grown;
      view = new DataView(buf.buffer);
    }
    const length = utf8Length(p.piece);
    const inner = 1 + varintLength(length) + length + 5 + (p.type !== PieceType.NORMAL ? 2 : 0);
    buf[n++] = (1 << 3) | 2;
    varint(inner);
    buf[n++] = (1 << 3) | 2;
    varint(length);
    // In place: TextEncoder.encode would make an array per piece (pieces are short and many).
    n += utf8Encoder.encodeInto(p.piece, buf.subarray(n)).written;
    buf[n++] = (2 << 3) | 5;
    view.setFloat32(n, p.score, true);
    n += 4;
    if (p.type !== PieceType.NORMAL) {
      buf[n++] = 3 << 3;
      buf[n++] = p.type;
    }
  }
  return buf.subarray(0, n);
}

/** UTF-8 length of a string as TextEncoder encodes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    if (u < 0x80) n += 1;
    else if (u < 0x800) n += 2;
    else if (u >= 0xd800 && u < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function encodeModelProto(model: ModelProto): Uint8Array {
  const w = new Writer();
  w.raw(encodePieces(model.pieces));
  const tw = new Writer();
  writeFields(tw, model.trainerSpec, TRAINER_FIELDS);
  w.bytes(2, tw.finish());
  const nw = new Writer();
  writeFields(nw, model.normalizerSpec, NORMALIZER_FIELDS);
  w.bytes(3, nw.finish());
  return w.finish();
}
