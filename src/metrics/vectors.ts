/**
 * One case of a sacreBLEU vectors file (shared/testdata/sacrebleu-vectors.json): its inputs and
 * options in, `{metric: result}` out with sacreBLEU's field names, for `mt eval --vectors-case`
 * and the tests. Sentence-level cases give a list of results per metric. The options by
 * sacreBLEU's names are also what `mt eval`'s sacreBLEU flags become (metricOptionsFor maps both).
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

/**
 * Metric options by sacreBLEU's names, per metric: a vectors case's `options`, and what
 * `mt eval`'s sacreBLEU flags (--smooth-method, --chrf-beta, --ter-no-punct, …) are parsed into.
 */
export const SacrebleuOptionsSchema = z
  .object({
    bleu: BleuCaseOptions.partial(),
    chrf: ChrfCaseOptions.partial(),
    'chrf++': ChrfCaseOptions.partial(),
    ter: TerCaseOptions.partial(),
  })
  .partial();

export type SacrebleuOptions = z.infer<typeof SacrebleuOptionsSchema>;

/** A case as in the vectors file; `expected` (and anything else) is ignored. */
export const VectorsCaseSchema = z.object({
  name: z.string().optional(),
  level: z.enum(['corpus', 'sentence']),
  metrics: z.array(z.enum(METRIC_IDS)).min(1),
  hypotheses: z.array(z.string()),
  references: z.array(z.array(z.string())).min(1),
  options: SacrebleuOptionsSchema.default({}),
});

export type VectorsCase = z.infer<typeof VectorsCaseSchema>;
export type VectorsOutput = Partial<Record<MetricId, MetricResult | MetricResult[]>>;

/** Drop undefined fields so that `{...defaults, ...opts}` keeps the defaults for them. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * sacreBLEU-named options → the library's options for `metric`; what is left out keeps the
 * library's default (sacreBLEU's). Sentence level turns BLEU's effective order on unless it is
 * given, as sacreBLEU's sentence_bleu and `sacrebleu -sl` do.
 */
export function metricOptionsFor<M extends MetricId>(metric: M, o: SacrebleuOptions, level: 'corpus' | 'sentence'): Partial<MetricOptions[M]>;
export function metricOptionsFor(metric: MetricId, o: SacrebleuOptions, level: 'corpus' | 'sentence'): Partial<MetricOptions[MetricId]> {
  switch (metric) {
    case 'bleu': {
      const b = o.bleu ?? {};
      return defined({
        tokenize: b.tokenize,
        lowercase: b.lowercase,
        smoothMethod: b.smooth_method,
        smoothValue: b.smooth_value,
        // sacreBLEU's sentence_bleu turns effective order on.
        effectiveOrder: b.effective_order ?? (level === 'sentence' ? true : undefined),
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
    const opts = metricOptionsFor(metric, c.options, c.level);
    out[metric] = c.level === 'sentence' ? sentenceScores(metric, c.hypotheses, c.references, opts) : score(metric, c.hypotheses, c.references, opts);
  }
  return out;
}
