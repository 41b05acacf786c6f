/**
 * The metrics API: BLEU, chrF, chrF++ and TER with sacreBLEU 2.6.0's results and signatures.
 *
 * References come as streams: `refs[k][i]` is reference k for hypothesis i (as in sacreBLEU).
 * Options are partial; what is left out takes sacreBLEU's default.
 */
import { BleuScorer, type BleuOptions, type BleuResult } from './bleu.ts';
import { ChrfScorer, type ChrfOptions, type ChrfResult } from './chrf.ts';
import { TerScorer, type TerOptions, type TerResult } from './ter.ts';
import { statsRow, sumRows, type MetricId, type Scorer } from './types.ts';

export { BLEU_DEFAULTS, BLEU_SMOOTH_METHODS, BleuScorer, type BleuOptions, type BleuResult } from './bleu.ts';
export { CHRF_DEFAULTS, ChrfScorer, type ChrfOptions, type ChrfResult } from './chrf.ts';
export { TER_DEFAULTS, TerScorer, type TerOptions, type TerResult } from './ter.ts';
export { BLEU_TOKENIZERS, type BleuTokenizerName } from './tokenizers.ts';
export { SACREBLEU_VERSION, type Resampling } from './signature.ts';
export { METRIC_IDS, sumRows, type MetricId, type MetricResult, type Scorer } from './types.ts';
export { perplexityFromNll } from './perplexity.ts';

export interface MetricOptions {
  bleu: BleuOptions;
  chrf: ChrfOptions;
  'chrf++': ChrfOptions;
  ter: TerOptions;
}

export interface MetricResults {
  bleu: BleuResult;
  chrf: ChrfResult;
  'chrf++': ChrfResult;
  ter: TerResult;
}

const SCORERS: { [M in MetricId]: (refs: readonly (readonly string[])[], opts: Partial<MetricOptions[M]>) => Scorer<MetricResults[M]> } = {
  bleu: (refs, opts) => new BleuScorer(refs, opts),
  chrf: (refs, opts) => new ChrfScorer(refs, { wordOrder: 0, ...opts }),
  'chrf++': (refs, opts) => new ChrfScorer(refs, { wordOrder: 2, ...opts }),
  ter: (refs, opts) => new TerScorer(refs, opts),
};

/** A scorer for `metric` bound to the references, for scoring one or more systems and resampling. */
export function createScorer<M extends MetricId>(
  metric: M,
  refs: readonly (readonly string[])[],
  opts: Partial<MetricOptions[M]> = {},
): Scorer<MetricResults[M]> {
  if (refs.length === 0) throw new Error('at least one reference stream is needed');
  for (const [k, stream] of refs.entries()) {
    if (stream.length !== refs[0]!.length) {
      throw new Error(`reference stream ${k + 1} has ${stream.length} segments, stream 1 has ${refs[0]!.length}`);
    }
  }
  return SCORERS[metric](refs, opts);
}

/** The corpus-level score of `hyps` (sacreBLEU's `corpus_score`). */
export function score<M extends MetricId>(
  metric: M,
  hyps: readonly string[],
  refs: readonly (readonly string[])[],
  opts: Partial<MetricOptions[M]> = {},
): MetricResults[M] {
  const scorer = createScorer(metric, refs, opts);
  if (hyps.length !== scorer.segments) {
    throw new Error(`${hyps.length} hypotheses but ${scorer.segments} references per stream`);
  }
  return scorer.result(sumRows(scorer.segmentStats(hyps), scorer.statsSize));
}

/** One score per hypothesis (sacreBLEU's `sentence_score` for each). */
export function sentenceScores<M extends MetricId>(
  metric: M,
  hyps: readonly string[],
  refs: readonly (readonly string[])[],
  opts: Partial<MetricOptions[M]> = {},
): MetricResults[M][] {
  const scorer = createScorer(metric, refs, opts);
  if (hyps.length !== scorer.segments) {
    throw new Error(`${hyps.length} hypotheses but ${scorer.segments} references per stream`);
  }
  const stats = scorer.segmentStats(hyps);
  return hyps.map((_, i) => scorer.result(statsRow(stats, scorer.statsSize, i)));
}

export function corpusBleu(hyps: readonly string[], refs: readonly (readonly string[])[], opts: Partial<BleuOptions> = {}): BleuResult {
  return score('bleu', hyps, refs, opts);
}

/** Sentence BLEU of one hypothesis against its references; effective order is on by default, as in sacreBLEU. */
export function sentenceBleu(hyp: string, refs: readonly string[], opts: Partial<BleuOptions> = {}): BleuResult {
  return sentenceScores('bleu', [hyp], refs.map((r) => [r]), { effectiveOrder: true, ...opts })[0]!;
}

/** chrF; pass `{ wordOrder: 2 }` for chrF++. */
export function corpusChrf(hyps: readonly string[], refs: readonly (readonly string[])[], opts: Partial<ChrfOptions> = {}): ChrfResult {
  return score('chrf', hyps, refs, opts);
}

export function sentenceChrf(hyp: string, refs: readonly string[], opts: Partial<ChrfOptions> = {}): ChrfResult {
  return sentenceScores('chrf', [hyp], refs.map((r) => [r]), opts)[0]!;
}

export function corpusTer(hyps: readonly string[], refs: readonly (readonly string[])[], opts: Partial<TerOptions> = {}): TerResult {
  return score('ter', hyps, refs, opts);
}

export function sentenceTer(hyp: string, refs: readonly string[], opts: Partial<TerOptions> = {}): TerResult {
  return sentenceScores('ter', [hyp], refs.map((r) => [r]), opts)[0]!;
}
