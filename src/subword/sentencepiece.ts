/**
 * A SentencePiece `.model` as mt uses it: encoding and decoding by the real SentencePiece
 * (C++ compiled to WebAssembly, package @agnai/sentencepiece-js — sentencepiece-js 1.1.0 without
 * the process-wide uncaughtException/unhandledRejection handlers 1.1.0 installs on every load),
 * and everything else (vocabulary, special ids, model type) read from the ModelProto itself,
 * since the package exposes none of it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import spjs, { type SentencePieceProcessor } from '@agnai/sentencepiece-js';
import { UserError } from '../errors.ts';
import { PieceType, ProtoError, TRAINER_DEFAULTS, decodeModelProto, type ModelPiece, type ModelProto } from './model-proto.ts';
import type { SubwordModel } from './types.ts';

/** Models are a few MB (a million pieces: about 30 MB); more is not one, and is not read. */
const MAX_MODEL_BYTES = 256 << 20;

export class SentencePieceModel implements SubwordModel {
  readonly file: string;
  readonly type: 'bpe' | 'unigram';
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly pieces: readonly ModelPiece[];
  private readonly ids: Map<string, number>;
  private readonly processor: SentencePieceProcessor;

  private constructor(file: string, proto: ModelProto, type: 'bpe' | 'unigram', processor: SentencePieceProcessor) {
    this.file = file;
    this.type = type;
    this.processor = processor;
    this.pieces = proto.pieces;
    this.vocabSize = proto.pieces.length;
    this.ids = new Map(proto.pieces.map((p, i) => [p.piece, i]));
    // As spm's processor: a special id is the id of its piece when that piece has the right type, else -1.
    const spec = proto.trainerSpec;
    const idOf = (piece: string, type: PieceType) => {
      const id = this.ids.get(piece);
      return id !== undefined && proto.pieces[id]!.type === type ? id : -1;
    };
    this.unkId = proto.pieces.findIndex((p) => p.type === PieceType.UNKNOWN);
    this.bosId = idOf(spec.bosPiece ?? '<s>', PieceType.CONTROL);
    this.eosId = idOf(spec.eosPiece ?? '</s>', PieceType.CONTROL);
    this.padId = idOf(spec.padPiece ?? '<pad>', PieceType.CONTROL);
  }

  /** Load a `.model` file; anything that is not a usable BPE or unigram model is a UserError naming it. */
  static async load(file: string): Promise<SentencePieceModel> {
    const abs = path.resolve(file);
    let bytes: Buffer;
    try {
      const st = fs.statSync(abs);
      // A device (subword.model.joint: /dev/zero) would be read forever.
      if (st.isCharacterDevice()) throw new UserError(`${file}: a character device, not a SentencePiece model file`);
      if (!st.isFile() && !st.isDirectory()) throw new UserError(`${file}: not a regular file, expected a SentencePiece model file`);
      if (st.size > MAX_MODEL_BYTES) throw new UserError(`${file}: ${st.size} bytes, too large for a SentencePiece model (at most ${MAX_MODEL_BYTES})`);
      bytes = fs.readFileSync(abs);
    } catch (e) {
      if (e instanceof UserError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? String(e));
      throw new UserError(`${file}: cannot read SentencePiece model (${why})`);
    }
    let proto: ModelProto;
    try {
      proto = decodeModelProto(bytes);
    } catch (e) {
      if (e instanceof ProtoError) throw new UserError(`${file}: not a SentencePiece model (${e.message})`);
      throw e;
    }
    const type = proto.trainerSpec.modelType ?? TRAINER_DEFAULTS.modelType;
    if (type !== 'bpe' && type !== 'unigram') {
      throw new UserError(`${file}: SentencePiece model type '${type}' is not supported (use bpe or unigram)`);
    }
    const processor = new spjs.SentencePieceProcessor();
    await processor.load(abs);
    // load() ignores SentencePiece's status, and a failed model then encodes everything to [].
    const status = processor.processor.status();
    const message = status.ToString();
    status.delete();
    if (message !== 'OK') throw new UserError(`${file}: SentencePiece cannot load this model (${message})`);
    return new SentencePieceModel(abs, proto, type, processor);
  }

  encodeIds(text: string): number[] {
    return this.processor.encodeIds(text);
  }

  encodePieces(text: string): string[] {
    return this.processor.encodePieces(text);
  }

  decodeIds(ids: number[]): string {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) throw new RangeError(`${this.file}: id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
    return this.processor.decodeIds(ids);
  }

  idToPiece(id: number): string {
    const p = this.pieces[id];
    if (!p) throw new RangeError(`${this.file}: id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    return p.piece;
  }

  /** The id of `piece`, or the unknown id when the vocabulary does not have it (as spm). */
  pieceToId(piece: string): number {
    return this.ids.get(piece) ?? this.unkId;
  }
}
