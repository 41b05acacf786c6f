/**
 * What the rest of mt needs from a subword model. `src/subword/` implements it on top of
 * sentencepiece-js (encoding) and the ModelProto protobuf (vocabulary, special ids).
 */
export interface SubwordModel {
  /** Absolute path of the `.model` file. */
  readonly file: string;
  readonly type: 'bpe' | 'unigram';
  readonly vocabSize: number;
  /** Special ids as the model defines them; -1 when a brought model has no such piece. */
  readonly padId: number;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  /** Raw text → ids (no bos/eos added). */
  encodeIds(text: string): number[];
  /** Raw text → pieces (`▁` marks word starts). */
  encodePieces(text: string): string[];
  /** Ids → detokenized text (special ids are dropped). */
  decodeIds(ids: number[]): string;
  idToPiece(id: number): string;
  /** The unknown id for a piece the vocabulary does not have (as SentencePiece). */
  pieceToId(piece: string): number;
}

/** The source and target models of a run (the same object twice when joint). */
export interface SubwordPair {
  src: SubwordModel;
  tgt: SubwordModel;
}
