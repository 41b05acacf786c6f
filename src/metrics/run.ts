/**
 * Scoring a run's translations: translations/<split>.hyp against data/<split>.tgt (bucketed by
 * the length of data/<split>.src) under the run's eval config, written to scores/<split>.json —
 * and for the test split to scores/by-length.json, what `mt plot length` draws — and recorded as
 * the run's `eval` stage. What `mt eval --run` and `mt quickstart` run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EvalConfig } from '../config/schema.ts';
import { readLines } from '../data/lines.ts';
import { UserError } from '../errors.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress } from '../util/progress.ts';
import {
  DEFAULT_RANDOMIZATION_TRIALS,
  evaluate,
  evaluateSentences,
  type EvalInputs,
  type EvalOptions,
  type EvalReport,
  type NamedLines,
  type SentenceReport,
} from './evaluate.ts';
import { pyRstrip } from './text.ts';

/** Where a run's BLEU by source length is written (and `mt plot length` reads it), relative to the run directory. */
export const DEFAULT_LENGTH_SCORES = path.join(LAYOUT.scores, 'by-length.json');

/** The run's eval config as evaluate's options: no confidence intervals, no paired test. */
export function evalOptionsFor(config: EvalConfig): EvalOptions {
  return {
    metrics: config.metrics,
    tokenize: config.tokenize,
    lowercase: config.lowercase,
    confidence: false,
    paired: null,
    bootstrapSamples: config.bootstrap_samples,
    randomizationTrials: DEFAULT_RANDOMIZATION_TRIALS,
    seed: config.seed,
    lengthBuckets: config.length_buckets,
  };
}

export interface EvalFiles {
  /** One file per system (the first is the baseline); `-` reads stdin. */
  hypotheses: string[];
  references: string[];
  /** Sources, for the length buckets (default: the first reference's lengths). */
  source?: string;
}

/**
 * A file's lines as sacreBLEU's command line reads them: `line.rstrip()`. Only chrF with
 * whitespace kept sees the difference (BLEU and TER strip lines themselves).
 */
async function named(file: string): Promise<NamedLines> {
  return { name: file === '-' ? 'stdin' : file, lines: (await readLines(file)).map(pyRstrip) };
}

async function readInputs(files: EvalFiles): Promise<EvalInputs> {
  const inputs: EvalInputs = { systems: [], references: [] };
  for (const f of files.hypotheses) inputs.systems.push(await named(f));
  for (const f of files.references) inputs.references.push(await named(f));
  if (files.source !== undefined) inputs.source = await named(files.source);
  return inputs;
}

/** Read the files and score them, with a progress bar on `log` when it is interactive. */
export async function evaluateFiles(files: EvalFiles, options: EvalOptions, log?: Logger): Promise<EvalReport> {
  const inputs = await readInputs(files);
  const progress = log ? startProgress(log, 'eval', options.metrics.length * inputs.systems.length) : undefined;
  try {
    return evaluate(inputs, options, (done) => progress?.update(done));
  } finally {
    progress?.stop();
  }
}

/** Read the files and score each segment on its own (`mt eval -sl`). */
export async function evaluateSentenceFiles(files: EvalFiles, options: EvalOptions): Promise<SentenceReport> {
  return evaluateSentences(await readInputs(files), options);
}

/**
 * Writes RUN/scores/by-length.json, what `mt plot length` reads: the BLEU of each non-empty
 * length bucket of the report's first system. Returns the file, or undefined when the report has
 * no BLEU by length (BLEU not among its metrics).
 */
export function writeLengthScores(runDir: string, report: EvalReport): string | undefined {
  const buckets = report.systems[0]!.length_buckets
    .filter((b) => b.segments > 0 && b.scores.bleu !== undefined)
    .map((b) => ({ bucket: b.label, score: b.scores.bleu, segments: b.segments }));
  if (buckets.length === 0) return undefined;
  const file = path.join(runDir, DEFAULT_LENGTH_SCORES);
  writeJsonAtomic(file, buckets);
  return file;
}

