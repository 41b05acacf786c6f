/** Build a model of the configured family. */
import type { ModelConfig } from '../config/schema.ts';
import { AttentionModel } from './attention/model.ts';
import { Seq2SeqModel } from './seq2seq/model.ts';
import { TransformerModel } from './transformer/model.ts';
import type { NmtModel } from './types.ts';

export type { Batch, DecoderState, EncoderState, NmtModel, StepOutput } from './types.ts';

/** Initial weights depend only on (config, vocabulary sizes, seed). */
export function createModel(config: ModelConfig, srcVocabSize: number, tgtVocabSize: number, seed: number): NmtModel {
  switch (config.type) {
    case 'seq2seq':
      return new Seq2SeqModel(config, srcVocabSize, tgtVocabSize, seed);
    case 'attention':
      return new AttentionModel(config, srcVocabSize, tgtVocabSize, seed);
    case 'transformer':
      return new TransformerModel(config, srcVocabSize, tgtVocabSize, seed);
  }
}
