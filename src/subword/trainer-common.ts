/**
 * What SentencePiece's BPE and unigram trainers share (spm's trainer_interface): loading and
 * normalizing sentences, choosing the alphabet by character coverage, the rules a piece must
 * follow, splitting into words, the special pieces at fixed ids, and assembling the `.model`.
 */
import { MIN_VOCAB_SIZE } from '../config/sections/subword.ts';
import { UserError } from '../errors.ts';
import { nmtNfkcCharsmapBlob } from '../text/normalize.ts';
import { mulberry32 } from '../util/random.ts';
import { PieceType, type ModelProto, type TrainerSpec } from './model-proto.ts';
import { DEFAULT_WHITESPACE, normalizeForModel } from './normalize.ts';
import { Script, scriptOf } from './unicode-script.ts';

/** A local binding: run through tsx, an imported function is read through a getter at every call. */
const scriptOfChar = scriptOf;

/** U+2581 `▁`: a space inside pieces. */
export const WS_CHAR = 0x2581;
/** U+2585: stands for characters outside the alphabet while training (never inside a piece). */
export const UNK_CHAR = 0x2585;
/** Special pieces in the training text are replaced by a tab, which no piece may contain. */
const BOUNDARY_CHAR = 0x09;
/** spm skips training lines longer than this many bytes (its max_sentence_length default). */
const MAX_SENTENCE_BYTES = 4192;

export interface TrainerOptions {
  type: 'bpe' | 'unigram';
  vocabSize: number;
  characterCoverage: number;
  maxPieceLength: number;
  splitDigits: boolean;
  userDefinedSymbols: string[];
  /** Train on a seeded random sample of this many sentences (0 = all). */
  inputSentenceSize: number;
  seed: number;
  padId: number;
  unkId: number;
  bosId: number;
  eosId: number;
  /** Recorded in the model's trainer spec, as spm records its --input. */
  inputs: string[];
  modelPrefix: string;
}

/** Reports progress of the long phases: `done` out of `total` steps of `phase`. */
export type TrainProgress = (phase: string, done: number, total: number) => void;

/**
 * Compare two strings by code points, as C++ compares their UTF-8 bytes (std::string's `<`).
 * JavaScript's `<` compares UTF-16 code units, which orders U+E000–U+FFFF after astral
 * characters; this does not.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

/** Surrogates (astral characters) sort after U+E000–U+FFFF, as their code points do. */
function codeUnitRank(u: number): number {
  return u < 0xd800 ? u : u < 0xe000 ? u + 0x2000 : u - 0x800;
}

/** Code points of a string. */
export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i)!;
    out.push(cp);
    if (cp > 0xffff) i++;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Piece rules

/**
 * spm's IsValidSentencePiece with the default settings (split by whitespace, by script and by
 * number): at most maxPieceLength characters; `▁` only as the first character; no unknown or
 * boundary character; one script per piece, where Hiragana/Katakana count as Han, combining marks
 * take the script of the character before them, and digits are Common (so "1a" is not a piece);
 * with splitDigits, a digit only stands alone.
 * Validity is prefix-closed: if a piece is invalid, so is every longer piece starting with it.
 */
export function isValidPiece(cps: ArrayLike<number>, start: number, end: number, opts: TrainerOptions): boolean {
  return end > start && validPrefixLength(cps, start, end, opts) === end - start;
}

/** The length of the longest valid piece cps[start..start+n), n ≤ end − start (0: none). */
export function validPrefixLength(cps: ArrayLike<number>, start: number, end: number, opts: TrainerOptions): number {
  const stop = Math.min(end, start + opts.maxPieceLength);
  let prev = -1;
  for (let k = start; k < stop; k++) {
    const c = cps[k]!;
    if (c === UNK_CHAR || c === 0 || c === BOUNDARY_CHAR || c === 0x20) return k - start;
    if (c === WS_CHAR) {
      if (k > start) return k - start;
      continue;
    }
    // With splitDigits a digit only stands alone: "1" is a piece, "12" and "a1" are not.
    if (opts.splitDigits && c >= 0x30 && c <= 0x39) return k > start ? k - start : 1;
    let s = scriptOfChar(c);
    if (s === Script.Hiragana || s === Script.Katakana || c === 0x30fc) s = Script.Han;
    else if (s === Script.Inherited) s = prev;
    if (s !== -1 && prev !== -1 && s !== prev) return k - start;
    prev = s;
  }
  return stop - start;
}

