/**
 * SentencePiece's unigram trainer (unigram_model_trainer.cc of spm 0.1.97, the version Debian
 * ships), in TypeScript. It reproduces `spm_train --num_threads=1` operation for operation, so
 * that the two give the same pieces with the same scores (see docs/subword.md for the figures):
 *
 * 1. Seed vocabulary: every character, plus the substrings that are internal nodes of spm's
 *    suffix tree — occurring with at least two different following characters — that are valid
 *    pieces, scored by frequency × length, best million first. Ties go to spm's node order
 *    (code point order, a string after its extensions). Valid pieces never cross a word boundary
 *    (`▁` may only start a piece), so they are counted inside the distinct words, with the
 *    character after each word (`▁` or end of sentence) as context. Scores: log of the share of
 *    all scores, in float32 as spm's ToLogProb.
 * 2. EM on the distinct words: the E-step runs forward–backward over each word's lattice for
 *    expected piece counts; the M-step drops pieces expected less than 0.5 times and sets
 *    scores with spm's Bayesian update, digamma(count) − digamma(total). Two EM steps per round.
 * 3. Pruning: each piece's second-best segmentation (spm's A* n-best) is its replacement; the
 *    loss of removing it is how much the corpus likelihood would drop. The pieces with the
 *    highest loss stay: 75% per round, until 110% of the vocabulary size is left. Then every
 *    character plus the best-scoring pieces make the final vocabulary.
 *
 * Faithful details that decide pieces: spm computes in float32 (scores, lattice sums,
 * expectations, losses) — emulated here with Math.fround and Float32Array, in spm's order of
 * operations; its Viterbi breaks ties towards the earlier-starting node; its trainer model gives
 * unknown nodes the id 0, i.e. the first piece of the current list; and 0.1.97's pruning loss
 * normalizes with `sum + freq × (number of pieces − 1)` (`alternatives.size()` — fixed in later
 * releases to the piece's own alternatives, google/sentencepiece#628).
 *
 * Speed (spm's own single-thread time or less on all but the smallest corpora): the substrings are
 * counted in a trie built from the sorted suffixes of the distinct words (spm sorts the suffixes
 * of the whole text), which also yields spm's node order; each word's lattice (which seed pieces
 * occur where) is found once and only shrinks as pieces go; forward–backward works per position.
 */
import { UNK_CHAR, WS_CHAR, compareCodePoints, grownTo, tableWords, validPrefixLength, type TrainProgress, type TrainerOptions, type WordTable } from './trainer-common.ts';

const SEED_SIZE = 1_000_000;
const SHRINKING_FACTOR = Math.fround(0.75);
const SUB_ITERATIONS = 2;
const UNK_PENALTY = 10;
const MIN_EXPECTED = 0.5;
const SCORE_PENALTY_DELTA = Math.fround(0.0001);
const f32 = Math.fround;
/** A local binding: run through tsx, an imported function is read through a getter at every call. */
const validPrefix = validPrefixLength;

/** spm's digamma approximation, for the M-step (same grouping of the sum as the C++). */
function digamma(xIn: number): number {
  let x = xIn;
  let result = 0;
  for (; x < 7; ++x) result -= 1 / x;
  x -= 1 / 2;
  const xx = 1 / x;
  const xx2 = xx * xx;
  const xx4 = xx2 * xx2;
  result += Math.log(x) + (1 / 24) * xx2 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4;
  return result;
}

/** float32 sum of values[i] for i in ids, in order (spm's float accumulators). */
function sumInOrder(values: Float32Array, ids: Int32Array): number {
  let sum = 0;
  for (const id of ids) sum = f32(sum + values[id]!);
  return sum;
}

function countSeeds(occNode: Int32Array, seedOf: Int32Array): number {
  let n = 0;
  for (const node of occNode) if (seedOf[node]! >= 0) n++;
  return n;
}

function countZeros(values: Int32Array): number {
  let n = 0;
  for (const v of values) if (v === 0) n++;
  return n;
}

/** Score descending, then the piece in code point order (spm's Sorted on pieces). */
function byScoreThenText(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || compareCodePoints(a[0], b[0]);
}

/** A growable Int32Array. */
class IntList {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const d = new Int32Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * All valid substrings of the corpus words as a trie: node 0 is the root, a node is a substring
 * (its parent one character shorter), with how often it occurs and whether different characters
 * follow it. Built from the sorted suffixes (see buildCorpus), so nodes are numbered in
 * lexicographic order and no hash lookups are needed.
 */
class SubstringTrie {
  size = 1;
  depth: Uint16Array;
  count: Float64Array;
  /** The first following character seen (−1: none yet). */
  follow: Int32Array;
  branching: Uint8Array;
  /** Where an occurrence of the node starts in the corpus's characters (for its text). */
  at: Int32Array;
  /**
   * The node's place in post-order — code point order, a string after every string it is a
   * prefix of — which is the order esaxx numbers spm's suffix-tree nodes in.
   */
  post: Int32Array;

