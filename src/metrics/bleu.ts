/**
 * BLEU (Papineni et al., 2002) as sacreBLEU 2.6.0 computes it: clipped n-gram precisions for
 * n = 1..4 against the maximum count over all references, their geometric mean, times a brevity
 * penalty from the closest reference length (ties: the shorter one).
 *
 * Per-segment statistics: [hyp_len, ref_len, correct_1..4, total_1..4].
 */
import { formatSignature, type Resampling } from './signature.ts';
import { bleuTokenizer, type BleuTokenizerName } from './tokenizers.ts';
import { pyLower, pyRstrip, pySplit } from './text.ts';
import type { MetricResult, Scorer } from './types.ts';

export const BLEU_SMOOTH_METHODS = ['exp', 'floor', 'add-k', 'none'] as const;
export type BleuSmoothMethod = (typeof BLEU_SMOOTH_METHODS)[number];

export interface BleuOptions {
  tokenize: BleuTokenizerName;
  lowercase: boolean;
  smoothMethod: BleuSmoothMethod;
  /** For `floor` and `add-k`; null means sacreBLEU's default (0.1 and 1). */
  smoothValue: number | null;
  /** Leave out n-gram orders with no hypothesis n-grams (for sentence-level BLEU). */
  effectiveOrder: boolean;
}

export const BLEU_DEFAULTS: BleuOptions = {
  tokenize: '13a',
  lowercase: false,
  smoothMethod: 'exp',
  smoothValue: null,
  effectiveOrder: false,
};

export interface BleuResult extends MetricResult {
  name: 'BLEU';
  /** Smoothed precisions, 0–100; an order that was not used shows 0. */
  precisions: number[];
  /** Brevity penalty, 0–1. */
  bp: number;
  sys_len: number;
  ref_len: number;
  /** Matched n-grams per order (unsmoothed). */
  counts: number[];
  /** Hypothesis n-grams per order (unsmoothed). */
  totals: number[];
}

const MAX_ORDER = 4;
const STATS_SIZE = 2 + 2 * MAX_ORDER;
const SMOOTH_DEFAULTS: Record<BleuSmoothMethod, number | null> = { exp: null, floor: 0.1, 'add-k': 1, none: null };
/** sacreBLEU's log of zero. */
const LOG_ZERO = -9999999999;

interface ReferenceInfo {
  /** Maximum count of each n-gram (all orders; tokens joined by spaces) over the references. */
  maxCounts: Map<string, number>;
  lengths: number[];
}

