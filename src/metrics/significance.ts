/**
 * Confidence intervals and paired significance tests, as sacreBLEU's `--confidence`,
 * `--paired-bs` and `--paired-ar` do them, on precomputed per-segment statistics: a resample is
 * only a sum of statistics rows, so 1000 resamples of 10,000 segments take well under a second.
 *
 * One deliberate difference from sacreBLEU: a resampled difference *equal* to the observed one
 * counts as "at least as extreme" (>=, the textbook p-value; sacreBLEU counts only >). With `>`,
 * a system compared with itself gets p = 1/(n+1), i.e. "significant"; with `>=` it gets p = 1.
 * Random draws come from our seeded generator, not numpy's, so intervals and p-values match
 * sacreBLEU's in distribution, not digit for digit.
 */
import { Xoshiro128 } from '../util/random.ts';
import { sumRows, type Scorer } from './types.ts';

export interface Interval {
  /** Mean of the resampled scores. */
  mean: number;
  /** Half-width of the 95% interval (2.5th to 97.5th percentile of the resampled scores). */
  ci: number;
}

/** sacreBLEU's `estimate_ci`: the middle 95% of the sorted scores, and their mean. */
export function estimateInterval(scores: Float64Array): Interval {
  const sorted = Float64Array.from(scores).sort();
  const n = sorted.length;
  const lower = Math.floor(n / 40);
  const upper = n - lower - 1;
  let sum = 0;
  for (const s of sorted) sum += s;
  return { mean: sum / n, ci: 0.5 * (sorted[upper]! - sorted[lower]!) };
}

/** Scores of `samples` bootstrap resamples (segments drawn with replacement), one system or several in lockstep. */
function bootstrapScores(scorer: Scorer, systems: Float64Array[], samples: number, seed: number): Float64Array[] {
  const size = scorer.statsSize;
  const n = systems[0]!.length / size;
  const rng = new Xoshiro128(seed);
  const rows = new Int32Array(n);
  const out = systems.map(() => new Float64Array(samples));
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < n; i++) rows[i] = rng.int(n);
    systems.forEach((stats, k) => {
      out[k]![s] = scorer.score(sumRows(stats, size, rows));
    });
  }
  return out;
}

/** Bootstrap 95% confidence interval of one system's score. */
export function bootstrapInterval(scorer: Scorer, stats: Float64Array, samples: number, seed: number): Interval {
  return estimateInterval(bootstrapScores(scorer, [stats], samples, seed)[0]!);
}

export interface PairedOutcome {
  /** The system's interval from the same resamples (paired bootstrap only). */
  interval?: Interval;
  /** Probability of a difference at least this large if the systems were equally good. */
  pValue: number;
}

/** (count of resampled statistics ≥ the observed one, plus one) / (trials + 1). */
function pValue(resampled: Float64Array, observed: number): number {
  let count = 0;
  for (const x of resampled) if (x >= observed) count++;
  return (count + 1) / (resampled.length + 1);
}

/**
 * Paired bootstrap resampling (Koehn, 2004; as Moses' bootstrap-hypothesis-difference-significance.pl
 * and sacreBLEU): resample segments, score both systems on the same resample, and compare the
 * observed difference with the resampled differences centred on their mean.
 */
export function pairedBootstrap(scorer: Scorer, baseline: Float64Array, system: Float64Array, samples: number, seed: number): PairedOutcome {
  const size = scorer.statsSize;
  const observed = Math.abs(scorer.score(sumRows(system, size)) - scorer.score(sumRows(baseline, size)));
  const [base, sys] = bootstrapScores(scorer, [baseline, system], samples, seed) as [Float64Array, Float64Array];
  const diffs = sys.map((s, i) => Math.abs(s - base[i]!));
  let mean = 0;
  for (const d of diffs) mean += d;
  mean /= samples;
  return { interval: estimateInterval(sys), pValue: pValue(diffs.map((d) => d - mean), observed) };
}

/**
 * Paired approximate randomization (Riezler & Maxwell, 2005; as multeval and sacreBLEU): in each
 * trial, swap the two systems' outputs for a random half of the segments and score the two
 * shuffled systems; the p-value is how often their difference reaches the observed one.
 */
export function pairedRandomization(scorer: Scorer, baseline: Float64Array, system: Float64Array, trials: number, seed: number): PairedOutcome {
  const size = scorer.statsSize;
  const baseSums = sumRows(baseline, size);
  const sysSums = sumRows(system, size);
  const observed = Math.abs(scorer.score(sysSums) - scorer.score(baseSums));
  // A swap moves (system − baseline) of that segment from one pseudo-system to the other;
  // segments where both systems have the same statistics cannot change anything.
  const deltas: number[] = [];
  for (let i = 0; i < baseline.length; i += size) {
    let same = true;
    for (let k = 0; k < size; k++) if (system[i + k] !== baseline[i + k]) same = false;
    if (!same) for (let k = 0; k < size; k++) deltas.push(system[i + k]! - baseline[i + k]!);
  }
  const delta = Float64Array.from(deltas);
  const segments = delta.length / size;
  const rng = new Xoshiro128(seed);
  const a = new Float64Array(size);
  const b = new Float64Array(size);
  const resampled = new Float64Array(trials);
  for (let t = 0; t < trials; t++) {
    a.set(baseSums);
    b.set(sysSums);
    let bits = 0;
    for (let i = 0; i < segments; i++) {
      if (i % 32 === 0) bits = rng.uint32();
      if ((bits >>> i % 32) & 1) {
        for (let k = 0; k < size; k++) {
          const d = delta[i * size + k]!;
          a[k] += d;
          b[k] -= d;
        }
      }
    }
    resampled[t] = Math.abs(scorer.score(a) - scorer.score(b));
  }
  return { pValue: pValue(resampled, observed) };
}
