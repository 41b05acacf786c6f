/** `data:` — where the parallel text comes from and how it is cleaned and split. */
import { z } from 'zod';

/** One parallel corpus: two aligned files (plain or .gz), or one TSV with source<TAB>target. */
export const CorpusSchema = z.union([
  z.strictObject({
    src: z.string().min(1).describe('source-language file, one sentence per line (plain or .gz)'),
    tgt: z.string().min(1).describe('target-language file, line-aligned with src'),
  }),
  z.strictObject({
    tsv: z.string().min(1).describe('one file with source<TAB>target per line'),
  }),
]);
export type Corpus = z.infer<typeof CorpusSchema>;

export const CleanSchema = z.strictObject({
  normalize: z.boolean().default(true).describe('apply the subword model\'s nmt_nfkc normalization'),
  remove_control_chars: z.boolean().default(true),
  collapse_whitespace: z.boolean().default(true),
  drop_empty: z.boolean().default(true),
  max_chars: z.number().int().positive().default(1000),
  max_tokens: z.number().int().positive().default(250).describe('whitespace tokens per side'),
  max_length_ratio: z.number().positive().default(3).describe('max of len(src)/len(tgt) and its inverse, in tokens'),
  dedup: z.boolean().default(true).describe('drop exact duplicate pairs'),
  drop_src_equals_tgt: z.boolean().default(true),
  on_invalid_utf8: z.enum(['fail', 'skip']).default('fail'),
  min_kept_fraction: z.number().min(0).max(1).default(0.1).describe('fail if less than this fraction survives'),
});

export const SplitSchema = z.strictObject({
  valid_size: z.number().int().nonnegative().default(1000),
  test_size: z.number().int().nonnegative().default(1000),
  seed: z.number().int().default(1234),
});

export const DataSchema = z.strictObject({
  src_lang: z.string().min(1).describe('source language code, e.g. de'),
  tgt_lang: z.string().min(1).describe('target language code, e.g. en'),
  train: z.array(CorpusSchema).min(1).describe('one or more training corpora'),
  valid: CorpusSchema.optional().describe('validation corpus; split off train when absent'),
  test: CorpusSchema.optional().describe('test corpus; split off train when absent'),
  split: SplitSchema.prefault({}),
  clean: CleanSchema.prefault({}),
});
