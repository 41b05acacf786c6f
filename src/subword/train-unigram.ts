/**
 * SentencePiece's unigram trainer (unigram_model_trainer), in TypeScript.
 *
 * 1. Seed vocabulary: every character, plus the frequent substrings that spm's suffix array
 *    would propose — substrings occurring with at least two different following characters
 *    (internal nodes of the suffix tree), that are valid pieces, scored by frequency × length.
 *    Valid pieces never cross a word boundary (`▁` may only start a piece), so they are counted
 *    inside words, with the character after each word (`▁` or end of sentence) as context.
 * 2. EM on the distinct words: the E-step runs forward–backward over each word's lattice of
 *    pieces to get expected piece counts; the M-step drops pieces expected less than 0.5 times
 *    and sets scores with the Bayesian (digamma) update spm uses. Two EM steps per round.
 * 3. Pruning: for each piece, its best segmentation without itself is its replacement; the
 *    loss of removing it is how much the corpus likelihood would drop. The 25% with the lowest
 *    loss go, until 110% of the vocabulary size is left; then the best-scoring pieces (and
 *    every character) make the final vocabulary.
 *
 * Each word's lattice is computed once for the seed vocabulary (span → seed id); later rounds
 * only skip the pieces that are gone.
 */
import { UNK_CHAR, WS_CHAR, codePoints, countWords, validPrefixLength, type TrainProgress, type TrainerOptions } from './trainer-common.ts';

const SEED_SIZE = 1_000_000;
const SHRINKING_FACTOR = 0.75;
const SUB_ITERATIONS = 2;
const UNK_PENALTY = 10;
const MIN_EXPECTED = 0.5;

/** spm's digamma approximation, for the M-step. */
function digamma(xIn: number): number {
  let x = xIn;
  let result = 0;
  for (; x < 7; x++) result -= 1 / x;
  x -= 0.5;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  return result + Math.log(x) + (1 / 24) * xx2 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
}

/** log(exp(a) + exp(b)), with spm's cut-off when one term is negligible. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  return hi > lo + 50 ? hi : hi + Math.log(Math.exp(lo - hi) + 1);
}

function byScoreThenText(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * All valid substrings of the corpus words, as a trie over code points, with counts and the
 * character that followed each. Children live in one open-addressing hash table keyed by
 * (node, code point) in typed arrays: millions of lookups, so a JS Map would dominate training.
 */
class SubstringTrie {
  private keyNode = new Int32Array(1 << 16).fill(-1);
  private keyChar = new Int32Array(1 << 16);
  private childId = new Int32Array(1 << 16);
  private used = 0;
  readonly parent: number[] = [-1];
  readonly lastChar: number[] = [0];
  readonly depth: number[] = [0];
  readonly count: number[] = [0];
  /** The first following character seen, and whether another one was seen too. */
  readonly follow: number[] = [-1];
  readonly branching: boolean[] = [false];

  private slot(node: number, cp: number): number {
    const mask = this.keyNode.length - 1;
    let h = (Math.imul(node, 0x9e3779b1) ^ Math.imul(cp, 0x85ebca77)) & mask;
    while (this.keyNode[h] !== -1 && (this.keyNode[h] !== node || this.keyChar[h] !== cp)) h = (h + 1) & mask;
    return h;
  }

  child(node: number, cp: number): number {
    const h = this.slot(node, cp);
    return this.keyNode[h] === -1 ? -1 : this.childId[h]!;
  }

  childOrNew(node: number, cp: number): number {
    let h = this.slot(node, cp);
    if (this.keyNode[h] !== -1) return this.childId[h]!;
    if (2 * (this.used + 1) > this.keyNode.length) {
      this.grow();
      h = this.slot(node, cp);
    }
    const id = this.parent.length;
    this.keyNode[h] = node;
    this.keyChar[h] = cp;
    this.childId[h] = id;
    this.used++;
    this.parent.push(node);
    this.lastChar.push(cp);
    this.depth.push(this.depth[node]! + 1);
    this.count.push(0);
    this.follow.push(-1);
    this.branching.push(false);
    return id;
  }

