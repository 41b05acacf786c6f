/**
 * The evaluation stage behind `mt eval`: score one or more systems against the same references
 * with several metrics, with bootstrap confidence intervals, paired significance tests against
 * the first system (the baseline), and scores by sentence-length bucket.
 *
 * Each metric's per-segment statistics are computed once per system; intervals, tests and
 * buckets are all sums over subsets of those rows.
 */
import { UserError } from '../errors.ts';
import { MT_VERSION } from '../version.ts';
import { createScorer } from './index.ts';
import { bootstrapInterval, pairedBootstrap, pairedRandomization, type Interval } from './significance.ts';
import type { Resampling } from './signature.ts';
import { pySplit } from './text.ts';
import type { BleuTokenizerName } from './tokenizers.ts';
import { statsRow, sumRows, type MetricId, type MetricResult, type Scorer } from './types.ts';
import { metricOptionsFor, type SacrebleuOptions } from './vectors.ts';
import { hypothesisWarnings } from './warnings.ts';

export interface EvalOptions {
  metrics: MetricId[];
  /** BLEU's tokenizer. */
  tokenize: BleuTokenizerName;
  /** Case-insensitive BLEU, as sacreBLEU's `-lc` (chrF has its own option, TER is case-insensitive by default). */
  lowercase: boolean;
  /**
   * Metric options by sacreBLEU's names (smooth_method, char_order, no_punct, …), from `mt eval`'s
   * sacreBLEU flags; they override `tokenize` and `lowercase`. Left out: sacreBLEU's defaults.
   */
  sacrebleu?: SacrebleuOptions;
  /** Bootstrap 95% confidence intervals for every system. */
  confidence: boolean;
  /** Paired test of every other system against the first: bootstrap ('bs') or approximate randomization ('ar'). */
  paired: 'bs' | 'ar' | null;
  bootstrapSamples: number;
  randomizationTrials: number;
  seed: number;
  /** Inclusive upper bounds, in words, of the length buckets; one more bucket takes longer segments. */
  lengthBuckets: number[];
}

export const DEFAULT_RANDOMIZATION_TRIALS = 10000;

export interface NamedLines {
  /** A file path, or another name to show. */
  name: string;
  lines: readonly string[];
}

export interface EvalInputs {
  systems: NamedLines[];
  references: NamedLines[];
  /** Sources, for bucketing by source length; without them the first reference's length is used. */
  source?: NamedLines;
}

/** A metric's result for one system, with its interval and p-value when they were asked for. */
export type ScoreEntry = MetricResult & Partial<Interval> & { p_value?: number };

export interface BucketScores {
  label: string;
  min: number;
  /** null: no upper bound. */
  max: number | null;
  segments: number;
  /** Corpus-level score of the segments in the bucket (absent when it has none). */
  scores: Partial<Record<MetricId, number>>;
}

export interface SystemReport {
  name: string;
  scores: Partial<Record<MetricId, ScoreEntry>>;
  length_buckets: BucketScores[];
}

export interface EvalReport {
  format: 'mt-scores';
  format_version: 1;
  mt_version: string;
  segments: number;
  references: string[];
  source: string | null;
  metrics: MetricId[];
  systems: SystemReport[];
  confidence: { samples: number; seed: number } | null;
  significance: { test: 'bs' | 'ar'; samples: number; seed: number; baseline: string } | null;
  length_basis: 'source' | 'reference';
  warnings: string[];
}

function scorerFor(metric: MetricId, refs: string[][], opts: EvalOptions, level: 'corpus' | 'sentence'): Scorer {
  const given = metricOptionsFor(metric, opts.sacrebleu ?? {}, level);
  return createScorer(metric, refs, metric === 'bleu' ? { tokenize: opts.tokenize, lowercase: opts.lowercase, ...given } : given);
}

/** The checks every evaluation starts with: something to score, line-aligned files. */
function checkInputs(inputs: EvalInputs): void {
  const { systems, references, source } = inputs;
  if (systems.length === 0) throw new UserError('no hypotheses to score: give a hypothesis file with -i FILE');
  if (references.length === 0) throw new UserError('no references: give at least one reference file with -r FILE');
  const first = references[0]!;
  for (const f of [...references.slice(1), ...systems, ...(source ? [source] : [])]) {
    if (f.lines.length !== first.lines.length) {
      throw new UserError(`${f.name} has ${f.lines.length} lines but ${first.name} has ${first.lines.length}; the files must be line-aligned`);
    }
  }
  if (first.lines.length === 0) throw new UserError(`${systems[0]!.name}: empty file, nothing to score`);
}

interface Bucket {
  label: string;
  min: number;
  max: number | null;
  rows: number[];
}

function lengthBuckets(lengths: number[], bounds: number[]): Bucket[] {
  const sorted = [...new Set(bounds)].sort((a, b) => a - b);
  const buckets: Bucket[] = sorted.map((max, k) => {
    const min = k === 0 ? 0 : sorted[k - 1]! + 1;
    return { label: k === 0 ? `≤${max}` : `${min}-${max}`, min, max, rows: [] };
  });
  const last = sorted[sorted.length - 1];
  buckets.push({ label: last === undefined ? 'all' : `>${last}`, min: last === undefined ? 0 : last + 1, max: null, rows: [] });
  lengths.forEach((len, row) => buckets.find((b) => b.max === null || len <= b.max)!.rows.push(row));
  return buckets;
}

