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
import { DEFAULT_WHITESPACE, SPACE_SYMBOL, normalizeForModel } from './normalize.ts';
import { Script, scriptOf } from './unicode-script.ts';

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
    let s = scriptOf(c);
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
  const specials = [...meta.values()].map((m) => m.piece);
  const unkStr = String.fromCodePoint(UNK_CHAR);
  const normalized: string[] = [];
  for (const line of chosen) {
    if (line.length === 0 || line.includes(unkStr)) continue;
    if (line.length * 3 > MAX_SENTENCE_BYTES && utf8.encode(line).length > MAX_SENTENCE_BYTES) continue;
    const s = maskSpecialPieces(normalizeForModel(line, DEFAULT_WHITESPACE), specials);
    if (s.length > 0) normalized.push(s);
  }

  const counts = new Map<number, number>();
  let all = 0;
  for (const s of normalized) {
    for (const c of codePoints(s)) {
      if (c === 0) continue;
      counts.set(c, (counts.get(c) ?? 0) + 1);
      all++;
    }
  }
  const byFrequency = [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const requiredChars: [number, number][] = [];
  let covered = 0;
  // spm compares in float32; so do we, so that coverage 1.0 keeps every character.
  const target = Math.fround(opts.characterCoverage);
  for (const [c, n] of byFrequency) {
    if (Math.fround(covered / all) >= target) break;
    covered += n;
    if (c !== BOUNDARY_CHAR) requiredChars.push([c, n]);
  }
  const alphabet = new Set(requiredChars.map(([c]) => c));
  const metaCount = meta.size;
  if (requiredChars.length + metaCount > opts.vocabSize) {
    throw new UserError(
      `subword.vocab_size: ${opts.vocabSize} is smaller than the alphabet (${requiredChars.length} characters + ${metaCount} special pieces); increase it or lower subword.character_coverage`,
    );
  }
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

/**
 * spm's SplitIntoWords: a new word starts at every `▁` (and at the start). Returns the distinct
 * words with their frequencies, most frequent first, then in string order (spm's Sorted).
 */
export function countWords(sentences: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const s of sentences) {
    let start = 0;
    for (let i = 1; i <= s.length; i++) {
      if (i === s.length || s[i] === SPACE_SYMBOL) {
        const w = s.slice(start, i);
        counts.set(w, (counts.get(w) ?? 0) + 1);
        start = i;
      }
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
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

/** A float as C++'s `ostream << float` prints it (%g, 6 significant digits), as in spm's .vocab. */
function formatScore(x: number): string {
  if (Object.is(x, -0)) return '-0';
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(x.toPrecision(6)))));
  if (exp < -4 || exp >= 6) {
    const [mant, e] = x.toExponential(5).split('e') as [string, string];
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const fixed = x.toFixed(Math.max(0, 5 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** The `.vocab` text spm writes next to a model: `piece<TAB>score` per line, in id order. */
export function formatVocab(model: ModelProto): string {
  return model.pieces.map((p) => `${p.piece}\t${formatScore(Math.fround(p.score))}\n`).join('');
}
