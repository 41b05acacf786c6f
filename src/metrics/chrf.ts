/**
 * chrF (Popović, 2015) and chrF++ (Popović, 2017) as sacreBLEU 2.6.0 computes them: an F-score
 * (recall weighted `beta` times as much as precision) over character n-grams of orders
 * 1..char_order, plus word n-grams of orders 1..word_order for chrF++. With several references
 * each segment keeps the statistics of the reference with the best segment F-score.
 *
 * Per-segment statistics: [hyp, ref, match] n-gram counts for each character order, then each word order.
 */
import { formatSignature, type Resampling } from './signature.ts';
import { pyLower, pySplit } from './text.ts';
import type { MetricResult, Scorer } from './types.ts';

export interface ChrfOptions {
  charOrder: number;
  /** 0 for chrF, 2 for chrF++. */
  wordOrder: number;
  beta: number;
  lowercase: boolean;
  /** Keep whitespace inside character n-grams. */
  whitespace: boolean;
  /** chrF++.py's epsilon-smoothed average of per-order F-scores instead of sacreBLEU's effective order. */
  epsSmoothing: boolean;
}

export const CHRF_DEFAULTS: ChrfOptions = {
  charOrder: 6,
  wordOrder: 0,
  beta: 2,
  lowercase: false,
  whitespace: false,
  epsSmoothing: false,
};

export type ChrfResult = MetricResult;

/** Python's `string.punctuation`, which chrF++ splits off the ends of words. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const EPS = 1e-16;

/** chrF++'s word split: whitespace, then one punctuation mark off the end (or else the start) of each word. */
function splitPunctuation(line: string): string[] {
  const words: string[] = [];
  for (const w of pySplit(line)) {
    if (w.length === 1) words.push(w);
    else if (PUNCTUATION.has(w[w.length - 1]!)) words.push(w.slice(0, -1), w[w.length - 1]!);
    else if (PUNCTUATION.has(w[0]!)) words.push(w[0]!, w.slice(1));
    else words.push(w);
  }
  return words;
}

/** The code points of `text` (Python's string units). */
function codePointsOf(text: string): Int32Array {
  const out = new Int32Array(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i)!;
    out[n++] = cp;
    if (cp > 0xffff) i++;
  }
  return n === text.length ? out : out.slice(0, n);
}

/**
 * Sequential ids for pairs of non-negative int32 (an open-addressing hash table): exact keys and
 * no allocation per lookup, unlike a Map keyed by strings or by numbers beyond 2^30.
 */
class PairIds {
  private first = new Int32Array(1024);
  private second = new Int32Array(1024);
  private ids = new Int32Array(1024).fill(-1);
  size = 0;

  /** The pair's id; a new one when `add` and the pair is new, else -1 for a new pair. */
  id(a: number, b: number, add: boolean): number {
    const mask = this.ids.length - 1;
    let slot = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77)) & mask;
    for (;;) {
      const id = this.ids[slot]!;
      if (id < 0) break;
      if (this.first[slot] === a && this.second[slot] === b) return id;
      slot = (slot + 1) & mask;
    }
    if (!add) return -1;
    this.first[slot] = a;
    this.second[slot] = b;
    this.ids[slot] = this.size++;
    if (2 * this.size > this.ids.length) this.grow();
    return this.size - 1;
  }

  private grow(): void {
    const { first, second, ids } = this;
    this.first = new Int32Array(ids.length * 2);
    this.second = new Int32Array(ids.length * 2);
    this.ids = new Int32Array(ids.length * 2).fill(-1);
    const mask = this.ids.length - 1;
    ids.forEach((id, old) => {
      if (id < 0) return;
      let slot = (Math.imul(first[old]!, 0x9e3779b1) ^ Math.imul(second[old]!, 0x85ebca77)) & mask;
      while (this.ids[slot]! >= 0) slot = (slot + 1) & mask;
      this.first[slot] = first[old]!;
      this.second[slot] = second[old]!;
      this.ids[slot] = id;
    });
  }
}