/** Counts of the n-grams of each order 1..MAX_ORDER; index n-1 holds order n. */
function ngramCounts(tokens: string[]): Map<string, number>[] {
  const byOrder = Array.from({ length: MAX_ORDER }, () => new Map<string, number>());
  for (let i = 0; i < tokens.length; i++) {
    let key = tokens[i]!;
    for (let n = 1; n <= MAX_ORDER && i + n <= tokens.length; n++) {
      if (n > 1) key += ' ' + tokens[i + n - 1];
      const counts = byOrder[n - 1]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return byOrder;
}

function closestRefLength(hypLen: number, refLens: number[]): number {
  let best = -1;
  let bestDiff = -1;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    if (bestDiff === -1 || diff < bestDiff || (diff === bestDiff && len < best)) {
      bestDiff = diff;
      best = len;
    }
  }
  return best;
}

export class BleuScorer implements Scorer<BleuResult> {
  readonly metric = 'bleu';
  readonly statsSize = STATS_SIZE;
  readonly segments: number;
  private readonly opts: BleuOptions;
  private readonly nrefs: number;
  private readonly refs: ReferenceInfo[];

  /** `refs[k][i]`: reference stream k for segment i. */
  constructor(refs: readonly (readonly string[])[], opts: Partial<BleuOptions> = {}) {
    this.opts = { ...BLEU_DEFAULTS, ...opts };
    this.nrefs = refs.length;
    this.segments = refs[0]?.length ?? 0;
    this.refs = [];
    for (let i = 0; i < this.segments; i++) {
      const maxCounts = new Map<string, number>();
      const lengths: number[] = [];
      for (const stream of refs) {
        const tokens = this.tokens(stream[i]!);
        lengths.push(tokens.length);
        for (const counts of ngramCounts(tokens)) {
          for (const [key, c] of counts) {
            if (c > (maxCounts.get(key) ?? 0)) maxCounts.set(key, c);
          }
        }
      }
      this.refs.push({ maxCounts, lengths });
    }
  }

  private tokens(line: string): string[] {
    const text = this.opts.lowercase ? pyLower(line) : line;
    return pySplit(bleuTokenizer(this.opts.tokenize)(pyRstrip(text)));
  }

  segmentStats(hyps: readonly string[]): Float64Array {
    const stats = new Float64Array(hyps.length * STATS_SIZE);
    hyps.forEach((hyp, i) => {
      const tokens = this.tokens(hyp);
      const ref = this.refs[i]!;
      const row = i * STATS_SIZE;
      stats[row] = tokens.length;
      stats[row + 1] = closestRefLength(tokens.length, ref.lengths);
      ngramCounts(tokens).forEach((counts, order) => {
        let correct = 0;
        let total = 0;
        for (const [key, c] of counts) {
          total += c;
          correct += Math.min(c, ref.maxCounts.get(key) ?? 0);
        }
        stats[row + 2 + order] = correct;
        stats[row + 2 + MAX_ORDER + order] = total;
      });
    });
    return stats;
  }

  score(sums: ArrayLike<number>): number {
    return this.compute(sums).score;
  }

  result(sums: ArrayLike<number>, resampling?: Resampling): BleuResult {
    const { score, precisions, bp } = this.compute(sums);
    const { lowercase, effectiveOrder, tokenize, smoothMethod, smoothValue } = this.opts;
    const smoothDefault = SMOOTH_DEFAULTS[smoothMethod];
    const smooth = smoothDefault === null ? smoothMethod : `${smoothMethod}[${(smoothValue ?? smoothDefault).toFixed(2)}]`;
    return {
      name: 'BLEU',
      score,
      precisions,
      bp,
      sys_len: sums[0]!,
      ref_len: sums[1]!,
      counts: Array.from({ length: MAX_ORDER }, (_, n) => sums[2 + n]!),
      totals: Array.from({ length: MAX_ORDER }, (_, n) => sums[2 + MAX_ORDER + n]!),
      ...formatSignature(
        this.nrefs,
        [
          { key: 'case', short: 'c', value: lowercase ? 'lc' : 'mixed' },
          { key: 'eff', short: 'e', value: effectiveOrder },
          { key: 'tok', short: 'tok', value: tokenize },
          { key: 'smooth', short: 's', value: smooth },
        ],
        resampling,
      ),
    };
  }

  /** sacreBLEU's `BLEU.compute_bleu`, step for step (the order of float operations included). */
  private compute(sums: ArrayLike<number>): { score: number; precisions: number[]; bp: number } {
    const { smoothMethod, effectiveOrder } = this.opts;
    const smoothValue = this.opts.smoothValue ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0;
    const sysLen = sums[0]!;
    const refLen = sums[1]!;
    const correct = Array.from({ length: MAX_ORDER }, (_, n) => sums[2 + n]!);
    const total = Array.from({ length: MAX_ORDER }, (_, n) => sums[2 + MAX_ORDER + n]!);

    const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
    const precisions = new Array<number>(MAX_ORDER).fill(0);
    if (correct.every((c) => c === 0)) return { score: 0, precisions, bp };

    let smoothMteval = 1;
    let effOrder = MAX_ORDER;
    for (let n = 1; n <= MAX_ORDER; n++) {
      if (smoothMethod === 'add-k' && n > 1) {
        correct[n - 1]! += smoothValue;
        total[n - 1]! += smoothValue;
      }
      if (total[n - 1] === 0) break;
      if (effectiveOrder) effOrder = n;
      if (correct[n - 1] === 0) {
        if (smoothMethod === 'exp') {
          smoothMteval *= 2;
          precisions[n - 1] = 100 / (smoothMteval * total[n - 1]!);
        } else if (smoothMethod === 'floor') {
          precisions[n - 1] = (100 * smoothValue) / total[n - 1]!;
        }
      } else {
        precisions[n - 1] = (100 * correct[n - 1]!) / total[n - 1]!;
      }
    }
    let logSum = 0;
    for (const p of precisions.slice(0, effOrder)) logSum += p === 0 ? LOG_ZERO : Math.log(p);
    return { score: bp * Math.exp(logSum / effOrder), precisions, bp };
  }
}
