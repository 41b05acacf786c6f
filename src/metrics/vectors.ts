/**
 * One case of a sacreBLEU vectors file (shared/testdata/sacrebleu-vectors.json): its inputs and
 * options in, `{metric: result}` out with sacreBLEU's field names, for `mt eval --vectors-case`
 * and the tests. Sentence-level cases give a list of results per metric.
 */
import { z } from 'zod';
import { BLEU_SMOOTH_METHODS } from './bleu.ts';
import { sentenceScores, score, type MetricOptions } from './index.ts';
import { BLEU_TOKENIZERS } from './tokenizers.ts';
import { METRIC_IDS, type MetricId, type MetricResult } from './types.ts';

const BleuCaseOptions = z.strictObject({
  tokenize: z.enum(BLEU_TOKENIZERS),
  lowercase: z.boolean(),
  smooth_method: z.enum(BLEU_SMOOTH_METHODS),
  smooth_value: z.number().nullable(),
  effective_order: z.boolean(),
});

const ChrfCaseOptions = z.strictObject({
  char_order: z.number().int().nonnegative(),
  word_order: z.number().int().nonnegative(),
  beta: z.number().positive(),
  lowercase: z.boolean(),
  whitespace: z.boolean(),
  eps_smoothing: z.boolean(),
});

const TerCaseOptions = z.strictObject({
  normalized: z.boolean(),
  no_punct: z.boolean(),
  asian_support: z.boolean(),
  case_sensitive: z.boolean(),
});

/** A case as in the vectors file; `expected` (and anything else) is ignored. */
export const VectorsCaseSchema = z.object({
  name: z.string().optional(),
  level: z.enum(['corpus', 'sentence']),
  metrics: z.array(z.enum(METRIC_IDS)).min(1),
  hypotheses: z.array(z.string()),
  references: z.array(z.array(z.string())).min(1),
  options: z
    .object({
      bleu: BleuCaseOptions.partial(),
      chrf: ChrfCaseOptions.partial(),
      'chrf++': ChrfCaseOptions.partial(),
      ter: TerCaseOptions.partial(),
    })
    .partial()
    .default({}),
});

export type VectorsCase = z.infer<typeof VectorsCaseSchema>;
export type VectorsOutput = Partial<Record<MetricId, MetricResult | MetricResult[]>>;

/** Drop undefined fields so that `{...defaults, ...opts}` keeps the defaults for them. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function optionsFor<M extends MetricId>(metric: M, c: VectorsCase): Partial<MetricOptions[M]>;
function optionsFor(metric: MetricId, c: VectorsCase): Partial<MetricOptions[MetricId]> {
  const o = c.options;
  switch (metric) {
    case 'bleu': {
      const b = o.bleu ?? {};
      return defined({
        tokenize: b.tokenize,
        lowercase: b.lowercase,
        smoothMethod: b.smooth_method,
        smoothValue: b.smooth_value,
        // sacreBLEU's sentence_bleu turns effective order on.
        effectiveOrder: b.effective_order ?? (c.level === 'sentence' ? true : undefined),
      });
    }
    case 'chrf':
    case 'chrf++': {
      const f = o[metric] ?? {};
      return defined({
        charOrder: f.char_order,
        wordOrder: f.word_order,
        beta: f.beta,
        lowercase: f.lowercase,
        whitespace: f.whitespace,
        epsSmoothing: f.eps_smoothing,
      });
    }
    case 'ter': {
      const t = o.ter ?? {};
      return defined({
        normalized: t.normalized,
        noPunct: t.no_punct,
        asianSupport: t.asian_support,
        caseSensitive: t.case_sensitive,
      });
    }
  }
}

/** Compute what sacreBLEU gives for the case. Throws (plain Error) when the streams differ in length. */
export function runVectorsCase(c: VectorsCase): VectorsOutput {
  const out: VectorsOutput = {};
  for (const metric of c.metrics) {
    const opts = optionsFor(metric, c);
    out[metric] = c.level === 'sentence' ? sentenceScores(metric, c.hypotheses, c.references, opts) : score(metric, c.hypotheses, c.references, opts);
  }
  return out;
}