/**
 * Integer ids for the n-grams of a sequence of units (code points or word ids), built order by
 * order: an n-gram's id is that of the pair (id of its (n-1)-gram, its last unit). Only reference
 * n-grams get ids; a hypothesis n-gram without one cannot match anything and gets -1.
 */
class NgramIds {
  private readonly index: PairIds[];

  constructor(orders: number) {
    this.index = Array.from({ length: orders }, () => new PairIds());
  }

  /** Ids of all n-grams of orders 1..orders, concatenated order after order. */
  ids(units: Int32Array, add: boolean): Int32Array {
    const out = new Int32Array(ngramsUpTo(units.length, this.index.length));
    let prevAt = 0;
    let at = 0;
    for (let order = 0; order < this.index.length; order++) {
      const index = this.index[order]!;
      const count = Math.max(0, units.length - order);
      for (let i = 0; i < count; i++) {
        const prev = order === 0 ? 0 : out[prevAt + i]!;
        const unit = units[i + order]!;
        out[at + i] = prev >= 0 && unit >= 0 ? index.id(prev, unit, add) : -1;
      }
      prevAt = at;
      at += count;
    }
    return out;
  }

  /** Counters indexed by the ids of each order (all zero). */
  counters(): Int32Array[] {
    return this.index.map((index) => new Int32Array(index.size));
  }
}

/** How many n-grams of orders 1..orders a sequence of `length` units has. */
function ngramsUpTo(length: number, orders: number): number {
  let total = 0;
  for (let n = 1; n <= orders; n++) total += Math.max(0, length - n + 1);
  return total;
}

/** A text's n-gram ids: characters (orders 1..char_order), then words (1..word_order). */
interface TextNgrams {
  chars: Int32Array;
  charLength: number;
  words: Int32Array;
  wordLength: number;
}

export class ChrfScorer implements Scorer<ChrfResult> {
  readonly metric;
  readonly statsSize: number;
  readonly segments: number;
  private readonly opts: ChrfOptions;
  private readonly nrefs: number;
  private readonly charIds: NgramIds;
  private readonly wordIds: NgramIds;
  private readonly vocab = new Map<string, number>();
  /** refNgrams[i][k]: n-grams of reference k of segment i. */
  private readonly refNgrams: TextNgrams[][];
  /** Scratch counters per char order, then per word order, indexed by n-gram id. */
  private readonly counters: Int32Array[];

  /** `refs[k][i]`: reference stream k for segment i. */
  constructor(refs: readonly (readonly string[])[], opts: Partial<ChrfOptions> = {}) {
    this.opts = { ...CHRF_DEFAULTS, ...opts };
    this.metric = this.opts.wordOrder > 0 ? ('chrf++' as const) : ('chrf' as const);
    this.statsSize = 3 * (this.opts.charOrder + this.opts.wordOrder);
    this.nrefs = refs.length;
    this.segments = refs[0]?.length ?? 0;
    this.charIds = new NgramIds(this.opts.charOrder);
    this.wordIds = new NgramIds(this.opts.wordOrder);
    this.refNgrams = Array.from({ length: this.segments }, (_, i) => refs.map((stream) => this.ngrams(stream[i]!, true)));
    this.counters = [...this.charIds.counters(), ...this.wordIds.counters()];
  }

  private ngrams(line: string, isReference: boolean): TextNgrams {
    const { wordOrder, whitespace, lowercase } = this.opts;
    const text = lowercase ? pyLower(line) : line;
    const chars = codePointsOf(whitespace ? text : pySplit(text).join(''));
    const words = wordOrder > 0 ? splitPunctuation(text) : [];
    const wordUnits = Int32Array.from(words, (w) => {
      let id = this.vocab.get(w);
      if (id === undefined && isReference) {
        id = this.vocab.size;
        this.vocab.set(w, id);
      }
      return id ?? -1;
    });
    return {
      chars: this.charIds.ids(chars, isReference),
      charLength: chars.length,
      words: this.wordIds.ids(wordUnits, isReference),
      wordLength: words.length,
    };
  }

