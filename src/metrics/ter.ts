/**
 * TER, translation edit rate (Snover et al., 2006), as sacreBLEU 2.6.0 computes it with its port
 * of tercom: the fewest word insertions, deletions, substitutions and block shifts that turn the
 * hypothesis into a reference, divided by the average reference length.
 *
 * Shifts are found greedily, as tercom does: repeatedly apply the shift that lowers the edit
 * distance most (ties: longer, then earlier in the hypothesis, then earlier target), considering
 * only phrases of at most 10 words moved at most 50 positions, and at most 1000 candidate shifts
 * per segment. The edit distance is a beam search (width 25) around the diagonal. These limits
 * shape the result, so they are kept exactly.
 *
 * Per-segment statistics: [fewest edits over the references, average reference length].
 */
import { formatSignature, type Resampling } from './signature.ts';
import { tercomTokenize, type TercomOptions } from './tokenizers.ts';
import { pyRstrip, pySplit } from './text.ts';
import type { MetricResult, Scorer } from './types.ts';

export type TerOptions = TercomOptions;

export const TER_DEFAULTS: TerOptions = {
  normalized: false,
  noPunct: false,
  asianSupport: false,
  caseSensitive: false,
};

export interface TerResult extends MetricResult {
  name: 'TER';
  num_edits: number;
  /** Sum over segments of the average reference length. */
  ref_length: number;
}

const MAX_SHIFT_SIZE = 10;
const MAX_SHIFT_DIST = 50;
const BEAM_WIDTH = 25;
const MAX_CACHE_SIZE = 10000;
const MAX_SHIFT_CANDIDATES = 1000;

// Edit operations, as in the trace of the edit distance (hypothesis rows, reference columns).
const OP_NOP = 0;
const OP_SUB = 1;
const OP_INS = 2; // consumes a reference word
const OP_DEL = 3; // consumes a hypothesis word
const OP_UNDEF = 4;

/** Cost of cells outside the beam: unreachable (sacreBLEU uses 1e16; any value above every real cost works). */
const UNREACHABLE = 0x3fffffff;

/**
 * One row of the edit distance matrix, stored only over the beam: columns `[lo, lo + width)`,
 * at `cost[base…]` and `op[base…]` (the rows of one computation share two arrays, which keeps
 * allocation low). Cells outside the beam are unreachable, as in sacreBLEU's full rows.
 */
interface Row {
  lo: number;
  width: number;
  base: number;
  cost: Int32Array;
  op: Uint8Array;
}

function costAt(row: Row, j: number): number {
  const k = j - row.lo;
  return k >= 0 && k < row.width ? row.cost[row.base + k]! : UNREACHABLE;
}

function opAt(row: Row, j: number): number {
  const k = j - row.lo;
  return k >= 0 && k < row.width ? row.op[row.base + k]! : OP_UNDEF;
}

interface CacheNode {
  next: Map<number, CacheNode>;
  row: Row;
}

/**
 * Edit distance between a fixed reference and many hypotheses of one length (the shifted
 * variants of one hypothesis), with rows cached by hypothesis prefix: shifted variants share
 * long prefixes, and a row depends only on the prefix, so the cache saves work without changing results.
 */
class BeamEditDistance {
  private readonly ref: Int32Array;
  private readonly initialRow: Row;
  private readonly cache = new Map<number, CacheNode>();
  private cacheSize = 0;

  constructor(ref: Int32Array) {
    this.ref = ref;
    const n = ref.length + 1;
    this.initialRow = { lo: 0, width: n, base: 0, cost: new Int32Array(n), op: new Uint8Array(n).fill(OP_INS) };
    for (let j = 0; j < n; j++) this.initialRow.cost[j] = j;
  }

