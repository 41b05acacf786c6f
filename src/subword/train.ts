/**
 * Train one SentencePiece model (BPE or unigram) on lines of raw text and return the ModelProto
 * that spm_encode, sentencepiece-js and Python's sentencepiece load. See docs/subword.md.
 */
import type { SubwordConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { ModelProto } from './model-proto.ts';
import { trainBpe } from './train-bpe.ts';
import { trainUnigram } from './train-unigram.ts';
import { buildModel, loadSentences, metaPieces, type TrainProgress, type TrainerOptions } from './trainer-common.ts';

export type { TrainerOptions, TrainProgress } from './trainer-common.ts';

/** Trainer options from the `subword:` config section. */
export function trainerOptions(cfg: SubwordConfig, inputs: string[], modelPrefix: string, seed: number): TrainerOptions {
  return {
    type: cfg.type,
    vocabSize: cfg.vocab_size,
    characterCoverage: cfg.character_coverage,
    maxPieceLength: cfg.max_piece_length,
    splitDigits: cfg.split_digits,
    userDefinedSymbols: cfg.user_defined_symbols,
    inputSentenceSize: cfg.input_sentence_size,
    seed,
    padId: cfg.pad_id,
    unkId: cfg.unk_id,
    bosId: cfg.bos_id,
    eosId: cfg.eos_id,
    inputs,
    modelPrefix,
  };
}

export function trainSentencePiece(lines: string[], opts: TrainerOptions, progress?: TrainProgress): ModelProto {
  const meta = metaPieces(opts);
  const corpus = loadSentences(lines, opts, meta);
  if (corpus.sentences.length === 0) throw new UserError(`${opts.inputs.join(', ')}: no text to train subwords on`);
  const train = opts.type === 'bpe' ? trainBpe : trainUnigram;
  const pieces = train(corpus.sentences, corpus.requiredChars, meta.size, opts, progress);
  return buildModel(opts, meta, pieces);
}