// ---------------------------------------------------------------------------------------------
// Special pieces

export interface MetaPiece {
  piece: string;
  type: PieceType;
}

/**
 * The pieces at fixed ids: <unk>, <s>, </s>, <pad> at their configured ids, then the user-defined
 * symbols at the lowest free ids (spm's InitMetaPieces).
 */
export function metaPieces(opts: TrainerOptions): Map<number, MetaPiece> {
  const meta = new Map<number, MetaPiece>();
  const fixed: [string, number, string, PieceType][] = [
    ['unk_id', opts.unkId, '<unk>', PieceType.UNKNOWN],
    ['bos_id', opts.bosId, '<s>', PieceType.CONTROL],
    ['eos_id', opts.eosId, '</s>', PieceType.CONTROL],
    ['pad_id', opts.padId, '<pad>', PieceType.CONTROL],
  ];
  for (const [key, id, piece, type] of fixed) {
    if (id >= opts.vocabSize) throw new UserError(`subword.${key}: ${id} is not below subword.vocab_size (${opts.vocabSize})`);
    const taken = meta.get(id);
    if (taken) throw new UserError(`subword.${key}: id ${id} is already used by ${taken.piece}`);
    meta.set(id, { piece, type });
  }
  const seen = new Set([...meta.values()].map((m) => m.piece));
  let id = 0;
  for (const sym of opts.userDefinedSymbols) {
    if (seen.has(sym)) throw new UserError(`subword.user_defined_symbols: ${JSON.stringify(sym)} is listed twice or is a special piece`);
    seen.add(sym);
    while (meta.has(id)) id++;
    meta.set(id, { piece: sym, type: PieceType.USER_DEFINED });
  }
  return meta;
}

// ---------------------------------------------------------------------------------------------
// Sentences

export interface TrainingCorpus {
  /** Normalized sentences (`▁` for spaces, dummy prefix) with rare characters replaced by UNK_CHAR. */
  sentences: string[];
  /** The alphabet: [code point, count], most frequent first (spm's required_chars). */
  requiredChars: [number, number][];
}

const utf8 = new TextEncoder();

/** Replace every occurrence of a special piece by the boundary character (spm's GlobalReplace). */
function maskSpecialPieces(text: string, pieces: string[]): string {
  if (!text.includes('<') && pieces.every((p) => p.startsWith('<'))) return text;
  if (!pieces.some((p) => text.includes(p))) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    let match = 0;
    for (const p of pieces) if (p.length > match && text.startsWith(p, i)) match = p.length;
    if (match > 0) {
      out += '\t';
      i += match;
    } else {
      const cp = text.codePointAt(i)!;
      const n = cp > 0xffff ? 2 : 1;
      out += text.slice(i, i + n);
      i += n;
    }
  }
  return out;
}

/**
 * spm's LoadSentences: sample, normalize (nmt_nfkc + whitespace), mask special pieces, count
 * characters, keep the most frequent ones up to `characterCoverage` of all characters as the
 * alphabet, and replace the rest by UNK_CHAR.
 */
