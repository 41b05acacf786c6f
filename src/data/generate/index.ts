/**
 * Generated parallel corpora: the library API behind `mt data generate`.
 *
 *   en-ko                 English→Korean sentence pairs from ./grammar-en-ko.ts, 3 to 60+ words
 *   copy, reverse, sort   letter sequences and their copy / reversal / sorted order (./tasks.ts)
 *
 * A corpus is a pure function of its name, seed and options. Pairs are distinct across all
 * splits, so no test sentence is seen in training.
 */
import * as path from 'node:path';
import { UserError } from '../../errors.ts';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.ts';
import { EN_KO_DEFAULTS, generateEnKoPair, type PairStructure } from './grammar-en-ko.ts';
import type { Register } from './korean.ts';
import { Rng } from './random.ts';
import { generateTaskPair, TASK_DEFAULTS, type TaskName } from './tasks.ts';

export const GENERATED_NAMES = ['en-ko', 'copy', 'reverse', 'sort'] as const;
export type GeneratedName = (typeof GENERATED_NAMES)[number];

export interface GenerateOptions {
  /** Pairs in all splits together. */
  pairs: number;
  seed: number;
  /** Default: 5% of the pairs each, at least 1 and at most 1000. */
  validSize?: number;
  testSize?: number;
  /**
   * en-ko: the upper end of the drawn sentence lengths in English words (a sentence may run a
   * few words past it: it grows by whole phrases). Tasks: the longest sequence. Default 60 / 15.
   */
  maxWords?: number;
  /** en-ko: share of sentences whose drawn length is above 30 words (default 0.3). */
  longFraction?: number;
  /** en-ko: Korean sentence-final style (default plain: 본다/봤다). */
  register?: Register;
}

export interface GeneratedPair {
  src: string;
  tgt: string;
  /** en-ko only: the parse and word alignment the pair was generated from. */
  structure?: PairStructure;
}

export interface GeneratedCorpus {
  name: GeneratedName;
  srcLang: string;
  tgtLang: string;
  seed: number;
  train: GeneratedPair[];
  valid: GeneratedPair[];
  test: GeneratedPair[];
}

export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];

const LANGS: Record<GeneratedName, [string, string]> = {
  'en-ko': ['en', 'ko'],
  copy: ['in', 'out'],
  reverse: ['in', 'out'],
  sort: ['in', 'out'],
};

export function isGeneratedName(name: string): name is GeneratedName {
  return (GENERATED_NAMES as readonly string[]).includes(name);
}

/** The English length to grow a sentence to: short (3..30) or long (31..maxWords). */
function drawLength(rng: Rng, maxWords: number, longFraction: number): number {
  return rng.chance(longFraction) && maxWords > 30 ? rng.int(31, maxWords) : rng.int(3, Math.min(30, maxWords));
}

function pairMaker(name: GeneratedName, opts: GenerateOptions): (rng: Rng) => GeneratedPair {
  if (name === 'en-ko') {
    const maxWords = opts.maxWords ?? 60;
    const longFraction = opts.longFraction ?? 0.3;
    const grammar = { ...EN_KO_DEFAULTS, register: opts.register ?? EN_KO_DEFAULTS.register };
    return (rng) => generateEnKoPair(rng, drawLength(rng, maxWords, longFraction), grammar);
  }
  const maxTokens = opts.maxWords ?? TASK_DEFAULTS.maxTokens;
  const taskOpts = { ...TASK_DEFAULTS, minTokens: Math.min(TASK_DEFAULTS.minTokens, maxTokens), maxTokens };
  return (rng) => generateTaskPair(name as TaskName, rng, taskOpts);
}

/** Pairs are made in memory: a million is a large corpus here, and 1e14 ran forever. */
export const MAX_PAIRS = 1_000_000;

function checkCount(value: number, flag: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new UserError(`${flag}: expected an integer ≥ ${min}, got ${value}`);
}