/** The `eval` record of a run's manifest (docs/run-directory.md). */
export interface EvalRecord {
  split: string;
  /** The scores file, relative to the run directory. */
  file: string;
  /** The first system's score for each metric scored. */
  scores: Record<string, number | undefined>;
  /** The same BLEU and chrF as in `scores`, null when not scored. */
  bleu: number | null;
  chrf: number | null;
}

export interface EvaluateRunOptions {
  /** The split scored (default test). */
  split?: string;
  /** Instead of translations/<split>.hyp: these files, one per system. */
  hypotheses?: string[];
  /** Instead of data/<split>.tgt. */
  references?: string[];
  /** Instead of data/<split>.src (used when it exists). */
  source?: string;
  /** Default: the run's eval config (evalOptionsFor). */
  options?: EvalOptions;
  /** For the progress bar. */
  log?: Logger;
}

export interface RunScores {
  report: EvalReport;
  /** scores/<split>.json */
  file: string;
  /** scores/by-length.json, when written (the test split, with BLEU). */
  byLength?: string;
}

/** Score the run's translations of a split, write the scores into the run and record the `eval` stage. */
export async function evaluateRun(run: RunDir, opts: EvaluateRunOptions = {}): Promise<RunScores> {
  const split = opts.split ?? 'test';
  const source = run.path(LAYOUT.data, `${split}.src`);
  const report = await evaluateFiles(
    {
      hypotheses: opts.hypotheses ?? [run.path(LAYOUT.translations, `${split}.hyp`)],
      references: opts.references ?? [run.path(LAYOUT.data, `${split}.tgt`)],
      source: opts.source ?? (fs.existsSync(source) ? source : undefined),
    },
    opts.options ?? evalOptionsFor(run.config.eval),
    opts.log,
  );
  const file = run.path(LAYOUT.scores, `${split}.json`);
  // A perplexity written there before (`mt eval --perplexity`) stays: it is not computed here.
  const previous = readScoresFile(file);
  writeJsonAtomic(file, previous?.perplexity !== undefined ? { ...report, perplexity: previous.perplexity } : report);
  // The test split's BLEU by source length: what `mt plot length --runs RUN` draws.
  const byLength = split === 'test' ? writeLengthScores(run.root, report) : undefined;
  const scores = report.systems[0]!.scores;
  const record: EvalRecord = {
    split,
    file: path.relative(run.root, file),
    scores: Object.fromEntries(report.metrics.map((m) => [m, scores[m]?.score])),
    bleu: scores.bleu?.score ?? null,
    chrf: scores.chrf?.score ?? null,
  };
  run.recordStage('eval', { ...record });
  return { report, file, byLength };
}

/**
 * The `perplexity` field of scores/<split>.json (`mt eval --run DIR --perplexity`): per target
 * subword token of the run's own target subword model, eos included, no label smoothing.
 */
export interface PerplexityScore {
  /** exp(nll): perplexity per target subword token. */
  value: number;
  /** Mean negative log-likelihood per target token, in nats. */
  nll: number;
  /** Target subword tokens counted (each sentence's eos included). */
  tokens: number;
  /** The checkpoint scored: its folder, relative to the run directory when inside it. */
  checkpoint: string;
  step: number;
}

/** scores/<split>.json as an object, or undefined when there is none (or it is not a JSON object). */
function readScoresFile(file: string): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Add (or replace) `perplexity` in RUN/scores/<split>.json, keeping every other field the file
 * has (the BLEU/chrF/TER report of `mt eval --run`); atomic. Returns the file.
 */
export function writePerplexityScore(run: RunDir, split: string, score: PerplexityScore): string {
  const file = run.path(LAYOUT.scores, `${split}.json`);
  const existing = readScoresFile(file);
  // Never replace a file that cannot be read back with one holding the perplexity alone.
  if (existing === undefined && fs.existsSync(file)) throw new UserError(`${file}: not a JSON object; move it aside to write the perplexity`);
  writeJsonAtomic(file, { ...(existing ?? {}), perplexity: score });
  return file;
}