export function loadSentences(lines: string[], opts: TrainerOptions, meta: Map<number, MetaPiece>): TrainingCorpus {
  let chosen = lines;
  if (opts.inputSentenceSize > 0 && lines.length > opts.inputSentenceSize) {
    // Reservoir sampling, as spm does when input_sentence_size is set; seeded so that it is reproducible.
    const rand = mulberry32(opts.seed);
    chosen = lines.slice(0, opts.inputSentenceSize);
    for (let i = opts.inputSentenceSize; i < lines.length; i++) {
      const j = Math.floor(rand() * (i + 1));
      if (j < opts.inputSentenceSize) chosen[j] = lines[i]!;
    }
  }
  const normalized = normalizeSentences(chosen, [...meta.values()].map((m) => m.piece));
  const { byFrequency, all } = countCharacters(normalized);
  const requiredChars: [number, number][] = [];
  let covered = 0;
  // spm compares in float32; so do we, so that coverage 1.0 keeps every character.
  const target = Math.fround(opts.characterCoverage);
  for (const [c, n] of byFrequency) {
    if (Math.fround(covered / all) >= target) break;
    covered += n;
    if (c !== BOUNDARY_CHAR) requiredChars.push([c, n]);
  }
  const metaCount = meta.size;
  if (requiredChars.length + metaCount > opts.vocabSize) {
    throw new UserError(
      `subword.vocab_size: ${opts.vocabSize} is smaller than the alphabet (${requiredChars.length} characters + ${metaCount} special pieces); increase it or lower subword.character_coverage`,
    );
  }
  if (requiredChars.length === byFrequency.length) return { sentences: normalized, requiredChars };
  const alphabet = new Set(requiredChars.map(([c]) => c));
  const sentences = normalized.map((s) => {
    const cps = codePoints(s);
    let rare = false;
    for (let k = 0; k < cps.length; k++) {
      if (!alphabet.has(cps[k]!)) {
        cps[k] = UNK_CHAR;
        rare = true;
      }
    }
    return rare ? String.fromCodePoint(...cps) : s;
  });
  return { sentences, requiredChars };
}

/** The lines spm trains on, normalized (empty ones, too long ones and those with UNK_CHAR left out). */
function normalizeSentences(lines: string[], specials: string[]): string[] {
  const unkStr = String.fromCodePoint(UNK_CHAR);
  const normalized: string[] = [];
  for (const line of lines) {
    if (line.length === 0 || line.includes(unkStr)) continue;
    if (line.length * 3 > MAX_SENTENCE_BYTES && utf8.encode(line).length > MAX_SENTENCE_BYTES) continue;
    const s = maskSpecialPieces(normalizeForModel(line, DEFAULT_WHITESPACE), specials);
    if (s.length > 0) normalized.push(s);
  }
  return normalized;
}

/** Each character with its count, most frequent first (then by code point), and the total. */
function countCharacters(sentences: string[]): { byFrequency: [number, number][]; all: number } {
  // An array for the Basic Multilingual Plane, a Map for the rest.
  const bmp = new Float64Array(0x10000);
  const astral = new Map<number, number>();
  let all = 0;
  for (const s of sentences) {
    for (let i = 0; i < s.length; i++) {
      const c = s.codePointAt(i)!;
      if (c > 0xffff) {
        i++;
        astral.set(c, (astral.get(c) ?? 0) + 1);
      } else if (c !== 0) bmp[c]!++;
      else continue;
      all++;
    }
  }
  const counts: [number, number][] = [];
  for (let c = 0; c < 0x10000; c++) if (bmp[c]! > 0) counts.push([c, bmp[c]!]);
  counts.push(...astral);
  return { byFrequency: counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]), all };
}

/** The distinct words of the sentences, in order of first appearance, with their counts. */
export interface WordTable {
  words: string[];
  /** How often each word is followed by another word (`▁`), and how often it ends a sentence. */
  beforeSpace: number[];
  atEnd: number[];
}

/**
 * spm's SplitIntoWords on every sentence: a new word starts at every `▁` (and at the start).
 * Words are found in an open-addressing table hashed on their UTF-16 units, so that only new
 * words become strings (a Map would need a substring per word token).
 */