/** `onProgress` is called with the number of pairs made so far, now and then. */
export function generateCorpus(name: GeneratedName, opts: GenerateOptions, onProgress?: (done: number) => void): GeneratedCorpus {
  checkCount(opts.pairs, '--pairs', 3);
  if (opts.pairs > MAX_PAIRS) throw new UserError(`--pairs: at most ${MAX_PAIRS}, got ${opts.pairs}`);
  if (!Number.isInteger(opts.seed)) throw new UserError(`--seed: expected an integer, got ${opts.seed}`);
  const defaultHeldOut = Math.max(1, Math.min(1000, Math.round(opts.pairs * 0.05)));
  const validSize = opts.validSize ?? defaultHeldOut;
  const testSize = opts.testSize ?? defaultHeldOut;
  checkCount(validSize, '--valid-size', 0);
  checkCount(testSize, '--test-size', 0);
  if (validSize + testSize >= opts.pairs) {
    throw new UserError(`--pairs ${opts.pairs} leaves no training pairs after ${validSize} validation and ${testSize} test pairs`);
  }
  if (opts.maxWords !== undefined) checkCount(opts.maxWords, '--max-words', name === 'en-ko' ? 3 : 1);
  if (opts.longFraction !== undefined && !(opts.longFraction >= 0 && opts.longFraction <= 1)) {
    throw new UserError(`--long-fraction: expected a number in [0, 1], got ${opts.longFraction}`);
  }

  const rng = new Rng(opts.seed);
  const make = pairMaker(name, opts);
  const seen = new Set<string>();
  const pairs: GeneratedPair[] = [];
  // Duplicates are redrawn; a space too small for the request would loop forever without a cap.
  for (let attempts = 0; pairs.length < opts.pairs; attempts++) {
    if (attempts > 20 * opts.pairs + 1000) {
      throw new UserError(`${name}: could only make ${pairs.length} distinct pairs of the ${opts.pairs} asked for; ask for fewer or allow longer ones (--max-words)`);
    }
    const pair = make(rng);
    if (seen.has(pair.src)) continue;
    seen.add(pair.src);
    pairs.push(pair);
    if (onProgress && pairs.length % 500 === 0) onProgress(pairs.length);
  }
  const trainEnd = opts.pairs - validSize - testSize;
  const [srcLang, tgtLang] = LANGS[name];
  return {
    name,
    srcLang,
    tgtLang,
    seed: opts.seed,
    train: pairs.slice(0, trainEnd),
    valid: pairs.slice(trainEnd, trainEnd + validSize),
    test: pairs.slice(trainEnd + validSize),
  };
}

export interface SideSummary {
  mean_words: number;
  max_words: number;
}

export interface CorpusSummary {
  name: GeneratedName;
  seed: number;
  pairs: Record<Split, number>;
  src: SideSummary;
  tgt: SideSummary;
}

function words(line: string): number {
  return line.split(' ').length;
}

function sideSummary(lines: string[]): SideSummary {
  const counts = lines.map(words);
  const mean = counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length);
  return { mean_words: Math.round(mean * 100) / 100, max_words: Math.max(0, ...counts) };
}

export function summarizeCorpus(corpus: GeneratedCorpus): CorpusSummary {
  const all = SPLITS.flatMap((s) => corpus[s]);
  return {
    name: corpus.name,
    seed: corpus.seed,
    pairs: { train: corpus.train.length, valid: corpus.valid.length, test: corpus.test.length },
    src: sideSummary(all.map((p) => p.src)),
    tgt: sideSummary(all.map((p) => p.tgt)),
  };
}

/**
 * Writes `{split}.{lang}` files (and with `structure`, `{split}.structure.jsonl`) plus
 * `generated.json` describing how the corpus was made; every file atomically.
 * Returns the paths written.
 */
export function writeCorpus(corpus: GeneratedCorpus, dir: string, opts: { structure?: boolean; options?: GenerateOptions } = {}): string[] {
  const written: string[] = [];
  const write = (file: string, lines: string[]): void => {
    const target = path.join(dir, file);
    writeFileAtomic(target, lines.map((l) => l + '\n').join(''));
    written.push(target);
  };
  for (const split of SPLITS) {
    const pairs = corpus[split];
    write(`${split}.${corpus.srcLang}`, pairs.map((p) => p.src));
    write(`${split}.${corpus.tgtLang}`, pairs.map((p) => p.tgt));
    if (opts.structure && pairs.some((p) => p.structure)) {
      write(`${split}.structure.jsonl`, pairs.map((p) => JSON.stringify(p.structure ?? null)));
    }
  }
  const meta = path.join(dir, 'generated.json');
  writeJsonAtomic(meta, {
    generator: corpus.name,
    src_lang: corpus.srcLang,
    tgt_lang: corpus.tgtLang,
    options: opts.options ?? { seed: corpus.seed },
    summary: summarizeCorpus(corpus),
  });
  written.push(meta);
  return written;
}

export type { EnKoPair, PairStructure, SrcWord, StructNode, TgtWord } from './grammar-en-ko.ts';
