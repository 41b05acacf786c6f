/**
 * What every metric shares. A metric is computed in two steps, as in sacreBLEU: per-segment
 * sufficient statistics (n-gram counts, edits, lengths), then a score from their column sums.
 * Corpus scores, sentence scores, bootstrap resampling, paired tests and length buckets are all
 * sums over some subset of the rows, so the text is tokenized and matched only once.
 */
import type { Resampling, Signed } from './signature.ts';

export const METRIC_IDS = ['bleu', 'chrf', 'chrf++', 'ter'] as const;
export type MetricId = (typeof METRIC_IDS)[number];

export interface MetricResult extends Signed {
  /** sacreBLEU's score name: BLEU, chrF2, chrF2++, TER. */
  name: string;
  /** 0–100 scale (TER may exceed 100). */
  score: number;
}

/**
 * A metric bound to its references: reference-side work (tokenization, n-gram counts) is done
 * once when the scorer is made and reused for every hypothesis set scored with it.
 */
export interface Scorer<R extends MetricResult = MetricResult> {
  readonly metric: MetricId;
  /** Number of statistics per segment. */
  readonly statsSize: number;
  /** Segments (lines) the references have. */
  readonly segments: number;
  /** Statistics for each hypothesis, row-major: segment i is `[i * statsSize, (i + 1) * statsSize)`. */
  segmentStats(hyps: readonly string[]): Float64Array;
  /** The score alone from summed statistics (the fast path for resampling). */
  score(sums: ArrayLike<number>): number;
  /** The full result from summed statistics, signed (with resampling settings when given). */
  result(sums: ArrayLike<number>, resampling?: Resampling): R;
}

/** Column sums of the statistics rows `rows` (all rows when omitted), in row order as sacreBLEU adds them. */
export function sumRows(stats: Float64Array, size: number, rows?: ArrayLike<number>): Float64Array {
  const sums = new Float64Array(size);
  const n = rows ? rows.length : stats.length / size;
  for (let r = 0; r < n; r++) {
    const base = (rows ? rows[r] : r) * size;
    for (let k = 0; k < size; k++) sums[k] += stats[base + k];
  }
  return sums;
}

/** One row of a statistics matrix. */
export function statsRow(stats: Float64Array, size: number, row: number): Float64Array {
  return stats.subarray(row * size, (row + 1) * size);
}