export function tableWords(sentences: string[]): WordTable {
  const words: string[] = [];
  const beforeSpace: number[] = [];
  const atEnd: number[] = [];
  // Room for 32k words before the table grows (Korean 8k lines: 25k distinct words).
  let slots = new Int32Array(1 << 16).fill(-1);
  let hashes: number[] = [];
  const place = (h: number, id: number) => {
    const mask = slots.length - 1;
    let k = h & mask;
    while (slots[k] !== -1) k = (k + 1) & mask;
    slots[k] = id;
  };
  for (const s of sentences) {
    let start = 0;
    let h = 0x811c9dc5;
    for (let i = 0; i <= s.length; i++) {
      const u = i < s.length ? s.charCodeAt(i) : -1;
      if (i > start && (u === -1 || u === 0x2581)) {
        // The word s[start, i): find it (hash h) or add it.
        const len = i - start;
        const mask = slots.length - 1;
        let k = h & mask;
        let id = -1;
        for (;;) {
          const cand = slots[k]!;
          if (cand === -1) break;
          if (hashes[cand] === h) {
            const w = words[cand]!;
            if (w.length === len) {
              let same = true;
              for (let j = 0; j < len; j++) {
                if (w.charCodeAt(j) !== s.charCodeAt(start + j)) {
                  same = false;
                  break;
                }
              }
              if (same) {
                id = cand;
                break;
              }
            }
          }
          k = (k + 1) & mask;
        }
        if (id < 0) {
          id = words.length;
          words.push(s.slice(start, i));
          hashes.push(h);
          beforeSpace.push(0);
          atEnd.push(0);
          if (2 * words.length > slots.length) {
            slots = new Int32Array(slots.length * 2).fill(-1);
            for (let j = 0; j < words.length; j++) place(hashes[j]!, j);
          } else slots[k] = id;
        }
        if (u === -1) atEnd[id]!++;
        else beforeSpace[id]!++;
        start = i;
        h = 0x811c9dc5;
      }
      h = Math.imul(h ^ u, 0x01000193);
    }
  }
  hashes = [];
  return { words, beforeSpace, atEnd };
}

/**
 * The distinct words with their frequencies, most frequent first, then in code point order
 * (spm's SplitSentencesByWhitespace: Sorted, which compares UTF-8 bytes).
 */
export function countWords(sentences: string[]): [string, number][] {
  const { words, beforeSpace, atEnd } = tableWords(sentences);
  return words.map((w, i): [string, number] => [w, beforeSpace[i]! + atEnd[i]!]).sort((a, b) => b[1] - a[1] || compareCodePoints(a[0], b[0]));
}

// ---------------------------------------------------------------------------------------------
// The model

/**
 * Assemble the ModelProto as spm's Serialize does: special pieces at their ids, the trained
 * pieces (with scores) filling the other ids in order, the trainer and normalizer specs.
 */
export function buildModel(opts: TrainerOptions, meta: Map<number, MetaPiece>, trained: [string, number][]): ModelProto {
  const total = meta.size + trained.length;
  if (total < opts.vocabSize) {
    // Below the schema's minimum a smaller vocab_size is no advice: only more characters help.
    const fix =
      total >= MIN_VOCAB_SIZE
        ? `set subword.vocab_size to ${total} or less`
        : opts.characterCoverage < 1
          ? `raise subword.character_coverage (now ${opts.characterCoverage}); subword.vocab_size cannot go below ${MIN_VOCAB_SIZE}`
          : `train on more text; subword.vocab_size cannot go below ${MIN_VOCAB_SIZE}`;
    throw new UserError(`subword.vocab_size: ${opts.vocabSize} is too large for this corpus: at most ${total} pieces can be made (${fix})`);
  }
  const pieces: ModelProto['pieces'] = [];
  let next = 0;
  for (let id = 0; id < opts.vocabSize; id++) {
    const m = meta.get(id);
    if (m) pieces.push({ piece: m.piece, score: 0, type: m.type });
    else {
      const [piece, score] = trained[next++]!;
      pieces.push({ piece, score, type: PieceType.NORMAL });
    }
  }
  const trainerSpec: TrainerSpec = {
    input: opts.inputs,
    modelPrefix: opts.modelPrefix,
    modelType: opts.type,
    vocabSize: opts.vocabSize,
    selfTestSampleSize: 0,
    inputFormat: '',
    characterCoverage: opts.characterCoverage,
    inputSentenceSize: opts.inputSentenceSize,
    seedSentencepieceSize: 1_000_000,
    shrinkingFactor: 0.75,
    numThreads: 1,
    numSubIterations: 2,
    maxSentenceLength: MAX_SENTENCE_BYTES,
    shuffleInputSentence: true,
    maxSentencepieceLength: opts.maxPieceLength,
    splitByUnicodeScript: true,
    splitByWhitespace: true,
    splitByNumber: true,
    treatWhitespaceAsSuffix: false,
    splitDigits: opts.splitDigits,
    allowWhitespaceOnlyPieces: false,
    userDefinedSymbols: opts.userDefinedSymbols,
    vocabularyOutputPieceScore: true,
    hardVocabLimit: true,
    useAllVocab: false,
    byteFallback: false,
    requiredChars: '',
    unkId: opts.unkId,
    bosId: opts.bosId,
    eosId: opts.eosId,
    padId: opts.padId,
    unkSurface: ' \u2047 ',
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
    trainExtremelyLargeCorpus: false,
  };
  return {
    pieces,
    trainerSpec,
    normalizerSpec: {
      name: 'nmt_nfkc',
      precompiledCharsmap: nmtNfkcCharsmapBlob(),
      addDummyPrefix: true,
      removeExtraWhitespaces: true,
      escapeWhitespaces: true,
      normalizationRuleTsv: '',
    },
  };
}

