/** `decode:` — search settings used by `mt translate` and validation BLEU. */
import { z } from 'zod';

/** Beams (and n-best lists) past this only cost memory: a beam of 100000 crashed the wasm heap. */
export const MAX_BEAM = 100;

export const DecodeSchema = z
  .strictObject({
    beam_size: z.number().int().positive().max(MAX_BEAM).default(5).describe('1 = greedy'),
    length_penalty: z.number().nonnegative().default(0.6).describe('GNMT alpha; 0 = none'),
    max_len_a: z.number().nonnegative().default(1.5).describe('max output length = a * source length + b'),
    max_len_b: z.number().int().nonnegative().default(10),
    min_len: z.number().int().nonnegative().default(0),
    batch_size: z.number().int().positive().max(10_000).default(32).describe('sentences per batch'),
    nbest: z.number().int().positive().max(MAX_BEAM).default(1),
    max_input_len: z
      .number()
      .int()
      .positive()
      .max(10_000)
      .default(250)
      .describe('longer source lines are truncated to this many subword tokens, with a warning (Transformers: at most model.max_positions)'),
  })
  .refine((d) => d.nbest <= d.beam_size, { message: 'nbest cannot exceed beam_size', path: ['nbest'] });