  private grow(): void {
    const [nodes, chars, ids] = [this.keyNode, this.keyChar, this.childId];
    this.keyNode = new Int32Array(nodes.length * 2).fill(-1);
    this.keyChar = new Int32Array(nodes.length * 2);
    this.childId = new Int32Array(nodes.length * 2);
    for (let i = 0; i < nodes.length; i++) {
      if (nodes[i] === -1) continue;
      const h = this.slot(nodes[i]!, chars[i]!);
      this.keyNode[h] = nodes[i]!;
      this.keyChar[h] = chars[i]!;
      this.childId[h] = ids[i]!;
    }
  }

  text(node: number): string {
    const cps: number[] = [];
    for (let n = node; n > 0; n = this.parent[n]!) cps.push(this.lastChar[n]!);
    return String.fromCodePoint(...cps.reverse());
  }
}

/**
 * Seed pieces and their initial scores (log of frequency share), and the trie that finds them:
 * `seedOf[node]` is the seed id of a trie node, or -1.
 */
function seedPieces(sentences: string[], opts: TrainerOptions): { seeds: [string, number][]; trie: SubstringTrie; seedOf: Int32Array } {
  const charCounts = new Map<number, number>();
  // Words with what follows them: `▁` (another word) or end of sentence (0).
  const contexts = new Map<string, number>();
  for (const s of sentences) {
    let start = 0;
    for (let i = 1; i <= s.length; i++) {
      if (i === s.length || s.charCodeAt(i) === WS_CHAR) {
        const key = s.slice(start, i) + (i === s.length ? '\u0000' : '\u2581');
        contexts.set(key, (contexts.get(key) ?? 0) + 1);
        start = i;
      }
    }
  }

  const trie = new SubstringTrie();
  for (const [key, freq] of contexts) {
    const cps = codePoints(key);
    const n = cps.length - 1; // the last code point is the context
    for (let i = 0; i < n; i++) {
      const c = cps[i]!;
      if (c !== UNK_CHAR) charCounts.set(c, (charCounts.get(c) ?? 0) + freq);
      let node = trie.childOrNew(0, c);
      const maxLen = validPrefixLength(cps, i, n, opts);
      for (let len = 2; len <= maxLen; len++) {
        node = trie.childOrNew(node, cps[i + len - 1]!);
        const follow = cps[i + len]!;
        trie.count[node]! += freq;
        if (trie.follow[node] === -1) trie.follow[node] = follow;
        else if (trie.follow[node] !== follow) trie.branching[node] = true;
      }
    }
  }

  const chars: [string, number][] = [...charCounts].map(([c, n]) => [String.fromCodePoint(c), n]);
  const substrings: [string, number][] = [];
  const nodeOf = new Map<string, number>();
  for (let node = 1; node < trie.parent.length; node++) {
    if (!trie.branching[node]) continue;
    const t = trie.text(node);
    nodeOf.set(t, node);
    substrings.push([t, trie.count[node]! * trie.depth[node]!]);
  }
  for (const [ch] of chars) nodeOf.set(ch, trie.child(0, ch.codePointAt(0)!));
  substrings.sort(byScoreThenText);
  const seeds = chars.sort(byScoreThenText).concat(substrings.slice(0, SEED_SIZE));
  const logTotal = Math.log(seeds.reduce((sum, [, v]) => sum + v, 0));
  const seedOf = new Int32Array(trie.parent.length).fill(-1);
  seeds.forEach(([p], id) => (seedOf[nodeOf.get(p)!] = id));
  return { seeds: seeds.map(([p, v]) => [p, Math.log(v) - logTotal]), trie, seedOf };
}

/** Lattice spans of every word: where each seed piece occurs, by start then length (spm's order). */
interface Spans {
  /** Word w's spans are [wordStart[w], wordStart[w + 1]). */
  wordStart: Int32Array;
  begin: Uint16Array;
  length: Uint16Array;
  piece: Int32Array;
}