  constructor(capacity: number) {
    this.depth = new Uint16Array(capacity + 1);
    this.count = new Float64Array(capacity + 1);
    this.follow = new Int32Array(capacity + 1).fill(-1);
    this.branching = new Uint8Array(capacity + 1);
    this.at = new Int32Array(capacity + 1);
    this.post = new Int32Array(capacity + 1);
  }
}

/** The distinct words (spm's SplitSentencesByWhitespace), as code points one after the other. */
interface Words {
  /** Words in spm's order: most frequent first, then by code points. */
  nWords: number;
  freq: Float64Array;
  /** Length of each word in code points, and where its characters start in `chars`. */
  length: Int32Array;
  charStart: Int32Array;
  /** The code points of all words, one after the other, and the word of each. */
  chars: Int32Array;
  wordOf: Int32Array;
  /** What follows the word: `▁` and/or end of sentence (`next2` −2: nothing more). */
  next1: Int32Array;
  next2: Int32Array;
}

/** The words and every valid substring occurrence in them. */
interface Corpus extends Words {
  /**
   * Occurrences of valid substrings, word by word, by start then length: their trie nodes.
   * At character c (an index into `chars`) start `validLen[c]` of them, of lengths 1, 2, ….
   */
  validLen: Int32Array;
  occNode: Int32Array;
  trie: SubstringTrie;
}

/**
 * Split the sentences into words, count them, and count every valid substring (with the
 * characters that follow it, including `▁` or end of sentence after the word), recording where
 * each occurs. A valid piece never crosses a word boundary, so these are the substrings (and
 * counts) spm's suffix array over whole sentences yields. The trie comes from sorting the
 * suffixes (each cut at its longest valid prefix) and walking them in order with a stack.
 *
 * Each step is a function of its own with one main loop: V8 compiles a function as a whole, and
 * a long function of many loops was compiled again (TurboFan, ~5 ms each) for each loop it
 * reached with no type feedback yet — ten times for this one when it was one function.
 */
function buildCorpus(sentences: string[], opts: TrainerOptions): Corpus {
  const table = tableWords(sentences);
  const counts = table.words.map((_, k) => table.beforeSpace[k]! + table.atEnd[k]!);
  const words = layOutWords(table, sortByCount(table.words, counts));
  const { validLen, occAt, nOcc, suffixes } = validLengths(words, opts);
  sortSuffixes(words.chars, validLen, suffixes);
  const { trie, occNode } = walkSuffixes(words, validLen, occAt, nOcc, suffixes, opts.maxPieceLength);
  return { ...words, validLen, occNode, trie };
}

/** The words in the order `byFreq`, as code points in one array. */
function layOutWords(table: WordTable, byFreq: Int32Array): Words {
  const { words: distinct, beforeSpace, atEnd } = table;
  const nWords = byFreq.length;
  const freq = new Float64Array(nWords);
  const length = new Int32Array(nWords);
  const charStart = new Int32Array(nWords + 1);
  const next1 = new Int32Array(nWords);
  const next2 = new Int32Array(nWords);
  let units = 0;
  for (const word of distinct) units += word.length;
  const chars = new Int32Array(units);
  const wordOf = new Int32Array(units);
  let n = 0;
  for (let w = 0; w < nWords; w++) {
    const k = byFreq[w]!;
    const word = distinct[k]!;
    freq[w] = beforeSpace[k]! + atEnd[k]!;
    next1[w] = beforeSpace[k]! > 0 ? WS_CHAR : 0;
    next2[w] = beforeSpace[k]! > 0 && atEnd[k]! > 0 ? 0 : -2;
    charStart[w] = n;
    for (let i = 0; i < word.length; i++) {
      const c = word.codePointAt(i)!;
      if (c > 0xffff) i++;
      wordOf[n] = w;
      chars[n++] = c;
    }
    length[w] = n - charStart[w]!;
  }
  charStart[nWords] = n;
  return { nWords, freq, length, charStart, chars: chars.subarray(0, n), wordOf: wordOf.subarray(0, n), next1, next2 };
}

/**
 * The longest valid piece at each character (0 at unknown ones), where its occurrences go in
 * occNode, and the characters where valid pieces start (the suffixes to sort), in text order.
 */
function validLengths(words: Words, opts: TrainerOptions) {
  const { nWords, charStart, chars } = words;
  const n = chars.length;
  const validLen = new Int32Array(n);
  const occAt = new Int32Array(n + 1);
  const starts = new Int32Array(n);
  let nOcc = 0;
  let nSuffixes = 0;
  for (let w = 0; w < nWords; w++) {
    const end = charStart[w + 1]!;
    for (let p = charStart[w]!; p < end; p++) {
      occAt[p] = nOcc;
      if (chars[p] === UNK_CHAR) continue;
      const len = Math.max(1, validPrefix(chars, p, end, opts));
      validLen[p] = len;
      nOcc += len;
      starts[nSuffixes++] = p;
    }
  }
  occAt[n] = nOcc;
  return { validLen, occAt, nOcc, suffixes: starts.subarray(0, nSuffixes) };
}

/** The d-th character of suffix p, −1 past its end. (Not a closure: sortSuffixes runs twice.) */
function charAt(chars: Int32Array, validLen: Int32Array, p: number, d: number): number {
  return d < validLen[p]! ? chars[p + d]! : -1;
}

/**
 * Sort the suffixes (start positions) by the code points of their first validLen[p] characters,
 * a suffix before those it is a prefix of: multikey quicksort (Bentley & Sedgewick), one
 * character at a time, with no comparison callback (Array sort's callback made this 3× slower).
 * Equal suffixes may come in any order: the walk only sums and compares over them.
 */
function sortSuffixes(chars: Int32Array, validLen: Int32Array, sa: Int32Array): void {
  // Ranges [lo, hi) still to sort, their suffixes equal before depth d: (lo, hi, d) triples.
  // (A loop over a stack rather than recursion: V8 compiles it once, with every path seen.)
  const todo: number[] = [0, sa.length, 0];
  while (todo.length > 0) {
    let d = todo.pop()!;
    let hi = todo.pop()!;
    let lo = todo.pop()!;
    while (hi - lo > 12) {
      // Three-way partition on the d-th character (median of three), then each part.
      const a = charAt(chars, validLen, sa[lo]!, d);
      const b = charAt(chars, validLen, sa[(lo + hi) >> 1]!, d);
      const c = charAt(chars, validLen, sa[hi - 1]!, d);
      const v = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      let lt = lo;
      let gt = hi;
      for (let i = lo; i < gt; ) {
        const x = charAt(chars, validLen, sa[i]!, d);
        const t = sa[i]!;
        if (x < v) {
          sa[i++] = sa[lt]!;
          sa[lt++] = t;
        } else if (x > v) {
          sa[i] = sa[--gt]!;
          sa[gt] = t;
        } else i++;
      }
      todo.push(lo, lt, d, gt, hi, d);
      if (v === -1) {
        hi = lo; // the middle part ended here: equal, nothing left to sort
        break;
      }
      lo = lt;
      hi = gt;
      d++;
    }
    // Insertion sort of the small rest, comparing from depth d.
    for (let i = lo + 1; i < hi; i++) {
      const p = sa[i]!;
      let j = i;
      for (; j > lo; j--) {
        const q = sa[j - 1]!;
        let e = d;
        let x = charAt(chars, validLen, p, e);
        let y = charAt(chars, validLen, q, e);
        while (x === y && x !== -1) {
          e++;
          x = charAt(chars, validLen, p, e);
          y = charAt(chars, validLen, q, e);
        }
        if (!(x < y)) break;
        sa[j] = q;
      }
      sa[j] = p;
    }
  }
}

/** Walk the sorted suffixes: a suffix shares the nodes of its common prefix with the one before. */
function walkSuffixes(words: Words, validLen: Int32Array, occAt: Int32Array, nOcc: number, suffixes: Int32Array, maxPieceLength: number) {
  const { chars, wordOf, freq, charStart, next1, next2 } = words;
  const trie = new SubstringTrie(nOcc);
  const { count, follow, branching, depth, at, post } = trie;
  const occNode = new Int32Array(nOcc);
  const stack = new Int32Array(maxPieceLength + 2);
  let prev = -1;
  let prevLen = 0;
  let closed = 0;
  for (let s = 0; s < suffixes.length; s++) {
    const p = suffixes[s]!;
    const len = validLen[p]!;
    let common = 0;
    if (prev >= 0) {
      const l = len < prevLen ? len : prevLen;
      while (common < l && chars[p + common] === chars[prev + common]) common++;
    }
    // The previous suffix's nodes below the common prefix are complete: deepest first.
    for (let d = prevLen; d > common; d--) post[stack[d]!] = closed++;
    for (let d = common + 1; d <= len; d++) {
      const node = trie.size++;
      depth[node] = d;
      at[node] = p;
      stack[d] = node;
    }
    const w = wordOf[p]!;
    const f = freq[w]!;
    const end = charStart[w + 1]!;
    const base = occAt[p]! - 1;
    for (let d = 1; d <= len; d++) {
      const node = stack[d]!;
      count[node]! += f;
      occNode[base + d] = node;
      if (d === 1) continue;
      // What follows: the next character, or `▁` and/or end of sentence after the word.
      const c = p + d < end ? chars[p + d]! : next1[w]!;
      const first = follow[node]!;
      if (first === -1) follow[node] = c;
      else if (first !== c) branching[node] = 1;
      if (p + d >= end && next2[w] !== -2 && next2[w] !== c) branching[node] = 1;
    }
    prev = p;
    prevLen = len;
  }
  for (let d = prevLen; d > 0; d--) post[stack[d]!] = closed++;
  return { trie, occNode };
}

/**
 * Indices of `words` by count descending, then by code points (spm's Sorted): each word as a key
 * (maxCount − count, its code points…), sorted by sortSuffixes — a key before those it is a
 * prefix of, as spm's string order — which the suffixes then reuse while it is still compiled.
 */
function sortByCount(words: string[], counts: number[]): Int32Array {
  let units = 0;
  let maxCount = 0;
  for (let k = 0; k < words.length; k++) {
    units += words[k]!.length + 1;
    if (counts[k]! > maxCount) maxCount = counts[k]!;
  }
  const keys = new Int32Array(units);
  const keyLength = new Int32Array(units);
  const wordAt = new Int32Array(units);
  const starts = new Int32Array(words.length);
  let n = 0;
  for (let k = 0; k < words.length; k++) {
    const word = words[k]!;
    const start = n;
    starts[k] = start;
    wordAt[start] = k;
    keys[n++] = maxCount - counts[k]!;
    for (let i = 0; i < word.length; i++) {
      const c = word.codePointAt(i)!;
      i += c > 0xffff ? 1 : 0; // (an addition run for every character: see normalizeUnits)
      keys[n++] = c;
    }
    keyLength[start] = n - start;
  }
  sortSuffixes(keys, keyLength, starts);
  return starts.map((start) => wordAt[start]!);
}

interface Seeds {
  /** The trie node of each seed piece: characters first, then substrings (its text, when needed). */
  node: Int32Array;
  /** float32 log-probability scores (spm's ToLogProb). */
  score: Float32Array;
  /** Length in code points. */
  length: Int32Array;
  /** Seed id of a trie node, or −1. */
  seedOf: Int32Array;
}

/** Seed pieces and their initial scores. */
function seedPieces(trie: SubstringTrie, corpusChars: Int32Array): Seeds {
  const first = (node: number) => corpusChars[trie.at[node]!]!;
  const chars: number[] = [];
  for (let node = 1; node < trie.size; node++) if (trie.depth[node] === 1) chars.push(node);
  chars.sort((a, b) => trie.count[b]! - trie.count[a]! || first(a) - first(b));
  const candidates = seedCandidates(trie);
  const nCand = Math.min(candidates.length, SEED_SIZE);

  const n = chars.length + nCand;
  const seedNode = new Int32Array(n);
  const raw = new Float32Array(n);
  const length = new Int32Array(n);
  const seedOf = new Int32Array(trie.size).fill(-1);
  for (let id = 0; id < n; id++) {
    const node = id < chars.length ? chars[id]! : candidates[id - chars.length]!;
    seedNode[id] = node;
    raw[id] = trie.count[node]! * trie.depth[node]!;
    length[id] = trie.depth[node]!;
    seedOf[node] = id;
  }
  // ToLogProb: float32 sum and differences.
  let sum = 0;
  for (let i = 0; i < n; i++) sum = f32(sum + raw[i]!);
  const logSum = f32(Math.log(sum));
  const score = new Float32Array(n);
  for (let i = 0; i < n; i++) score[i] = Math.log(raw[i]!) - logSum;
  return { node: seedNode, score, length, seedOf };
}

/**
 * The substrings that are seed candidates (branching, longer than one character) by score
 * (frequency × length) descending, then in spm's node order (post-order). Taken in post-order
 * and sorted stably by score: as one number per candidate, (max − score) × count + rank, sorted
 * natively — exact while that stays below 2^53 — else with a comparison callback.
 */
function seedCandidates(trie: SubstringTrie): Int32Array {
  const { size, depth, count, branching, post } = trie;
  const byPost = new Int32Array(size);
  for (let node = 1; node < size; node++) byPost[post[node]!] = node;
  const cand: number[] = [];
  let maxScore = 0;
  for (let i = 0; i < size - 1; i++) {
    const node = byPost[i]!;
    if (depth[node]! > 1 && branching[node]) {
      cand.push(node);
      const s = count[node]! * depth[node]!;
      if (s > maxScore) maxScore = s;
    }
  }
  const m = cand.length;
  if ((maxScore + 1) * m >= 2 ** 53) {
    const rank = new Int32Array(size);
    cand.forEach((node, i) => (rank[node] = i));
    const scoreOf = (node: number) => count[node]! * depth[node]!;
    return Int32Array.from(cand.sort((a, b) => scoreOf(b) - scoreOf(a) || rank[a]! - rank[b]!));
  }
  const key = new Float64Array(m);
  for (let i = 0; i < m; i++) key[i] = (maxScore - count[cand[i]!]! * depth[cand[i]!]!) * m + i;
  key.sort();
  const sorted = new Int32Array(m);
  for (let i = 0; i < m; i++) sorted[i] = cand[key[i]! % m]!;
  return sorted;
}

/** Returns the trained pieces with their scores, best first. */
export function trainUnigram(
  sentences: string[],
  requiredChars: [number, number][],
  metaCount: number,
  opts: TrainerOptions,
  progress?: TrainProgress,
): [string, number][] {
  const corpus = buildCorpus(sentences, opts);
  const { trie } = corpus;
  const seeds = seedPieces(trie, corpus.chars);
  const { node: seedNode, length: pieceLen, seedOf } = seeds;
  const nSeeds = seedNode.length;
  /**
   * The unknown node's slot, after the seeds: a lattice position with no one-character piece gets
   * a span of this id (scored minScore − 10, counted as piece `first`, see eStep), so that every
   * loop over a lattice treats unknown nodes like pieces.
   */
  const UNK = nSeeds;
  const score = new Float32Array(nSeeds + 1);
  score.set(seeds.score);
  /** A word each seed occurs in: its own lattice is the spans inside that occurrence. */
  const pieceWord = new Int32Array(nSeeds).fill(-1);
  const alive = new Uint8Array(nSeeds + 1).fill(1);
  /** The current pieces in spm's list order (positions break ties; position 0 stands for unknown). */
  let order: Int32Array = Int32Array.from({ length: nSeeds }, (_, i) => i);
  let minScore = 0;

  const nWords = corpus.nWords;
  const wordFreq = corpus.freq;
  const wordLen = corpus.length;
  const charStart = corpus.charStart;
  const maxWordLen = wordLen.reduce((m, n) => Math.max(m, n), 0);

  // The lattice of every word: the spans of the current pieces, word by word, by start then
  // length, and an unknown span (id UNK) last at each position with no one-character piece — as
  // spm's lattice inserts its unknown nodes. Rebuilt when pieces go, so that the loops only see
  // live spans.
  const wordStart = new Int32Array(nWords + 1);
  let spanBegin = new Int32Array(0);
  let spanEnd = new Int32Array(0);
  let spanPiece = new Int32Array(0);
  /**
   * Every seed piece among the substring occurrences: every character is a seed, so every position
   * has a span, except at UNK_CHAR, which gets an unknown one.
   */
  function buildSpans() {
    const { validLen, occNode } = corpus;
    // Seed occurrences, and one unknown span at each UNK_CHAR.
    const total = countSeeds(occNode, seedOf) + countZeros(validLen);
    spanBegin = new Int32Array(total);
    spanEnd = new Int32Array(total);
    spanPiece = new Int32Array(total);
    let n = 0;
    let k = 0;
    for (let w = 0; w < nWords; w++) {
      wordStart[w] = n;
      const cs = charStart[w]!;
      for (let b = 0; b < wordLen[w]!; b++) {
        const count = validLen[cs + b]!;
        for (let len = 1; len <= count; len++) {
          const id = seedOf[occNode[k++]!]!;
          if (id < 0) continue;
          if (pieceWord[id]! < 0) pieceWord[id] = w;
          spanBegin[n] = b;
          spanEnd[n] = b + len;
          spanPiece[n] = id;
          n++;
        }
        if (count === 0) {
          spanBegin[n] = b;
          spanEnd[n] = b + 1;
          spanPiece[n] = UNK;
          n++;
        }
      }
    }
    wordStart[nWords] = n;
  }
  /**
   * Keep the spans of live pieces, in place; where a position's one-character piece went, an
   * unknown span takes the last place (never more spans than before: it replaces the piece's).
   */
  function dropDeadSpans() {
    let n = 0;
    for (let w = 0; w < nWords; w++) {
      const lo = wordStart[w]!;
      const hi = wordStart[w + 1]!;
      wordStart[w] = n;
      let k = lo;
      while (k < hi) {
        const b = spanBegin[k]!;
        let single = false;
        for (; k < hi && spanBegin[k] === b; k++) {
          const id = spanPiece[k]!;
          if (!alive[id]) continue;
          const e = spanEnd[k]!;
          if (e === b + 1) single = true;
          spanBegin[n] = b;
          spanEnd[n] = e;
          spanPiece[n] = id;
          n++;
        }
        if (!single) {
          spanBegin[n] = b;
          spanEnd[n] = b + 1;
          spanPiece[n] = UNK;
          n++;
        }
      }
    }
    wordStart[nWords] = n;
  }

  function setPieces(ids: Int32Array) {
    order = ids;
    alive.fill(0);
    alive[UNK] = 1;
    minScore = markAlive(ids);
    score[UNK] = minScore - UNK_PENALTY;
  }
  /** Mark the pieces alive; their lowest score. */
  function markAlive(ids: Int32Array): number {
    let min = Infinity;
    for (const id of ids) {
      alive[id] = 1;
      if (score[id]! < min) min = score[id]!;
    }
    return min;
  }
  setPieces(order);
  buildSpans();

  const A = new Float64Array(maxWordLen + 2);
  const B = new Float64Array(maxWordLen + 2);
  const spanBt = new Float64Array(maxWordLen * opts.maxPieceLength + 2);
  const expected = new Float32Array(nSeeds);

  /**
   * spm's E-step (Lattice::PopulateMarginal on every word), in float32. Unknown spans count for
   * the first piece of the list (spm's trainer model gives unknown nodes the id 0).
   */
  function eStep() {
    expected.fill(0);
    const first = order[0]!;
    // (A function per word: compiled once by V8, where one loop over all words is compiled
    // twice — on the stack for the first call, then again for the next.)
    for (let w = 0; w < nWords; w++) eStepWord(w, first);
  }
  function eStepWord(w: number, first: number) {
    const lo = wordStart[w]!;
    const hi = wordStart[w + 1]!;
    const n = wordLen[w]!;
    // Forward: A[b] is alpha of the nodes starting at b.
    A[0] = 0;
    for (let e = 1; e <= n; e++) A[e] = -Infinity;
    // Sums are spm's LogSumExp in float32, written out (the innermost loop of training):
    // log(exp(x) + exp(y)), the smaller term dropped when it is 50 below the larger; the first
    // term is taken as is (spm's "init mode").
    let k = lo;
    for (let b = 0; b < n; b++) {
      const ab = A[b]!;
      for (; k < hi && spanBegin[k] === b; k++) {
        const e = spanEnd[k]!;
        const v = f32(score[spanPiece[k]!]! + ab);
        const x = A[e]!;
        if (x === -Infinity) A[e] = v;
        else {
          const vmin = v < x ? v : x;
          const vmax = x < v ? v : x;
          A[e] = vmax > f32(vmin + 50) ? vmax : f32(vmax + Math.log(Math.exp(f32(vmin - vmax)) + 1));
        }
      }
    }
    // Backward: B[e] is beta of the nodes ending at e (pieces by length, then unknown).
    B[n] = 0;
    k = hi - 1;
    for (let b = n - 1; b >= 0; b--) {
      let j = k;
      while (j >= lo && spanBegin[j] === b) j--;
      let acc = -Infinity;
      for (let m = j + 1; m <= k; m++) {
        const v = f32(score[spanPiece[m]!]! + B[spanEnd[m]!]!);
        if (acc === -Infinity) acc = v;
        else {
          const vmin = v < acc ? v : acc;
          const vmax = acc < v ? v : acc;
          acc = vmax > f32(vmin + 50) ? vmax : f32(vmax + Math.log(Math.exp(f32(vmin - vmax)) + 1));
        }
      }
      B[b] = acc;
      k = j;
    }
    const z = A[n]!;
    const f = f32(wordFreq[w]!);
    k = lo;
    for (let b = 0; b < n; b++) {
      const ab = A[b]!;
      for (; k < hi && spanBegin[k] === b; k++) {
        const id = spanPiece[k]!;
        expected[id === UNK ? first : id] += f * Math.exp(f32(f32(f32(ab + score[id]!) + B[spanEnd[k]!]!) - z));
      }
    }
  }

  /** spm's M-step: drop pieces expected less than 0.5 times, Bayesian scores. */
  function mStep() {
    const ids = order.filter((id) => expected[id]! >= MIN_EXPECTED);
    const logSum = f32(digamma(sumInOrder(expected, ids)));
    setScores(ids, logSum);
    const dropped = ids.length < order.length;
    setPieces(ids);
    if (dropped) dropDeadSpans();
  }
  function setScores(ids: Int32Array, logSum: number) {
    for (const id of ids) score[id] = digamma(expected[id]!) - logSum;
  }

  /**
   * spm's Viterbi on word w: the pieces of the best path, left to right, unknown nodes as
   * `first`. A node's predecessor is the earliest-starting one among those giving its score.
   */
  const path: number[] = [];
  function viterbiWord(w: number, first: number): number[] {
    const lo = wordStart[w]!;
    const hi = wordStart[w + 1]!;
    const n = wordLen[w]!;
    // A[e]: the best score of a node ending at e (the value every node starting at e extends).
    A[0] = 0;
    for (let e = 1; e <= n; e++) A[e] = -Infinity;
    let k = lo;
    for (let b = 0; b < n; b++) {
      const m = A[b]!;
      for (; k < hi && spanBegin[k] === b; k++) {
        const v = f32(m + score[spanPiece[k]!]!);
        spanBt[k - lo] = v;
        const e = spanEnd[k]!;
        if (v > A[e]!) A[e] = v;
      }
    }
    // Back from the end: the first node (by start) ending here whose score gives the target.
    path.length = 0;
    let e = n;
    let nodeScore = 0;
    let target = A[n]!;
    while (e > 0) {
      // (One always matches: the target is the best score of a node ending at e, plus its own.)
      let j = lo;
      while (spanEnd[j] !== e || f32(spanBt[j - lo]! + nodeScore) !== target) j++;
      const found = spanPiece[j]!;
      const foundBt = spanBt[j - lo]!;
      const foundScore = score[found]!;
      path.push(found === UNK ? first : found);
      e = spanBegin[j]!;
      target = foundBt;
      nodeScore = foundScore;
    }
    return path.reverse();
  }

  // Lattice and A* search arrays for one piece (at most maxPieceLength characters).
  const maxNodes = opts.maxPieceLength * (opts.maxPieceLength + 1) + 2;
  const nodeBegin = new Int32Array(maxNodes);
  const nodeEnd = new Int32Array(maxNodes);
  const nodeId = new Int32Array(maxNodes);
  const nodeScore = new Float64Array(maxNodes);
  const nodeBt = new Float64Array(maxNodes);
  const beginStart = new Int32Array(opts.maxPieceLength + 2);
  const endStart = new Int32Array(opts.maxPieceLength + 3);
  const endFill = new Int32Array(opts.maxPieceLength + 3);
  const endList = new Int32Array(maxNodes);
  const BOS = 0;
  const EOS = 1;
  let hypNode = new Int32Array(1024);
  let hypNext = new Int32Array(1024);
  let hypFx = new Float64Array(1024);
  let hypGx = new Float64Array(1024);
  let heap = new Int32Array(1024);
  let nHyp = 0;
  let heapSize = 0;

  /** A new hypothesis, pushed onto the agenda (std::priority_queue: push_heap with `fx <`). */
  function pushHyp(node: number, next: number, fx: number, gx: number) {
    if (nHyp === hypNode.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => grownTo(a, a.length * 2);
      hypNode = grow(hypNode);
      hypNext = grow(hypNext);
      hypFx = grow(hypFx);
      hypGx = grow(hypGx);
      heap = grow(heap);
    }
    hypNode[nHyp] = node;
    hypNext[nHyp] = next;
    hypFx[nHyp] = fx;
    hypGx[nHyp] = gx;
    let hole = heapSize++;
    let parent = (hole - 1) >> 1;
    while (hole > 0 && hypFx[heap[parent]!]! < fx) {
      heap[hole] = heap[parent]!;
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    heap[hole] = nHyp++;
  }

  /** The agenda's top, removed (std::pop_heap: libstdc++'s __adjust_heap, then __push_heap). */
  function popHyp(): number {
    const top = heap[0]!;
    const len = --heapSize;
    if (len > 0) {
      const value = heap[len]!;
      let hole = 0;
      let child = 0;
      while (child < (len - 1) >> 1) {
        child = 2 * (child + 1);
        if (hypFx[heap[child]!]! < hypFx[heap[child - 1]!]!) child--;
        heap[hole] = heap[child]!;
        hole = child;
      }
      if ((len & 1) === 0 && child === (len - 2) >> 1) {
        child = 2 * (child + 1);
        heap[hole] = heap[child - 1]!;
        hole = child - 1;
      }
      const fx = hypFx[value]!;
      let parent = (hole - 1) >> 1;
      while (hole > 0 && hypFx[heap[parent]!]! < fx) {
        heap[hole] = heap[parent]!;
        hole = parent;
        parent = (hole - 1) >> 1;
      }
      heap[hole] = value;
    }
    return top;
  }

  /** nbest2's second path, when the best is the piece itself (unknown nodes as `first`). */
  const altPath = new Int32Array(opts.maxPieceLength);
  let altLength = 0;

  /**
   * spm's Lattice::NBest(2) on piece `id`'s own lattice: A* from the end with the Viterbi score
   * as heuristic, equal priorities in std::priority_queue's order. Returns how many pieces the
   * best path has; when that is 1 (the piece itself), the second path is left in altPath, or
   * altLength is 0 when there is none. (A best path of 2+ pieces is all prune needs to know.)
   */
  function nbest2(id: number, first: number): number {
    const n = pieceLen[id]!;
    // The piece's own lattice: the spans inside one of its occurrences.
    const w = pieceWord[id]!;
    const hi = wordStart[w + 1]!;
    let k = wordStart[w]!;
    while (spanPiece[k] !== id) k++;
    const at = spanBegin[k]!;
    while (k > wordStart[w]! && spanBegin[k - 1] === at) k--;
    // Nodes: 0 = BOS, 1 = EOS, then by start (pieces by length, then the unknown one if any).
    let count = 2;
    nodeBegin[BOS] = 0;
    nodeEnd[BOS] = 0;
    nodeScore[BOS] = 0;
    nodeBegin[EOS] = n;
    nodeEnd[EOS] = n;
    nodeScore[EOS] = 0;
    for (let b = 0; b < n; b++) {
      beginStart[b] = count;
      for (; k < hi && spanBegin[k] === at + b; k++) {
        const len = spanEnd[k]! - spanBegin[k]!;
        if (b + len > n) continue;
        const pid = spanPiece[k]!;
        nodeBegin[count] = b;
        nodeEnd[count] = b + len;
        nodeId[count] = pid === UNK ? first : pid;
        nodeScore[count] = score[pid]!;
        count++;
      }
    }
    beginStart[n] = count;
    // Nodes ending at each position, in insertion order (BOS ends at 0).
    endStart.fill(0, 0, n + 2);
    endStart[1] = 1;
    for (let i = 2; i < count; i++) endStart[nodeEnd[i]! + 1]!++;
    for (let e = 1; e <= n + 1; e++) endStart[e]! += endStart[e - 1]!;
    endFill.set(endStart.subarray(0, n + 1));
    endList[endFill[0]!++] = BOS;
    for (let i = 2; i < count; i++) endList[endFill[nodeEnd[i]!]!++] = i;
    // Viterbi: each node's best score from the start (spm's backtrace_score).
    nodeBt[BOS] = 0;
    for (let pos = 0; pos <= n; pos++) {
      const r0 = pos < n ? beginStart[pos]! : EOS;
      const r1 = pos < n ? beginStart[pos + 1]! : EOS + 1;
      const e0 = endStart[pos]!;
      const e1 = endStart[pos + 1]!;
      for (let r = r0; r < r1; r++) {
        const s = nodeScore[r]!;
        let best = f32(nodeBt[endList[e0]!]! + s);
        for (let j = e0 + 1; j < e1; j++) {
          const v = f32(nodeBt[endList[j]!]! + s);
          if (v > best) best = v;
        }
        nodeBt[r] = best;
      }
    }
    // A*: hypotheses grow leftwards from EOS; priority fx = Viterbi score to the left + gx.
    nHyp = 0;
    heapSize = 0;
    pushHyp(EOS, -1, nodeBt[EOS]!, 0);
    let found = 0;
    altLength = 0;
    while (heapSize > 0) {
      const top = popHyp();
      const node = hypNode[top]!;
      if (node === BOS) {
        let length = 0;
        for (let h = hypNext[top]!; hypNext[h] !== -1; h = hypNext[h]!) {
          if (found === 1) altPath[length] = nodeId[hypNode[h]!]!;
          length++;
        }
        if (found === 1) {
          altLength = length;
          return 1;
        }
        // A best path of two or more pieces: the piece itself is another path, and removable.
        if (length >= 2) return length;
        found = 1;
        continue;
      }
      const pos = nodeBegin[node]!;
      const gx = hypGx[top]!;
      for (let j = endStart[pos]!; j < endStart[pos + 1]!; j++) {
        const l = endList[j]!;
        pushHyp(l, top, f32(nodeBt[l]! + gx), f32(nodeScore[l]! + gx));
      }
    }
    return 1;
  }

  const desired = Math.floor(opts.vocabSize * 1.1);

  /**
   * spm's PruneSentencePieces (0.1.97), one function per step: V8 compiles a function as a whole
   * when its loop gets hot, and stops to compile it again at each later loop that has not run yet.
   */
  function prune() {
    const first = order[0]!;
    const { removable, altStart, altIds } = secondBest(first);
    const { freq, vsum } = viterbiFrequencies(first);
    const kept = piecesByLoss(removable, altStart, altIds, freq, vsum);
    setPieces(kept);
    dropDeadSpans();
  }

  /**
   * 1. How each piece would be segmented without itself: its second-best path (the pieces of
   * position i's are altIds[altStart[i] .. altStart[i + 1]); none: kept as it is).
   */
  function secondBest(first: number) {
    const size = order.length;
    const removable = new Uint8Array(size);
    const altStart = new Int32Array(size + 1);
    const altIds = new IntList(size);
    for (let i = 0; i < size; i++) {
      altStart[i] = altIds.length;
      const id = order[i]!;
      if (pieceLen[id] === 1) continue; // one path only: always kept
      if (nbest2(id, first) >= 2) removable[i] = 1;
      else for (let k = 0; k < altLength; k++) altIds.push(altPath[k]!);
    }
    altStart[size] = altIds.length;
    return { removable, altStart, altIds: altIds.view() };
  }

  /** 2. Piece frequencies in the best segmentation of the corpus. */
  function viterbiFrequencies(first: number) {
    const freq = new Float32Array(nSeeds);
    let vsum = 0;
    for (let w = 0; w < nWords; w++) {
      const f = f32(wordFreq[w]!);
      vsum = f32(vsum + f);
      for (const id of viterbiWord(w, first)) freq[id] += f;
    }
    return { freq, vsum };
  }

  /** 3. The likelihood lost by removing each piece (its uses go to its replacement); the pieces kept. */
  function piecesByLoss(removable: Uint8Array, altStart: Int32Array, altIds: Int32Array, freq: Float32Array, vsum: number): Int32Array {
    const size = order.length;
    let sumD = 0;
    for (const id of order) sumD += freq[id]!;
    const sum = f32(sumD);
    const logSum = f32(Math.log(sum));
    const kept = new IntList(size);
    const candPos: number[] = [];
    const candLoss: number[] = [];
    for (let i = 0; i < size; i++) {
      const id = order[i]!;
      const fi = freq[id]!;
      if (fi === 0 || removable[i]) continue;
      const a0 = altStart[i]!;
      const a1 = altStart[i + 1]!;
      if (a0 === a1) {
        kept.push(id);
        continue;
      }
      const F = f32(fi / vsum);
      const logProb = f32(Math.log(fi) - logSum);
      // spm 0.1.97: alternatives.size() is the number of pieces, not this piece's alternatives.
      const logSumAlt = f32(Math.log(f32(sum + f32(fi * f32(size - 1)))));
      let logProbAlt = 0;
      for (let a = a0; a < a1; a++) logProbAlt = f32(logProbAlt + (Math.log(f32(freq[altIds[a]!]! + fi)) - logSumAlt));
      candPos.push(i);
      candLoss.push(f32(F * f32(logProb - logProbAlt)));
    }
    const byLoss = Array.from(candPos.keys()).sort((a, b) => candLoss[b]! - candLoss[a]! || a - b);
    const prunedSize = Math.max(desired, Math.trunc(f32(SHRINKING_FACTOR * f32(size))));
    for (const c of byLoss) {
      if (kept.length === prunedSize) break;
      kept.push(order[candPos[c]!]!);
    }
    return kept.view().slice();
  }

  for (let round = 1; ; round++) {
    for (let i = 0; i < SUB_ITERATIONS; i++) {
      eStep();
      mStep();
    }
    // Rounds still to go at 25% per round (the first M-step already removes most seeds).
    const left = Math.max(0, Math.ceil(Math.log(desired / order.length) / Math.log(SHRINKING_FACTOR)));
    progress?.('EM rounds', round, round + left);
    if (order.length <= desired) break;
    prune();
  }

  // spm's FinalizeSentencePieces: every character (absent ones just below the lowest score,
  // frequent ones first), then the best-scoring pieces. Trie nodes are numbered in code point
  // order, so a piece's node stands in for its text when sorting.
  const textOf = (id: number) => {
    const at = trie.at[seedNode[id]!]!;
    return String.fromCodePoint(...corpus.chars.subarray(at, at + pieceLen[id]!));
  };
  const charPiece = new Map<number, number>();
  for (const id of order) if (pieceLen[id] === 1) charPiece.set(corpus.chars[trie.at[seedNode[id]!]!]!, id);
  const final: [string, number][] = [];
  const taken = new Uint8Array(nSeeds);
  let penalty = 0;
  for (const [c] of requiredChars) {
    const id = charPiece.get(c);
    if (id !== undefined) {
      final.push([String.fromCodePoint(c), score[id]!]);
      taken[id] = 1;
    } else {
      final.push([String.fromCodePoint(c), f32(minScore + penalty)]);
      penalty = f32(penalty + SCORE_PENALTY_DELTA);
    }
  }
  const target = opts.vocabSize - metaCount;
  const byScore = order.slice().sort((a, b) => score[b]! - score[a]! || seedNode[a]! - seedNode[b]!);
  for (const id of byScore) {
    if (final.length === target) break;
    if (!taken[id]) final.push([textOf(id), score[id]!]);
  }
  return final.sort(byScoreThenText);
}