  /** The edit distance and the trace of operations (rewriting the hypothesis into the reference). */
  distance(hyp: Int32Array): { cost: number; trace: number[] } {
    // Rows for the longest cached prefix of the hypothesis.
    const rows: Row[] = [this.initialRow];
    let level = this.cache;
    for (const word of hyp) {
      const node = level.get(word);
      if (!node) break;
      rows.push(node.row);
      level = node.next;
    }
    const start = rows.length - 1;
    const nRef = this.ref.length;
    const nHyp = hyp.length;
    const lengthRatio = nHyp > 0 ? nRef / nHyp : 1;
    // With very different lengths the beam must widen or rows would not overlap.
    const beam = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH;

    // The beam of each new row, then one block of memory for all of them.
    const los: number[] = [];
    const widths: number[] = [];
    let total = 0;
    for (let i = start + 1; i <= nHyp; i++) {
      const diag = Math.floor(i * lengthRatio);
      const lo = Math.max(0, diag - beam);
      const hi = i === nHyp ? nRef + 1 : Math.min(nRef + 1, diag + beam);
      los.push(lo);
      widths.push(Math.max(0, hi - lo));
      total += Math.max(0, hi - lo);
    }
    const costs = new Int32Array(total).fill(UNREACHABLE);
    const ops = new Uint8Array(total).fill(OP_UNDEF);

    let base = 0;
    for (let i = start + 1; i <= nHyp; i++) {
      const prev = rows[i - 1]!;
      const row: Row = { lo: los[i - start - 1]!, width: widths[i - start - 1]!, base, cost: costs, op: ops };
      base += row.width;
      const word = hyp[i - 1];
      for (let k = 0; k < row.width; k++) {
        const j = row.lo + k;
        const at = row.base + k;
        if (j === 0) {
          costs[at] = costAt(prev, 0) + 1;
          ops[at] = OP_DEL;
          continue;
        }
        // tercom prefers match/substitution, then insertion, then deletion; the trace is used
        // flipped, so deletion is tried before insertion here. Strict `<` keeps the first best.
        const match = word === this.ref[j - 1];
        const sub = costAt(prev, j - 1) + (match ? 0 : 1);
        if (sub < costs[at]!) {
          costs[at] = sub;
          ops[at] = match ? OP_NOP : OP_SUB;
        }
        const del = costAt(prev, j) + 1;
        if (del < costs[at]!) {
          costs[at] = del;
          ops[at] = OP_DEL;
        }
        const ins = (k > 0 ? costs[at - 1]! : UNREACHABLE) + 1;
        if (ins < costs[at]!) {
          costs[at] = ins;
          ops[at] = OP_INS;
        }
      }
      rows.push(row);
    }

    const trace: number[] = [];
    for (let i = nHyp, j = nRef; i > 0 || j > 0; ) {
      const op = opAt(rows[i]!, j);
      trace.push(op);
      if (op === OP_NOP || op === OP_SUB) {
        i--;
        j--;
      } else if (op === OP_INS) j--;
      else if (op === OP_DEL) i--;
      else throw new Error(`TER: unreachable edit distance cell (${i}, ${j})`);
    }
    trace.reverse();
    this.addToCache(hyp, rows, start);
    return { cost: costAt(rows[nHyp]!, nRef), trace };
  }

  private addToCache(hyp: Int32Array, rows: Row[], start: number): void {
    if (this.cacheSize >= MAX_CACHE_SIZE) return;
    let level = this.cache;
    for (let i = 0; i < start; i++) level = level.get(hyp[i]!)!.next;
    for (let i = start; i < hyp.length; i++) {
      let node = level.get(hyp[i]!);
      if (!node) {
        node = { next: new Map(), row: rows[i + 1]! };
        level.set(hyp[i]!, node);
        this.cacheSize++;
      }
      level = node.next;
    }
  }
}

