/** `subword:` — SentencePiece models trained by `mt vocab` (or brought by the user). */
import { z } from 'zod';

export const SubwordSchema = z.strictObject({
  type: z.enum(['bpe', 'unigram']).default('bpe'),
  vocab_size: z.number().int().min(8).default(8000),
  joint: z.boolean().default(true).describe('one model shared by source and target'),
  character_coverage: z.number().gt(0).max(1).default(1.0),
  max_piece_length: z.number().int().positive().default(16),
  split_digits: z.boolean().default(false),
  user_defined_symbols: z.array(z.string().min(1)).default([]),
  input_sentence_size: z.number().int().nonnegative().default(0).describe('sample this many sentences to train on (0 = all)'),
  pad_id: z.number().int().nonnegative().default(0),
  unk_id: z.number().int().nonnegative().default(1),
  bos_id: z.number().int().nonnegative().default(2),
  eos_id: z.number().int().nonnegative().default(3),
  model: z
    .strictObject({
      joint: z.string().optional(),
      src: z.string().optional(),
      tgt: z.string().optional(),
    })
    .optional()
    .describe('existing .model files to use instead of training'),
});
