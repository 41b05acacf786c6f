/** `data:` — where the parallel text comes from and how it is cleaned and split. */
import { z } from 'zod';

/** A file path (PATH_MAX), and a language code: bounded so that no error line quotes megabytes. */
const filePath = z.string().min(1).max(4096);
const langCode = z.string().min(1).max(32);

/** One parallel corpus: two line-aligned files, or one TSV file (either plain or .gz). */
export const CorpusSchema = z.union([
  z.strictObject({
    src: filePath.describe('source-language file, one sentence per line (plain or .gz)'),
    tgt: filePath.describe('target-language file, line-aligned with src'),
  }),
  z
    .strictObject({
      tsv: filePath.describe('one file with tab-separated fields per line (plain or .gz)'),
      src_column: z.number().int().positive().default(1).describe('field (1-based) holding the source sentence'),
      tgt_column: z.number().int().positive().default(2).describe('field (1-based) holding the target sentence'),
    })
    .refine((c) => c.src_column !== c.tgt_column, { message: 'must differ from src_column', path: ['tgt_column'] }),
]);
export type Corpus = z.infer<typeof CorpusSchema>;

export const CleanSchema = z.strictObject({
  normalize: z.boolean().default(true).describe('apply the subword model\'s nmt_nfkc normalization'),
  remove_control_chars: z.boolean().default(true).describe('remove control characters (Unicode Cc) other than TAB'),
  collapse_whitespace: z.boolean().default(true).describe('trim and turn every run of whitespace into one space'),
  drop_empty: z.boolean().default(true).describe('drop pairs with an empty side'),
  max_chars: z.number().int().positive().default(1000).describe('characters (code points) per side'),
  max_tokens: z.number().int().positive().default(250).describe('whitespace tokens per side'),
  max_length_ratio: z.number().positive().default(3).describe('max of len(src)/len(tgt) and its inverse, in tokens'),
  dedup: z.boolean().default(true).describe('drop exact duplicate pairs'),
  drop_src_equals_tgt: z.boolean().default(true).describe('drop pairs whose source and target are the same text'),
  on_invalid_utf8: z.enum(['fail', 'skip']).default('fail').describe('lines with invalid UTF-8 or NUL bytes: fail, or skip the pair (counted and listed in the report)'),
  min_kept_fraction: z.number().min(0).max(1).default(0.1).describe('fail if less than this fraction survives'),
});

/** Held-out pairs drawn from the cleaned training data, for whichever of valid/test has no corpus of its own. */
export const SplitSchema = z.strictObject({
  valid_size: z.number().int().nonnegative().default(1000).describe('pairs split off train when data.valid is absent'),
  test_size: z.number().int().nonnegative().default(1000).describe('pairs split off train when data.test is absent'),
  seed: z.number().int().default(1234).describe('seed of the split (the same seed and data give the same split)'),
});

export const DataSchema = z.strictObject({
  src_lang: langCode.describe('source language code, e.g. de'),
  tgt_lang: langCode.describe('target language code, e.g. en'),
  train: z.array(CorpusSchema).min(1).max(1000).describe('one or more training corpora'),
  valid: CorpusSchema.optional().describe('validation corpus; split off train when absent'),
  test: CorpusSchema.optional().describe('test corpus; split off train when absent'),
  split: SplitSchema.prefault({}),
  clean: CleanSchema.prefault({}),
});

export type CleanConfig = z.infer<typeof CleanSchema>;