/** `words` with `words[start, start+length)` moved to before position `target` (sacreBLEU's `_perform_shift`). */
function performShift(words: Int32Array, start: number, length: number, target: number): Int32Array {
  const out = new Int32Array(words.length);
  const put = (from: number, to: number, at: number): number => {
    const part = words.subarray(Math.min(from, words.length), Math.min(Math.max(from, to), words.length));
    out.set(part, at);
    return at + part.length;
  };
  let at = 0;
  if (target < start) {
    at = put(0, target, at);
    at = put(start, start + length, at);
    at = put(target, start, at);
    put(start + length, words.length, at);
  } else if (target > start + length) {
    at = put(0, start, at);
    at = put(start + length, target, at);
    at = put(start, start + length, at);
    put(target, words.length, at);
  } else {
    at = put(0, start, at);
    at = put(start + length, length + target, at);
    at = put(start, start + length, at);
    put(length + target, words.length, at);
  }
  return out;
}

interface Alignment {
  /** For each reference position, the hypothesis position aligned to it (-1 before the first). */
  align: Int32Array;
  refErr: Uint8Array;
  hypErr: Uint8Array;
}

/** The alignment read off a trace of operations rewriting the reference into the hypothesis. */
function traceToAlignment(trace: number[], nHyp: number, nRef: number): Alignment {
  const align = new Int32Array(nRef);
  const refErr = new Uint8Array(nRef);
  const hypErr = new Uint8Array(nHyp);
  let h = -1;
  let r = -1;
  for (const op of trace) {
    if (op === OP_NOP || op === OP_SUB) {
      h++;
      r++;
      align[r] = h;
      hypErr[h] = refErr[r] = op === OP_SUB ? 1 : 0;
    } else if (op === OP_INS) {
      h++;
      hypErr[h] = 1;
    } else {
      r++;
      align[r] = h;
      refErr[r] = 1;
    }
  }
  return { align, refErr, hypErr };
}

const flip = (op: number): number => (op === OP_INS ? OP_DEL : op === OP_DEL ? OP_INS : op);

function anyError(errs: Uint8Array, start: number, length: number): boolean {
  for (let k = start; k < start + length; k++) if (errs[k]) return true;
  return false;
}

interface ShiftOutcome {
  gain: number;
  words: Int32Array;
  checked: number;
}

/** The best single shift of `hyp` (sacreBLEU's `_shift`); gain 0 when none helps. */
function bestShift(hyp: Int32Array, ref: Int32Array, ed: BeamEditDistance, checked: number): ShiftOutcome {
  const { cost: before, trace } = ed.distance(hyp);
  // Pretend the reference is rewritten into the hypothesis: flip insertions and deletions.
  const { align, refErr, hypErr } = traceToAlignment(trace.map(flip), hyp.length, ref.length);
  let best: { gain: number; length: number; startH: number; idx: number; words: Int32Array } | undefined;

  outer: for (let startH = 0; startH < hyp.length; startH++) {
    for (let startR = 0; startR < ref.length; startR++) {
      if (Math.abs(startR - startH) > MAX_SHIFT_DIST) continue;
      // Each length of the common phrase starting here is a candidate (sacreBLEU's `_find_shifted_pairs`).
      for (let length = 1; length <= MAX_SHIFT_SIZE; length++) {
        if (hyp[startH + length - 1] !== ref[startR + length - 1]) break;
        // Only move words that are wrong, to a place where the reference is not matched yet,
        // and not within the phrase itself.
        if (anyError(hypErr, startH, length) && anyError(refErr, startR, length)) {
          const aligned = align[startR]!;
          if (!(startH <= aligned && aligned < startH + length)) {
            let prevIdx = -1;
            for (let offset = -1; offset < length; offset++) {
              const idx = startR + offset === -1 ? 0 : align[startR + offset]! + 1;
              if (idx === prevIdx) continue;
              prevIdx = idx;
              const words = performShift(hyp, startH, length, idx);
              const gain = before - ed.distance(words).cost;
              checked++;
              if (
                !best ||
                gain > best.gain ||
                (gain === best.gain &&
                  (length > best.length ||
                    (length === best.length && (startH < best.startH || (startH === best.startH && idx < best.idx)))))
              ) {
                best = { gain, length, startH, idx, words };
              }
            }
          }
        }
        if (checked >= MAX_SHIFT_CANDIDATES) break outer;
        if (startH + length === hyp.length || startR + length === ref.length) break;
      }
    }
  }
  return best ? { gain: best.gain, words: best.words, checked } : { gain: 0, words: hyp, checked };
}