  /** [hyp, ref, match] counts of every order between a hypothesis and one reference. */
  private matchStats(hyp: TextNgrams, ref: TextNgrams): number[] {
    const row: number[] = [];
    const kinds = [
      { orders: this.opts.charOrder, h: hyp.chars, hLen: hyp.charLength, r: ref.chars, rLen: ref.charLength, first: 0 },
      { orders: this.opts.wordOrder, h: hyp.words, hLen: hyp.wordLength, r: ref.words, rLen: ref.wordLength, first: this.opts.charOrder },
    ];
    for (const { orders, h, hLen, r, rLen, first } of kinds) {
      let hAt = 0;
      let rAt = 0;
      for (let n = 1; n <= orders; n++) {
        const counts = this.counters[first + n - 1]!;
        const hCount = Math.max(0, hLen - n + 1);
        const rCount = Math.max(0, rLen - n + 1);
        for (let i = rAt; i < rAt + rCount; i++) counts[r[i]!]!++;
        let match = 0;
        for (let i = hAt; i < hAt + hCount; i++) {
          const id = h[i]!;
          if (id >= 0 && counts[id]! > 0) {
            counts[id]!--;
            match++;
          }
        }
        for (let i = rAt; i < rAt + rCount; i++) counts[r[i]!] = 0;
        // sacreBLEU: hypothesis n-grams count only where the reference has n-grams of that order.
        row.push(rCount > 0 ? hCount : 0, rCount, match);
        hAt += hCount;
        rAt += rCount;
      }
    }
    return row;
  }

  segmentStats(hyps: readonly string[]): Float64Array {
    const size = this.statsSize;
    const stats = new Float64Array(hyps.length * size);
    hyps.forEach((hyp, i) => {
      const hypNgrams = this.ngrams(hyp, false);
      let best: number[] = [];
      let bestF = -1;
      for (const ref of this.refNgrams[i]!) {
        const row = this.matchStats(hypNgrams, ref);
        const f = this.score(row);
        if (f > bestF) {
          bestF = f;
          best = row;
        }
      }
      stats.set(best, i * size);
    });
    return stats;
  }

  /** sacreBLEU's `CHRF._compute_f_score`, step for step. */
  score(stats: ArrayLike<number>): number {
    const factor = this.opts.beta ** 2;
    const orders = this.opts.charOrder + this.opts.wordOrder;
    let epsScore = 0;
    let avgPrec = 0;
    let avgRec = 0;
    let effectiveOrder = 0;
    for (let i = 0; i < orders; i++) {
      const nHyp = stats[3 * i]!;
      const nRef = stats[3 * i + 1]!;
      const nMatch = stats[3 * i + 2]!;
      const prec = nHyp > 0 ? nMatch / nHyp : EPS;
      const rec = nRef > 0 ? nMatch / nRef : EPS;
      const denom = factor * prec + rec;
      epsScore += denom > 0 ? ((1 + factor) * prec * rec) / denom : EPS;
      if (nHyp > 0 && nRef > 0) {
        avgPrec += prec;
        avgRec += rec;
        effectiveOrder += 1;
      }
    }
    if (this.opts.epsSmoothing) return (100 * epsScore) / orders;
    if (effectiveOrder === 0) return 0;
    avgPrec /= effectiveOrder;
    avgRec /= effectiveOrder;
    if (avgPrec + avgRec === 0) return 0;
    let score = (1 + factor) * avgPrec * avgRec;
    score /= factor * avgPrec + avgRec;
    return 100 * score;
  }

  result(sums: ArrayLike<number>, resampling?: Resampling): ChrfResult {
    const { beta, wordOrder, charOrder, lowercase, epsSmoothing, whitespace } = this.opts;
    return {
      name: `chrF${beta}${'+'.repeat(wordOrder)}`,
      score: this.score(sums),
      ...formatSignature(
        this.nrefs,
        [
          { key: 'case', short: 'c', value: lowercase ? 'lc' : 'mixed' },
          { key: 'eff', short: 'e', value: !epsSmoothing },
          { key: 'nc', short: 'nc', value: charOrder },
          { key: 'nw', short: 'nw', value: wordOrder },
          { key: 'space', short: 's', value: whitespace },
        ],
        resampling,
      ),
    };
  }
}
