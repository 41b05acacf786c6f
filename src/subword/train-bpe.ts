/**
 * SentencePiece's BPE trainer (bpe_model_trainer.cc of spm 0.1.97, the version Debian ships), in
 * TypeScript, making the same merges in the same order as `spm_train`:
 *
 * Words (split at `▁`, counted) start as sequences of character symbols. Every adjacent pair that
 * would make a valid piece is a candidate symbol that remembers where it occurs. spm does not look
 * at all candidates for each merge: every 100 merges it recounts the candidates and keeps the
 * most frequent 5% (at least 1000) as the "active" ones, and between recounts new pairs join
 * them; each merge takes the best active candidate (most frequent, then fewer characters, then
 * smaller string), replaces it everywhere, and it becomes the next piece with score −rank. Which
 * candidates are active matters for the rare merges, where many are equally frequent: spm keeps
 * them with std::partial_sort over its symbol cache in std::unordered_map order, and mt replays
 * both (./cxx-hash-map.ts, the cache keys being spm's 64-bit fingerprints of the pairs).
 *
 * Other spm details kept: a candidate's count is only recounted after it was reset to 0 (when a
 * merge touched one of its places), so a count can lag behind places added since; candidates
 * that no longer occur (count 0) are still merged once the others are used up, which is why small
 * corpora allow more pieces than there are pairs; the same string reached by different merges
 * ("aa"+"a", "a"+"aa") is kept once. The alphabet follows the merges.
 */
import { UserError } from '../errors.ts';
import { CxxHashMapOrder } from './cxx-hash-map.ts';
import { UNK_CHAR, codePoints, compareCodePoints, countWords, grownTo, isValidPiece, type TrainProgress, type TrainerOptions } from './trainer-common.ts';

const UPDATE_INTERVAL = 100;
const MIN_ACTIVE = 1000;
const TOP_FREQUENT_RATIO = Math.fround(0.05);

// Positions pack (word, left index, right index) into one double, in spm's order (sid << 32 |
// left << 16 | right): words < 2^21, indices < 2^16.
const encodePos = (sid: number, left: number, right: number) => sid * 4294967296 + left * 65536 + right;
const posSid = (p: number) => Math.floor(p / 4294967296);
const posLeft = (p: number) => Math.floor(p / 65536) % 65536;
const posRight = (p: number) => p % 65536;

/** 64-bit words as [hi, lo] uint32 pairs, for spm's port::FingerprintCat (Bob Jenkins' mix). */
export function fingerprintCat(xHi: number, xLo: number, yHi: number, yLo: number): [number, number] {
  let aH = xHi >>> 0;
  let aL = xLo >>> 0;
  let bH = 0xe08c1d66;
  let bL = 0x8b756f82;
  let cH = yHi >>> 0;
  let cL = yLo >>> 0;
  // x -= y
  const sub = (h: number, l: number, h2: number, l2: number): [number, number] => [(h - h2 - (l >>> 0 < l2 >>> 0 ? 1 : 0)) >>> 0, (l - l2) >>> 0];
  const shr = (h: number, l: number, n: number): [number, number] => (n >= 32 ? [0, h >>> (n - 32)] : [h >>> n, ((l >>> n) | (h << (32 - n))) >>> 0]);
  const shl = (h: number, l: number, n: number): [number, number] => (n >= 32 ? [(l << (n - 32)) >>> 0, 0] : [((h << n) | (l >>> (32 - n))) >>> 0, (l << n) >>> 0]);
  // The 12 lines of mix(a, b, c): a -= b; a -= c; a ^= c >> 43; b -= c; b -= a; b ^= a << 9; …
  const shifts = [43, 9, 8, 38, 23, 5, 35, 49, 11, 12, 18, 22];
  for (let k = 0; k < 12; k++) {
    const n = shifts[k]!;
    switch (k % 3) {
      case 0: {
        [aH, aL] = sub(aH, aL, bH, bL);
        [aH, aL] = sub(aH, aL, cH, cL);
        const [sH, sL] = shr(cH, cL, n);
        aH = (aH ^ sH) >>> 0;
        aL = (aL ^ sL) >>> 0;
        break;
      }
      case 1: {
        [bH, bL] = sub(bH, bL, cH, cL);
        [bH, bL] = sub(bH, bL, aH, aL);
        const [sH, sL] = shl(aH, aL, n);
        bH = (bH ^ sH) >>> 0;
        bL = (bL ^ sL) >>> 0;
        break;
      }
      default: {
        [cH, cL] = sub(cH, cL, aH, aL);
        [cH, cL] = sub(cH, cL, bH, bL);
        const [sH, sL] = shr(bH, bL, n);
        cH = (cH ^ sH) >>> 0;
        cL = (cL ^ sL) >>> 0;
      }
    }
  }
  return [cH, cL];
}

