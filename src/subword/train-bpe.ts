/**
 * SentencePiece's BPE trainer (bpe_model_trainer), in TypeScript.
 *
 * Words (split at `▁`, counted) start as sequences of character symbols. Every adjacent pair
 * that would make a valid piece is a candidate symbol with the positions where it occurs; the
 * most frequent candidate (ties: shorter, then smaller string) is merged everywhere, its
 * neighbours' pairs are updated, and it becomes the next piece with score −rank. Frequencies are
 * recomputed lazily from the positions, with a max-heap whose stale entries are skipped, so each
 * merge only touches the places it changes. The alphabet is appended after the merges.
 */
import { UserError } from '../errors.ts';
import { UNK_CHAR, codePoints, countWords, isValidPiece, type TrainProgress, type TrainerOptions } from './trainer-common.ts';

interface PairSymbol {
  left: number;
  right: number;
  chars: number[];
  text: string;
  freq: number;
  stale: boolean;
  /** Encoded (word, left index, right index) places where this pair may still occur. */
  positions: number[];
  active: boolean;
  pending: boolean;
}

interface HeapEntry {
  freq: number;
  sym: number;
}

// Positions pack (word, left, right) into one double: words < 2^21, indices < 2^16.
const encodePos = (sid: number, left: number, right: number) => sid * 4294967296 + left * 65536 + right;
const posSid = (p: number) => Math.floor(p / 4294967296);
const posLeft = (p: number) => Math.floor(p / 65536) % 65536;
const posRight = (p: number) => p % 65536;

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

  // Symbols 0..k-1 are characters; pairs are appended as they appear.
  const symbols: PairSymbol[] = [];
  const charSymbol = new Map<number, number>();
  const getCharSymbol = (c: number): number => {
    let id = charSymbol.get(c);
    if (id === undefined) {
      id = symbols.length;
      symbols.push({ left: -1, right: -1, chars: [c], text: String.fromCodePoint(c), freq: 0, stale: false, positions: [], active: false, pending: false });
      charSymbol.set(c, id);
    }
    return id;
  };
  const isUnk = (id: number) => symbols[id]!.chars.length === 1 && symbols[id]!.chars[0] === UNK_CHAR;

  // The symbols of each word; -1 where a symbol was merged into its left neighbour.
  const wordSymbols: Int32Array[] = words.map(([w]) => Int32Array.from(codePoints(w), getCharSymbol));

  const pairIds = new Map<number, number>();
  const pairKey = (l: number, r: number) => l * 67108864 + r;
  /** The pair symbol for (l, r), created on first sight; -1 when the pair is no valid piece. */
  const getPair = (l: number, r: number): number => {
    if (l < 0 || r < 0 || isUnk(l) || isUnk(r)) return -1;
    const key = pairKey(l, r);
    const known = pairIds.get(key);
    if (known !== undefined) return known;
    const chars = symbols[l]!.chars.concat(symbols[r]!.chars);
    let id = -1;
    if (isValidPiece(chars, 0, chars.length, opts)) {
      id = symbols.length;
      symbols.push({ left: l, right: r, chars, text: symbols[l]!.text + symbols[r]!.text, freq: 0, stale: true, positions: [], active: true, pending: false });
    }
    pairIds.set(key, id);
    return id;
  };

  const pending: number[] = [];
  const addPair = (sid: number, left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const ws = wordSymbols[sid]!;
    const id = getPair(ws[left]!, ws[right]!);
    if (id < 0) return;
    const s = symbols[id]!;
    s.positions.push(encodePos(sid, left, right));
    if (!s.pending) {
      s.pending = true;
      pending.push(id);
    }
  };
  const markStale = (sid: number, left: number, right: number, best: number) => {
    if (left < 0 || right < 0) return;
    const ws = wordSymbols[sid]!;
    const id = pairIds.get(pairKey(ws[left]!, ws[right]!));
    if (id !== undefined && id >= 0 && id !== best) symbols[id]!.stale = true;
  };
  /** Recount a pair from its positions, dropping those where it no longer occurs. */
  const computeFreq = (id: number) => {
    const s = symbols[id]!;
    if (!s.stale) return;
    let freq = 0;
    let kept = 0;
    for (const p of s.positions) {
      const sid = posSid(p);
      const ws = wordSymbols[sid]!;
      if (ws[posLeft(p)] === s.left && ws[posRight(p)] === s.right) {
        freq += wordFreq[sid]!;
        s.positions[kept++] = p;
      }
    }
    s.positions.length = kept;
    s.freq = freq;
    s.stale = false;
  };
  const nextIndex = (ws: Int32Array, i: number) => {
    for (let k = i + 1; k < ws.length; k++) if (ws[k]! >= 0) return k;
    return -1;
  };
  const prevIndex = (ws: Int32Array, i: number) => {
    for (let k = i - 1; k >= 0; k--) if (ws[k]! >= 0) return k;
    return -1;
  };

  // Max-heap on (freq desc, length asc, text asc): spm's choice among equally frequent pairs.
  const heap: HeapEntry[] = [];
  const better = (a: HeapEntry, b: HeapEntry) => {
    if (a.freq !== b.freq) return a.freq > b.freq;
    const sa = symbols[a.sym]!;
    const sb = symbols[b.sym]!;
    if (sa.chars.length !== sb.chars.length) return sa.chars.length < sb.chars.length;
    return sa.text < sb.text;
  };
  const push = (e: HeapEntry) => {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!better(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const pop = (): HeapEntry => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && better(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && better(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  const flushPending = () => {
    for (const id of pending) {
      const s = symbols[id]!;
      s.pending = false;
      if (s.active) {
        computeFreq(id);
        push({ freq: s.freq, sym: id });
      }
    }
    pending.length = 0;
  };

  for (let sid = 0; sid < wordSymbols.length; sid++) {
    for (let i = 1; i < wordSymbols[sid]!.length; i++) addPair(sid, i - 1, i);
  }
  flushPending();

  const target = opts.vocabSize - metaCount - requiredChars.length;
  const pieces: [string, number][] = [];
  const seen = new Set<string>();
  while (pieces.length < target) {
    let best = -1;
    while (heap.length > 0) {
      const e = pop();
      const s = symbols[e.sym]!;
      if (!s.active || e.freq !== s.freq) continue;
      if (s.stale) {
        computeFreq(e.sym);
        push({ freq: s.freq, sym: e.sym });
        continue;
      }
      best = e.sym;
      break;
    }
    if (best < 0 || symbols[best]!.freq === 0) break;
    const b = symbols[best]!;
    b.active = false;
    pairIds.delete(pairKey(b.left, b.right));
    // The same string can arise from different splits ("aa"+"a", "a"+"aa"): keep the first.
    if (seen.has(b.text)) continue;
    seen.add(b.text);
    pieces.push([b.text, -pieces.length]);
    if (progress && pieces.length % 100 === 0) progress('merges', pieces.length, target);

    // Replace the pair by the merged symbol everywhere, in position order as spm does.
    const positions = b.positions.sort((x, y) => x - y);
    for (const p of positions) {
      const sid = posSid(p);
      const left = posLeft(p);
      const right = posRight(p);
      const ws = wordSymbols[sid]!;
      // An overlapping occurrence ("aaa") may already have consumed this one.
      if (ws[left] !== b.left || ws[right] !== b.right) continue;
      const prev = prevIndex(ws, left);
      const next = nextIndex(ws, right);
      markStale(sid, prev, left, best);
      markStale(sid, right, next, best);
      ws[left] = best;
      ws[right] = -1;
      addPair(sid, prev, left);
      addPair(sid, left, next);
    }
    b.positions = [];
    flushPending();
  }
  progress?.('merges', pieces.length, target);

  for (const [c] of requiredChars) pieces.push([String.fromCodePoint(c), -pieces.length]);
  return pieces;
}