/** Where the seed pieces occur in `cps`, appended to the span lists. */
function findPieces(
  cps: number[],
  trie: SubstringTrie,
  seedOf: Int32Array,
  maxLen: number,
  out: { begin: number[]; length: number[]; piece: number[] },
): void {
  for (let i = 0; i < cps.length; i++) {
    let node = 0;
    for (let len = 1; len <= maxLen && i + len <= cps.length; len++) {
      node = trie.child(node, cps[i + len - 1]!);
      if (node < 0) break;
      const id = seedOf[node]!;
      if (id >= 0) {
        out.begin.push(i);
        out.length.push(len);
        out.piece.push(id);
      }
    }
  }
}

function buildSpans(words: number[][], trie: SubstringTrie, seedOf: Int32Array, opts: TrainerOptions): Spans {
  const out = { begin: [] as number[], length: [] as number[], piece: [] as number[] };
  const wordStart = new Int32Array(words.length + 1);
  words.forEach((cps, wi) => {
    wordStart[wi] = out.piece.length;
    findPieces(cps, trie, seedOf, opts.maxPieceLength, out);
  });
  wordStart[words.length] = out.piece.length;
  return { wordStart, begin: Uint16Array.from(out.begin), length: Uint16Array.from(out.length), piece: Int32Array.from(out.piece) };
}