/** Returns the trained pieces (merges, then the alphabet) with their scores, best first. */
export function trainBpe(
  sentences: string[],
  requiredChars: [number, number][],
  metaCount: number,
  opts: TrainerOptions,
  progress?: TrainProgress,
): [string, number][] {
  const words = countWords(sentences);
  if (words.length >= 2 ** 21) {
    throw new UserError(`${words.length} distinct words are too many for the BPE trainer (at most 2097151); set subword.input_sentence_size to train on a sample`);
  }
  const wordFreq = words.map(([, f]) => f);
  const charCount = new Map(requiredChars);

  // Symbols: characters and pairs, in creation order (which stands for spm's allocation order).
  let cap = 1024;
  let left = new Int32Array(cap);
  let right = new Int32Array(cap);
  let freq = new Float64Array(cap);
  let isUnk = new Uint8Array(cap);
  let active = new Uint8Array(cap);
  let fpHi = new Uint32Array(cap);
  let fpLo = new Uint32Array(cap);
  const text: string[] = [];
  const chars: number[][] = [];
  const positions: number[][] = [];
  let sorted = new Uint8Array(cap);
  let nSymbols = 0;
  function newSymbol(): number {
    if (nSymbols === cap) {
      cap *= 2;
      const grow = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(a: T): T => grownTo(a, cap);
      left = grow(left);
      right = grow(right);
      freq = grow(freq);
      isUnk = grow(isUnk);
      active = grow(active);
      fpHi = grow(fpHi);
      fpLo = grow(fpLo);
      sorted = grow(sorted);
    }
    positions.push([]);
    sorted[nSymbols] = 1;
    return nSymbols++;
  }

  /** spm's symbols_cache_: its iteration order; and lookups by character or by pair. */
  const cache = new CxxHashMapOrder();
  const charSymbol = new Map<number, number>();
  const pairSymbol = new Map<number, number>();
  const invalidPairs = new Set<number>();
  const pairKey = (l: number, r: number) => l * 67108864 + r;

  function getCharSymbol(c: number): number {
    let id = charSymbol.get(c);
    if (id !== undefined) return id;
    id = newSymbol();
    left[id] = -1;
    right[id] = -1;
    freq[id] = charCount.get(c) ?? 1;
    isUnk[id] = c === UNK_CHAR ? 1 : 0;
    fpHi[id] = 0;
    fpLo[id] = c;
    text.push(String.fromCodePoint(c));
    chars.push([c]);
    charSymbol.set(c, id);
    cache.insert(id, 0, c);
    return id;
  }

  /** The pair symbol for (l, r), created on first sight; −1 when the pair is no valid piece. */
  function getPairSymbol(l: number, r: number): number {
    if (l < 0 || r < 0 || isUnk[l] || isUnk[r]) return -1;
    const key = pairKey(l, r);
    const known = pairSymbol.get(key);
    if (known !== undefined) return known;
    if (invalidPairs.has(key)) return -1;
    const cps = chars[l]!.concat(chars[r]!);
    if (!isValidPiece(cps, 0, cps.length, opts)) {
      invalidPairs.add(key);
      return -1;
    }
    const id = newSymbol();
    left[id] = l;
    right[id] = r;
    freq[id] = 0;
    isUnk[id] = 0;
    const [h, lo] = fingerprintCat(fpHi[l]!, fpLo[l]!, fpHi[r]!, fpLo[r]!);
    fpHi[id] = h;
    fpLo[id] = lo;
    text.push(text[l]! + text[r]!);
    chars.push(cps);
    pairSymbol.set(key, id);
    cache.insert(id, h, lo);
    return id;
  }

  function eraseFromCache(id: number) {
    cache.erase(id);
    pairSymbol.delete(pairKey(left[id]!, right[id]!));
  }

  // The symbols of each word; −1 where a symbol was merged into its left neighbour.
  const wordSymbols: Int32Array[] = words.map(([w]) => Int32Array.from(codePoints(w), getCharSymbol));

  /** The places of symbol id, sorted and without repeats (spm keeps them in a std::set). */
  function placesOf(id: number): number[] {
    const p = positions[id]!;
    if (!sorted[id]) {
      p.sort((x, y) => x - y);
      let n = 0;
      for (let i = 0; i < p.length; i++) if (i === 0 || p[i] !== p[i - 1]) p[n++] = p[i]!;
      p.length = n;
      sorted[id] = 1;
    }
    return p;
  }

  /**
   * spm's ComputeFreq: recount only when the count was reset to 0, dropping stale places, and
   * places that overlap the previous one ("AAA" counts "AA" once; 0.1.97 drops the second place).
   */
  function computeFreq(id: number) {
    if (freq[id]! > 0) return;
    const p = placesOf(id);
    const l = left[id]!;
    const r = right[id]!;
    let f = 0;
    let kept = 0;
    let prevSid = -1;
    let prevRight = 0;
    for (const pos of p) {
      const sid = posSid(pos);
      const ws = wordSymbols[sid]!;
      const pl = posLeft(pos);
      if ((sid === prevSid && pl === prevRight) || ws[pl] !== l || ws[posRight(pos)] !== r) {
        prevSid = -1;
        prevRight = 0;
        continue;
      }
      f += wordFreq[sid]!;
      p[kept++] = pos;
      prevSid = sid;
      prevRight = posRight(pos);
    }
    p.length = kept;
    freq[id] = f;
  }

  // The active symbols, ordered for picking: a max-heap of (symbol, count when pushed) on
  // (count desc, length asc, string asc, creation asc), stale entries skipped. Active symbols
  // with count 0 are recounted before each pick, as spm's scan does.
  let heapSym: number[] = [];
  let heapFreq: number[] = [];
  let zero: number[] = [];
  function better(a: number, fa: number, b: number, fb: number): boolean {
    if (fa !== fb) return fa > fb;
    const la = chars[a]!.length;
    const lb = chars[b]!.length;
    if (la !== lb) return la < lb;
    const c = compareCodePoints(text[a]!, text[b]!);
    return c !== 0 ? c < 0 : a < b;
  }
  function heapPush(id: number) {
    const f = freq[id]!;
    let i = heapSym.length;
    heapSym.push(id);
    heapFreq.push(f);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!better(id, f, heapSym[parent]!, heapFreq[parent]!)) break;
      heapSym[i] = heapSym[parent]!;
      heapFreq[i] = heapFreq[parent]!;
      i = parent;
    }
    heapSym[i] = id;
    heapFreq[i] = f;
  }
  function heapPop() {
    const id = heapSym.pop()!;
    const f = heapFreq.pop()!;
    const n = heapSym.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      let m = l;
      if (l + 1 < n && better(heapSym[l + 1]!, heapFreq[l + 1]!, heapSym[l]!, heapFreq[l]!)) m = l + 1;
      if (!better(heapSym[m]!, heapFreq[m]!, id, f)) break;
      heapSym[i] = heapSym[m]!;
      heapFreq[i] = heapFreq[m]!;
      i = m;
    }
    heapSym[i] = id;
    heapFreq[i] = f;
  }
  function activate(id: number) {
    if (active[id]) return;
    active[id] = 1;
    if (freq[id]! > 0) heapPush(id);
    else zero.push(id);
  }

  function addNewPair(sid: number, l: number, r: number) {
    if (l < 0 || r < 0) return;
    const ws = wordSymbols[sid]!;
    const id = getPairSymbol(ws[l]!, ws[r]!);
    if (id < 0) return;
    activate(id);
    positions[id]!.push(encodePos(sid, l, r));
    sorted[id] = 0;
    if (freq[id] === 0) zero.push(id);
  }
  function resetFreq(sid: number, l: number, r: number, best: number) {
    if (l < 0 || r < 0) return;
    const ws = wordSymbols[sid]!;
    const id = getPairSymbol(ws[l]!, ws[r]!);
    if (id >= 0 && id !== best) {
      freq[id] = 0;
      if (active[id]) zero.push(id);
    }
  }
  function nextIndex(ws: Int32Array, i: number) {
    for (let k = i + 1; k < ws.length; k++) if (ws[k]! >= 0) return k;
    return -1;
  }
  function prevIndex(ws: Int32Array, i: number) {
    for (let k = i - 1; k >= 0; k--) if (ws[k]! >= 0) return k;
    return -1;
  }

  /**
   * spm's UpdateActiveSymbols: recount every pair in the cache, in the cache's order, and keep
   * the first `size` of std::partial_sort by count (libstdc++'s heap selection decides ties).
   */
  let inOrder = new Int32Array(0);
  function updateActiveSymbols() {
    if (inOrder.length < cache.size) inOrder = new Int32Array(2 * cache.size);
    const n = cache.order(inOrder);
    const list: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = inOrder[i]!;
      if (left[id]! < 0) continue;
      if (freq[id] === 0) computeFreq(id);
      list.push(id);
    }
    const size = Math.min(Math.max(MIN_ACTIVE, Math.trunc(Math.fround(Math.fround(cache.size) * TOP_FREQUENT_RATIO))), list.length);
    heapSelect(list, size, freq);
    for (let id = 0; id < nSymbols; id++) active[id] = 0;
    heapSym = [];
    heapFreq = [];
    zero = [];
    for (let i = 0; i < size; i++) {
      const id = list[i]!;
      active[id] = 1;
      heapPush(id);
    }
  }

  /** The best active symbol (−1: none), after recounting the active symbols whose count is 0. */
  function pickBest(): number {
    for (const id of zero) {
      if (!active[id] || freq[id] !== 0) continue;
      computeFreq(id);
      heapPush(id);
    }
    zero = [];
    while (heapSym.length > 0) {
      const id = heapSym[0]!;
      if (active[id] && heapFreq[0] === freq[id]) return id;
      heapPop();
    }
    return -1;
  }

  for (let sid = 0; sid < wordSymbols.length; sid++) {
    for (let i = 1; i < wordSymbols[sid]!.length; i++) addNewPair(sid, i - 1, i);
  }

  const target = opts.vocabSize - metaCount - requiredChars.length;
  const pieces: [string, number][] = [];
  const seen = new Set<string>();
  while (pieces.length < target) {
    if (pieces.length % UPDATE_INTERVAL === 0) updateActiveSymbols();
    const best = pickBest();
    if (best < 0) break;
    heapPop();
    const piece = text[best]!;
    if (seen.has(piece)) {
      eraseFromCache(best);
      active[best] = 0;
      continue;
    }
    seen.add(piece);
    pieces.push([piece, -pieces.length]);
    if (progress && pieces.length % 100 === 0) progress('merges', pieces.length, target);

    // Replace the pair by the merged symbol at each of its places, in position order.
    for (const pos of placesOf(best)) {
      const sid = posSid(pos);
      const l = posLeft(pos);
      const r = posRight(pos);
      const ws = wordSymbols[sid]!;
      // The left symbol may be gone already when left and right are the same symbol ("aaa").
      if (ws[l]! < 0) continue;
      const next = nextIndex(ws, r);
      const prev = prevIndex(ws, l);
      resetFreq(sid, prev, l, best);
      resetFreq(sid, r, next, best);
      ws[l] = best;
      ws[r] = -1;
      addNewPair(sid, prev, l);
      addNewPair(sid, l, next);
    }
    eraseFromCache(best);
    active[best] = 0;
  }
  progress?.('merges', pieces.length, target);

  for (const [c] of requiredChars) pieces.push([String.fromCodePoint(c), -pieces.length]);
  return pieces;
}