/**
 * A number as C's `%g` prints it (6 significant digits, trailing zeros dropped), which is how
 * spm_export_vocab and spm_train write scores (`ostream << float`). The decimal digits come from
 * the exact binary value, rounded half to even as glibc does, so −8.953125 is "-8.95312" — not
 * "-8.95313" as JavaScript's toFixed/toPrecision (half away from zero) would print it.
 */
export function formatG(x: number, precision = 6): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0`;
  // JavaScript rounds the exact value half away from zero, which differs from half to even only
  // on an exact tie: take its digits unless the digits after them are 5000… (a tie shows as a
  // last digit 5 with one digit more, so only then are 20 digits worth asking for).
  const a = Math.abs(x);
  if (a.toExponential(precision)[precision + 1] !== '5' || !isFiveThenZeros(a.toExponential(19), precision + 1)) {
    const short = a.toExponential(precision - 1);
    const e = short.indexOf('e');
    return formatDigits(sign, short[0]! + short.slice(2, e), Number(short.slice(e + 1)), precision);
  }
  // |x| = digits × 10^q exactly.
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const bits = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(bits);
  let e2 = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    e2 = biased - 1075;
  }
  let digits = e2 >= 0 ? mantissa << BigInt(e2) : mantissa * 5n ** BigInt(-e2);
  let q = e2 >= 0 ? 0 : e2;
  let text = digits.toString();
  // Round to `precision` significant digits, half to even (ties are exact here).
  let exponent = text.length - 1 + q;
  if (text.length > precision) {
    const divisor = 10n ** BigInt(text.length - precision);
    let kept = digits / divisor;
    const rest = digits % divisor;
    const half = divisor / 2n;
    if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
    q += text.length - precision;
    digits = kept;
    text = digits.toString();
    if (text.length > precision) {
      // 999999.5 → 1000000: one digit more, one place up.
      text = text.slice(0, precision);
      q += 1;
    }
    exponent = text.length - 1 + q;
  }
  return formatDigits(sign, text, exponent, precision);
}

/** Whether `long` (d.ddd…e±x) has a 5 at index `at` and only zeros after it, before the exponent. */
function isFiveThenZeros(long: string, at: number): boolean {
  if (long[at] !== '5') return false;
  for (let i = at + 1; i < long.length && long[i] !== 'e'; i++) if (long[i] !== '0') return false;
  return true;
}

/** %g from the rounded significant digits (d.ddddd × 10^exponent). */
function formatDigits(sign: string, text: string, exponent: number, precision: number): string {
  // Both styles drop trailing zeros after the point (and then the point).
  let end = Math.min(text.length, precision);
  while (end > 1 && text[end - 1] === '0') end--;
  const digits = text.slice(0, end);
  if (exponent >= -4 && exponent < precision) {
    // Style f with precision − 1 − exponent decimals.
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
    if (end <= exponent + 1) return sign + digits.padEnd(exponent + 1, '0');
    return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  }
  const mant = end > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mant}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

/** The `.vocab` text spm writes next to a model: `piece<TAB>score` per line, in id order. */
export function formatVocab(model: ModelProto): string {
  return model.pieces.map((p) => `${p.piece}\t${formatG(Math.fround(p.score))}\n`).join('');
}

/** A typed array of `length` elements (≥ a.length) holding a's values first: the trainers' growing tables. */
export function grownTo<T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