/** Returns the trained pieces with their scores, best first. */
export function trainUnigram(
  sentences: string[],
  requiredChars: [number, number][],
  metaCount: number,
  opts: TrainerOptions,
  progress?: TrainProgress,
): [string, number][] {
  const { seeds, trie, seedOf } = seedPieces(sentences, opts);
  const text = seeds.map(([p]) => p);
  const score = Float64Array.from(seeds, ([, s]) => s);
  const alive = new Uint8Array(seeds.length).fill(1);
  /** The current vocabulary in spm's order (it breaks ties by position). */
  let order = seeds.map((_, i) => i);

  const wordCounts = countWords(sentences);
  const wordFreq = wordCounts.map(([, f]) => f);
  const totalFreq = wordFreq.reduce((a, b) => a + b, 0);
  const wordChars = wordCounts.map(([w]) => codePoints(w));
  const spans = buildSpans(wordChars, trie, seedOf, opts);
  const wordLen = wordChars.map((cps) => cps.length);
  const maxWordLen = wordLen.reduce((m, n) => Math.max(m, n), 0);
  const fwd = new Float64Array(maxWordLen + 2);
  const bwd = new Float64Array(maxWordLen + 2);
  const hasChar = new Uint8Array(maxWordLen + 2);
  const backNode = new Int32Array(maxWordLen + 2);

  // spm's trainer model leaves its unknown id at 0, so an unknown node counts as the piece that
  // is first in the current vocabulary (in expected counts, frequencies and replacements). This
  // keeps pieces whose replacement needs a dropped character; we do the same to match spm.
  const unkStandIn = () => order[0]!;
  const minScore = () => order.reduce((m, id) => Math.min(m, score[id]!), Infinity);

  /** Marks positions that have a one-character piece; the others get an unknown node. */
  const markChars = (lo: number, hi: number, n: number) => {
    hasChar.fill(0, 0, n);
    for (let k = lo; k < hi; k++) if (spans.length[k] === 1 && alive[spans.piece[k]!]) hasChar[spans.begin[k]!] = 1;
  };

  const eStep = (): Float64Array => {
    const expected = new Float64Array(seeds.length);
    const unkScore = minScore() - UNK_PENALTY;
    for (let w = 0; w < wordCounts.length; w++) {
      const lo = spans.wordStart[w]!;
      const hi = spans.wordStart[w + 1]!;
      const n = wordLen[w]!;
      markChars(lo, hi, n);
      fwd.fill(-Infinity, 0, n + 1);
      fwd[0] = 0;
      let k = lo;
      for (let b = 0; b < n; b++) {
        for (; k < hi && spans.begin[k] === b; k++) {
          const id = spans.piece[k]!;
          if (alive[id]) fwd[b + spans.length[k]!] = logAdd(fwd[b + spans.length[k]!]!, fwd[b]! + score[id]!);
        }
        if (!hasChar[b]) fwd[b + 1] = logAdd(fwd[b + 1]!, fwd[b]! + unkScore);
      }
      bwd.fill(-Infinity, 0, n + 1);
      bwd[n] = 0;
      k = hi - 1;
      for (let b = n - 1; b >= 0; b--) {
        // spm sums the nodes starting at b in insertion order: pieces by length, then unknown.
        let first = k;
        while (first >= lo && spans.begin[first] === b) first--;
        for (let j = first + 1; j <= k; j++) {
          const id = spans.piece[j]!;
          if (alive[id]) bwd[b] = logAdd(bwd[b]!, score[id]! + bwd[b + spans.length[j]!]!);
        }
        if (!hasChar[b]) bwd[b] = logAdd(bwd[b]!, unkScore + bwd[b + 1]!);
        k = first;
      }
      const z = fwd[n]!;
      const f = wordFreq[w]!;
      for (let j = lo; j < hi; j++) {
        const id = spans.piece[j]!;
        if (!alive[id]) continue;
        const b = spans.begin[j]!;
        expected[id]! += f * Math.exp(fwd[b]! + score[id]! + bwd[b + spans.length[j]!]! - z);
      }
      for (let b = 0; b < n; b++) {
        if (!hasChar[b]) expected[unkStandIn()]! += f * Math.exp(fwd[b]! + unkScore + bwd[b + 1]! - z);
      }
    }
    return expected;
  };

  const mStep = (expected: Float64Array) => {
    const kept: number[] = [];
    let sum = 0;
    for (const id of order) {
      if (expected[id]! < MIN_EXPECTED) {
        alive[id] = 0;
        continue;
      }
      kept.push(id);
      sum += expected[id]!;
    }
    // Bayesian (Dirichlet-process-like) EM: a sparse prior, as in spm.
    const logSum = digamma(sum);
    for (const id of kept) score[id] = digamma(expected[id]!) - logSum;
    order = kept;
  };

  /**
   * Best segmentation of a string of n characters given its spans [lo, hi) (a word's, or a
   * piece's own when `skipWhole` leaves out the piece itself); `hasChar` must be marked for it.
   * Ties go to the earlier node, as in spm's Viterbi. Returns the piece ids on the path
   * (-1: unknown) and leaves the path's score in fwd[n].
   */
  const viterbi = (
    n: number,
    lo: number,
    hi: number,
    spanBegin: ArrayLike<number>,
    spanLen: ArrayLike<number>,
    spanPiece: ArrayLike<number>,
    skipWhole: boolean,
    unkScore: number,
  ): number[] | undefined => {
    fwd.fill(-Infinity, 0, n + 1);
    fwd[0] = 0;
    backNode.fill(-2, 0, n + 1);
    let k = lo;
    for (let b = 0; b < n; b++) {
      for (; k < hi && spanBegin[k] === b; k++) {
        const id = spanPiece[k]!;
        if (!alive[id] || (skipWhole && b === 0 && spanLen[k] === n)) continue;
        const e = b + spanLen[k]!;
        const v = fwd[b]! + score[id]!;
        if (v > fwd[e]!) {
          fwd[e] = v;
          backNode[e] = k;
        }
      }
      if (!hasChar[b]) {
        const v = fwd[b]! + unkScore;
        if (v > fwd[b + 1]!) {
          fwd[b + 1] = v;
          backNode[b + 1] = -1;
        }
      }
    }
    if (fwd[n] === -Infinity) return undefined;
    const path: number[] = [];
    for (let e = n; e > 0; ) {
      const node = backNode[e]!;
      if (node === -1) {
        path.push(-1);
        e -= 1;
      } else {
        path.push(spanPiece[node]!);
        e = spanBegin[node]!;
      }
    }
    return path.reverse();
  };

  const prune = () => {
    const unkScore = minScore() - UNK_PENALTY;
    // 1. How each piece would be segmented without itself.
    const alternatives = new Map<number, number[]>();
    const removable = new Set<number>();
    const own = { begin: [] as number[], length: [] as number[], piece: [] as number[] };
    for (const id of order) {
      const cps = codePoints(text[id]!);
      if (cps.length === 1) continue;
      own.begin.length = own.length.length = own.piece.length = 0;
      findPieces(cps, trie, seedOf, cps.length, own);
      const { begin: pb, length: pl, piece: pp } = own;
      hasChar.fill(0, 0, cps.length);
      for (let j = 0; j < pb.length; j++) if (pl[j] === 1 && alive[pp[j]!]) hasChar[pb[j]!] = 1;
      const split = viterbi(cps.length, 0, pb.length, pb, pl, pp, true, unkScore);
      if (!split) continue;
      if (fwd[cps.length]! > score[id]!) removable.add(id);
      else alternatives.set(
        id,
        split.map((p) => (p < 0 ? unkStandIn() : p)),
      );
    }

    // 2. Piece frequencies in the best segmentation of the corpus.
    const freq = new Float64Array(seeds.length);
    for (let w = 0; w < wordCounts.length; w++) {
      const lo = spans.wordStart[w]!;
      const hi = spans.wordStart[w + 1]!;
      const n = wordLen[w]!;
      markChars(lo, hi, n);
      const path = viterbi(n, lo, hi, spans.begin, spans.length, spans.piece, false, unkScore);
      for (const id of path ?? []) freq[id < 0 ? unkStandIn() : id]! += wordFreq[w]!;
    }
    let sum = 0;
    for (const id of order) sum += freq[id]!;
    const logSum = Math.log(sum);

    // 3. The likelihood lost by removing each piece (its uses go to its replacement).
    const kept: number[] = [];
    const candidates: [number, number, number][] = []; // [position in order, id, loss]
    order.forEach((id, pos) => {
      if (freq[id] === 0 || removable.has(id)) return;
      const alt = alternatives.get(id);
      if (!alt || alt.length === 0) {
        kept.push(id);
        return;
      }
      const f = freq[id]!;
      const logProb = Math.log(f) - logSum;
      const logSumAlt = Math.log(sum + f * (alt.length - 1));
      let logProbAlt = 0;
      for (const a of alt) logProbAlt += Math.log(freq[a]! + f) - logSumAlt;
      candidates.push([pos, id, (f / totalFreq) * (logProb - logProbAlt)]);
    });
    candidates.sort((a, b) => b[2] - a[2] || a[0] - b[0]);
    const prunedSize = Math.max(desired, Math.floor(SHRINKING_FACTOR * order.length));
    for (const [, id] of candidates) {
      if (kept.length >= prunedSize) break;
      kept.push(id);
    }
    const keep = new Set(kept);
    for (const id of order) if (!keep.has(id)) alive[id] = 0;
    order = kept;
  };

  const desired = Math.floor(opts.vocabSize * 1.1);
  for (let round = 1; ; round++) {
    for (let i = 0; i < SUB_ITERATIONS; i++) mStep(eStep());
    // Rounds still to go at 25% per round (the first M-step already removes most seeds).
    const left = Math.max(0, Math.ceil(Math.log(desired / order.length) / Math.log(SHRINKING_FACTOR)));
    progress?.('EM rounds', round, round + left);
    if (order.length <= desired) break;
    prune();
  }

  // Every character is kept; then the best-scoring pieces fill the vocabulary.
  const pieceIds = new Map(text.map((p, i) => [p, i]));
  const final = new Map<string, number>();
  const lowest = minScore();
  let penalty = 0;
  for (const [c] of requiredChars) {
    const ch = String.fromCodePoint(c);
    const id = pieceIds.get(ch);
    if (id !== undefined && alive[id]) final.set(ch, score[id]!);
    else {
      // Frequent characters get the smaller penalty, so that no two share a score.
      final.set(ch, lowest + penalty);
      penalty += 0.0001;
    }
  }
  const target = opts.vocabSize - metaCount;
  const byScore = order.map((id): [string, number] => [text[id]!, score[id]!]).sort(byScoreThenText);
  for (const [p, s] of byScore) {
    if (final.has(p)) continue;
    if (final.size >= target) break;
    final.set(p, s);
  }
  return [...final].sort(byScoreThenText);
}