/** Edits (shifts + edit distance after shifting) from `hyp` to `ref`, sacreBLEU's `translation_edit_rate`. */
function translationEdits(hyp: Int32Array, ref: Int32Array): number {
  if (ref.length === 0) return hyp.length;
  const ed = new BeamEditDistance(ref);
  let shifts = 0;
  let words = hyp;
  let checked = 0;
  for (;;) {
    const outcome = bestShift(words, ref, ed, checked);
    checked = outcome.checked;
    // Out of candidates: stop, discarding even an improving shift found last (as sacreBLEU does).
    if (checked >= MAX_SHIFT_CANDIDATES || outcome.gain <= 0) break;
    shifts++;
    words = outcome.words;
  }
  return shifts + ed.distance(words).cost;
}

export class TerScorer implements Scorer<TerResult> {
  readonly metric = 'ter';
  readonly statsSize = 2;
  readonly segments: number;
  private readonly opts: TerOptions;
  private readonly nrefs: number;
  /** Words are compared as ids; `vocab` maps each word seen to its id. */
  private readonly vocab = new Map<string, number>();
  /** refWords[i][k]: word ids of reference k of segment i. */
  private readonly refWords: Int32Array[][];

  /** `refs[k][i]`: reference stream k for segment i. */
  constructor(refs: readonly (readonly string[])[], opts: Partial<TerOptions> = {}) {
    this.opts = { ...TER_DEFAULTS, ...opts };
    this.nrefs = refs.length;
    this.segments = refs[0]?.length ?? 0;
    // sacreBLEU tokenizes references twice (once when caching them, once when splitting them
    // into words); normalization is not quite idempotent, so do the same.
    this.refWords = Array.from({ length: this.segments }, (_, i) =>
      refs.map((stream) => this.words(this.tokenize(this.tokenize(stream[i]!)))),
    );
  }

  private tokenize(line: string): string {
    return tercomTokenize(pyRstrip(line), this.opts);
  }

  private words(tokenized: string): Int32Array {
    return Int32Array.from(pySplit(tokenized), (w) => {
      let id = this.vocab.get(w);
      if (id === undefined) {
        id = this.vocab.size;
        this.vocab.set(w, id);
      }
      return id;
    });
  }

  segmentStats(hyps: readonly string[]): Float64Array {
    const stats = new Float64Array(hyps.length * 2);
    hyps.forEach((hyp, i) => {
      const words = this.words(this.tokenize(hyp));
      const refs = this.refWords[i]!;
      let best = Infinity;
      let refLengths = 0;
      for (const ref of refs) {
        best = Math.min(best, translationEdits(words, ref));
        refLengths += ref.length;
      }
      stats[2 * i] = best;
      stats[2 * i + 1] = refLengths / refs.length;
    });
    return stats;
  }

  score(sums: ArrayLike<number>): number {
    const edits = sums[0]!;
    const refLength = sums[1]!;
    if (refLength > 0) return 100 * (edits / refLength);
    // Empty references: any hypothesis word is an error.
    return edits > 0 ? 100 : 0;
  }

  result(sums: ArrayLike<number>, resampling?: Resampling): TerResult {
    const { caseSensitive, normalized, noPunct, asianSupport } = this.opts;
    return {
      name: 'TER',
      score: this.score(sums),
      num_edits: sums[0]!,
      ref_length: sums[1]!,
      ...formatSignature(
        this.nrefs,
        [
          { key: 'case', short: 'c', value: caseSensitive ? 'mixed' : 'lc' },
          { key: 'tok', short: 't', value: 'tercom' },
          { key: 'norm', short: 'nr', value: normalized },
          { key: 'punct', short: 'pn', value: !noPunct },
          { key: 'asian', short: 'as', value: asianSupport },
        ],
        resampling,
      ),
    };
  }
}
