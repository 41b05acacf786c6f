/** `subword:` — SentencePiece models trained by `mt vocab` (or brought by the user). */
import { z } from 'zod';

/** The special pieces, in the order spm_train assigns them. */
const SPECIAL_PIECES = [
  ['unk_id', '<unk>'],
  ['bos_id', '<s>'],
  ['eos_id', '</s>'],
  ['pad_id', '<pad>'],
] as const;

/** The smallest subword.vocab_size: the four special pieces and a few more (advice must not go below it). */
export const MIN_VOCAB_SIZE = 8;

export const SubwordSchema = z
  .strictObject({
    type: z.enum(['bpe', 'unigram']).default('bpe'),
    vocab_size: z.number().int().min(MIN_VOCAB_SIZE).max(1_000_000).default(8000),
    joint: z.boolean().default(true).describe('one model shared by source and target'),
    character_coverage: z.number().gt(0).max(1).default(1.0),
    max_piece_length: z.number().int().positive().default(16),
    split_digits: z.boolean().default(false),
    user_defined_symbols: z.array(z.string().min(1).max(256)).max(10_000).default([]),
    input_sentence_size: z.number().int().nonnegative().default(0).describe('sample this many sentences to train on (0 = all)'),
    pad_id: z.number().int().nonnegative().default(0),
    unk_id: z.number().int().nonnegative().default(1),
    bos_id: z.number().int().nonnegative().default(2),
    eos_id: z.number().int().nonnegative().default(3),
    model: z
      .strictObject({
        joint: z.string().max(4096).optional(),
        src: z.string().max(4096).optional(),
        tgt: z.string().max(4096).optional(),
      })
      .optional()
      .describe('existing .model files to use instead of training'),
  })
  // The four special pieces each need their own id inside the vocabulary, and a symbol can be listed once.
  .superRefine((cfg, ctx) => {
    const owner = new Map<number, (typeof SPECIAL_PIECES)[number]>();
    for (const special of SPECIAL_PIECES) {
      const [key] = special;
      const id = cfg[key];
      const taken = owner.get(id);
      if (taken) ctx.addIssue({ code: 'custom', path: [key], message: `id ${id} is already used by ${taken[1]} (subword.${taken[0]}); the special pieces need distinct ids` });
      else if (id >= cfg.vocab_size) ctx.addIssue({ code: 'custom', path: [key], message: `id ${id} is not below subword.vocab_size (${cfg.vocab_size})` });
      owner.set(id, special);
    }
    const seen = new Set<string>();
    for (const [i, sym] of cfg.user_defined_symbols.entries()) {
      if (seen.has(sym)) ctx.addIssue({ code: 'custom', path: ['user_defined_symbols', i], message: `${JSON.stringify(sym)} is listed twice` });
      seen.add(sym);
    }
  });
