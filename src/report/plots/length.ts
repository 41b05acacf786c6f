/**
 * Score by source-length bucket, one line per run: the figure of Bahdanau et al. (2015, Fig. 2)
 * where a fixed-context encoder–decoder falls off on long sentences and attention does not.
 */
import * as fs from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../../errors.ts';

/** Where a run's scores by length are read from, relative to the run directory (metrics/run.ts writes them). */
export { DEFAULT_LENGTH_SCORES } from '../../metrics/run.ts';

export interface BucketScore {
  /** e.g. "1-10", "51+" */
  bucket: string;
  score: number;
}

export interface LengthSeries {
  name: string;
  buckets: BucketScore[];
}

/**
 * Reads one run's scores by length: a JSON array of {bucket, score}, or an object holding such
 * an array under `buckets` or `by_length`.
 */
export function readBucketScores(file: string): BucketScore[] {
  if (!fs.existsSync(file)) throw new UserError(`${file}: no such file`);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new UserError(`${file}: not valid JSON`);
  }
  const o = value as Record<string, unknown> | null;
  const list: unknown = Array.isArray(value) ? value : (o?.buckets ?? o?.by_length);
  if (!Array.isArray(list) || list.length === 0) {
    throw new UserError(`${file}: expected a non-empty array of {bucket, score} (or one under "buckets" or "by_length")`);
  }
  return list.map((item: unknown, i) => {
    const b = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (typeof b.bucket !== 'string' || typeof b.score !== 'number' || !Number.isFinite(b.score)) {
      throw new UserError(`${file}: entry ${i} must be {"bucket": string, "score": number}`);
    }
    return { bucket: b.bucket, score: b.score };
  });
}

export function lengthSpec(series: LengthSeries[], metric = 'BLEU', title = `${metric} by source length`): TopLevelSpec {
  if (series.length === 0) throw new UserError('no runs to plot');
  // Buckets in the order the runs list them (they are ranges, not alphabetical).
  const order = [...new Set(series.flatMap((s) => s.buckets.map((b) => b.bucket)))];
  return {
    title: { text: title, anchor: 'start' },
    width: Math.max(300, 60 * order.length),
    height: 240,
    data: { values: series.flatMap((s) => s.buckets.map((b) => ({ run: s.name, bucket: b.bucket, score: b.score }))) },
    mark: { type: 'line', point: { size: 50 } },
    encoding: {
      x: { field: 'bucket', type: 'ordinal', sort: order, title: 'source length (words)', axis: { labelAngle: 0 } },
      y: { field: 'score', type: 'quantitative', title: metric, scale: { zero: true } },
      color: { field: 'run', type: 'nominal', title: 'run' },
    },
  };
}