/**
 * The first `size` entries of `list` after libstdc++'s std::__heap_select with "count greater"
 * as the order (the set std::partial_sort keeps): a heap of the first `size`, whose root — the
 * smallest count — is replaced by each later entry with a strictly larger count.
 */
function heapSelect(list: number[], size: number, freq: Float64Array): void {
  const less = (a: number, b: number) => freq[a]! > freq[b]!;
  function adjust(hole0: number, len: number, value: number) {
    let hole = hole0;
    const top = hole0;
    let child = hole;
    while (child < (len - 1) >> 1) {
      child = 2 * (child + 1);
      if (less(list[child]!, list[child - 1]!)) child--;
      list[hole] = list[child]!;
      hole = child;
    }
    if ((len & 1) === 0 && child === (len - 2) >> 1) {
      child = 2 * (child + 1);
      list[hole] = list[child - 1]!;
      hole = child - 1;
    }
    let parent = (hole - 1) >> 1;
    while (hole > top && less(list[parent]!, value)) {
      list[hole] = list[parent]!;
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    list[hole] = value;
  }
  if (size >= 2) {
    for (let parent = (size - 2) >> 1; ; parent--) {
      adjust(parent, size, list[parent]!);
      if (parent === 0) break;
    }
  }
  for (let i = size; i < list.length; i++) {
    if (size > 0 && less(list[i]!, list[0]!)) {
      const value = list[i]!;
      list[i] = list[0]!;
      adjust(0, size, value);
    }
  }
}
