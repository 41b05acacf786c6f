/** `eval:` — metrics computed by `mt eval` (sacreBLEU-compatible). */
import { z } from 'zod';

export const EvalSchema = z.strictObject({
  metrics: z.array(z.enum(['bleu', 'chrf', 'chrf++', 'ter'])).min(1).default(['bleu', 'chrf', 'ter']),
  tokenize: z.enum(['13a', 'intl', 'zh', 'char', 'none']).default('13a').describe('BLEU tokenizer'),
  lowercase: z.boolean().default(false),
  length_buckets: z.array(z.number().int().positive()).max(100).default([10, 20, 30, 40, 50]).describe('source-length bucket upper bounds, in words'),
  bootstrap_samples: z.number().int().positive().max(1_000_000).default(1000),
  seed: z.number().int().default(12345),
});