/** Score the systems; `onStep(done, total)` is called as each (metric, system) is finished. */
export function evaluate(inputs: EvalInputs, opts: EvalOptions, onStep: (done: number, total: number) => void = () => {}): EvalReport {
  const { systems, references, source } = inputs;
  checkInputs(inputs);
  if (opts.paired && systems.length < 2) {
    throw new UserError(`--paired-${opts.paired} compares systems with the first: give two or more hypothesis files (-i BASELINE -i SYSTEM …)`);
  }
  const first = references[0]!;

  const refs = references.map((r) => [...r.lines]);
  const lengths = (source ?? first).lines.map((l) => pySplit(l).length);
  const buckets = lengthBuckets(lengths, opts.lengthBuckets);
  const { seed, bootstrapSamples: samples, randomizationTrials: trials } = opts;
  const resampling: Resampling = {};
  if (opts.confidence || opts.paired === 'bs') resampling.bootstrap = samples;
  if (opts.paired === 'ar') resampling.trials = trials;
  if (resampling.bootstrap !== undefined || resampling.trials !== undefined) resampling.seed = seed;

  const reports: SystemReport[] = systems.map((s) => ({
    name: s.name,
    scores: {},
    length_buckets: buckets.map((b) => ({ label: b.label, min: b.min, max: b.max, segments: b.rows.length, scores: {} })),
  }));
  const total = opts.metrics.length * systems.length;
  let done = 0;
  for (const metric of opts.metrics) {
    const scorer = scorerFor(metric, refs, opts, 'corpus');
    const stats = systems.map((s) => {
      const st = scorer.segmentStats(s.lines);
      onStep(++done, total);
      return st;
    });
    stats.forEach((st, k) => {
      const entry: ScoreEntry = scorer.result(sumRows(st, scorer.statsSize), resampling);
      // The baseline's interval uses the same resamples as the paired bootstrap of every system.
      if (resampling.bootstrap !== undefined && (k === 0 || opts.paired !== 'bs')) {
        Object.assign(entry, bootstrapInterval(scorer, st, samples, seed));
      }
      if (k > 0 && opts.paired === 'bs') {
        const outcome = pairedBootstrap(scorer, stats[0]!, st, samples, seed);
        Object.assign(entry, outcome.interval, { p_value: outcome.pValue });
      }
      if (k > 0 && opts.paired === 'ar') entry.p_value = pairedRandomization(scorer, stats[0]!, st, trials, seed).pValue;
      reports[k]!.scores[metric] = entry;
      buckets.forEach((b, j) => {
        if (b.rows.length > 0) reports[k]!.length_buckets[j]!.scores[metric] = scorer.score(sumRows(st, scorer.statsSize, b.rows));
      });
    });
  }

  return {
    format: 'mt-scores',
    format_version: 1,
    mt_version: MT_VERSION,
    segments: first.lines.length,
    references: references.map((r) => r.name),
    source: source?.name ?? null,
    metrics: opts.metrics,
    systems: reports,
    confidence: resampling.bootstrap !== undefined ? { samples, seed } : null,
    significance: opts.paired ? { test: opts.paired, samples: opts.paired === 'bs' ? samples : trials, seed, baseline: systems[0]!.name } : null,
    length_basis: source ? 'source' : 'reference',
    warnings: systems.flatMap((s) => hypothesisWarnings(s.name, s.lines, refs)),
  };
}

/** One segment's scores (`-sl`), as sacreBLEU's sentence_score gives them. */
export interface SegmentScores {
  /** 1-based line number. */
  segment: number;
  scores: Partial<Record<MetricId, MetricResult>>;
}

export interface SentenceReport {
  metrics: MetricId[];
  segments: SegmentScores[];
  warnings: string[];
}

/**
 * Sentence-level scores of one system (sacreBLEU's `-sl`): every segment scored on its own, BLEU
 * with effective order. Resampling, paired tests and length buckets do not apply.
 */
export function evaluateSentences(inputs: EvalInputs, opts: EvalOptions): SentenceReport {
  checkInputs(inputs);
  if (inputs.systems.length > 1) throw new UserError(`-sl/--sentence-level scores one system; got ${inputs.systems.length} hypothesis files`);
  const system = inputs.systems[0]!;
  const refs = inputs.references.map((r) => [...r.lines]);
  const segments: SegmentScores[] = system.lines.map((_, i) => ({ segment: i + 1, scores: {} }));
  for (const metric of opts.metrics) {
    const scorer = scorerFor(metric, refs, opts, 'sentence');
    const stats = scorer.segmentStats(system.lines);
    segments.forEach((s, i) => (s.scores[metric] = scorer.result(statsRow(stats, scorer.statsSize, i))));
  }
  return { metrics: opts.metrics, segments, warnings: hypothesisWarnings(system.name, system.lines, refs) };
}
