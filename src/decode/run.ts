/**
 * Translating with a trained run: a file, stdin or a prepared split, into a file or a stream, and
 * a split's translations recorded in the run's manifest. What `mt translate`, `mt quickstart` and
 * `mt compare` run. tfjs is imported only once the input has been read (a bad line fails at once).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parallelismFor, type BackendName, type Parallelism } from '../backend/names.ts';
import type { DecodeConfig } from '../config/schema.ts';
import { LineReader, MAX_LINE_BYTES, type Line } from '../data/lines.ts';
import { UserError } from '../errors.ts';
import { modelFacts } from '../models/facts.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress } from '../util/progress.ts';
import type { Translator } from './load.ts';
import type { OutputFormat, StreamSummary } from './stream.ts';

/** Lines per window: enough to sort into batches of similar length, few enough to stream. */
const WINDOW_BATCHES = 16;

export interface TranslateRunOptions {
  /** A prepared split: data/<split>.src → translations/<split>.hyp, recorded as the run's `translate` stage. */
  split?: string;
  /** Sources, one per line: a file (or `-`, stdin) read whole before the model loads; absent and no split: stdin, streamed. */
  input?: string;
  /** Where the translations go, written atomically at the end (default: the split's translations, else `write`). */
  output?: string;
  /** Receives the translations as they are made when there is no output file (stdout); false: the reader went away, stop. */
  write?: (text: string) => Promise<boolean> | boolean;
  /** Default: n-best lines when decode.nbest > 1, else one translation per line. */
  format?: OutputFormat;
  /** Also write attention weights (JSON lines) to this file; models with attention only. */
  attention?: string;
  /** 'best', 'last' or a checkpoint folder (default: best if one was validated, else last). */
  checkpoint?: string;
  /** Translate with the average of the last K checkpoints. */
  average?: number;
  /** Beam size and n-best list length (default: the run's decode config). */
  beam?: number;
  nbest?: number;
  /** Source lines with invalid UTF-8 or NUL bytes: fail naming the line (default), or translate them as empty lines. */
  onInvalid?: 'fail' | 'skip';
  /**
   * Most decoding threads, or auto for the backend (default 1); workers start only when the input
   * keeps them busy, and never on node/gpu, where a count is the backend's own thread count.
   */
  threads?: number | 'auto';
  /** The tfjs backend (default: the run's config's; 'auto': the one in use, if any). */
  backend?: BackendName;
  /**
   * Sentences sorted by length into batches together (default 16 batches); Infinity: the whole
   * input at once, as quickstart and compare have always translated. Other batches give the same
   * tokens but scores that differ by float rounding, which could, rarely, tip a near tie.
   */
  window?: number;
  /** Warnings, and the progress bar of an input read whole. */
  log: Logger;
  /**
   * Called once the model is loaded and the decoding threads chosen, before decoding starts:
   * `threads` worker threads decode (1: this thread), as `parallelism` (parallelismFor) allows.
   */
  onStart?: (start: { translator: Translator; decode: DecodeConfig; threads: number; parallelism: Parallelism }) => void;
}

export interface TranslateRunResult {
  /** The translations file written (none when they went to `write`). */
  output?: string;
  attention?: string;
  /** What the weights are and why they were chosen (Translator.source), and the checkpoint (absent for an average). */
  weights: string;
  checkpoint?: Translator['checkpoint'];
  summary: StreamSummary;
  /** `file:line` of each source line skipped for invalid bytes (`onInvalid: 'skip'`). */
  skipped: string[];
}

/**
 * The `translate` record of a run's manifest, written when a split is translated into
 * translations/<split>.hyp (docs/run-directory.md). Paths are relative to the run directory.
 */
export interface TranslateRecord {
  split: string;
  input: string;
  file: string;
  /** Present when attention weights were written. */
  attention?: string;
  weights: string;
  beam_size: number;
  sentences: number;
  seconds: number;
}

/** The run's decode settings with `beam` and `nbest` applied. */
function decodeSettings(run: RunDir, beam: number | undefined, nbest: number | undefined): DecodeConfig {
  const decode = { ...run.config.decode, beam_size: beam ?? run.config.decode.beam_size, nbest: nbest ?? run.config.decode.nbest };
  if (decode.nbest > decode.beam_size) {
    const what = nbest !== undefined ? '--nbest' : `${run.path('config.yaml')}: decode.nbest`;
    throw new UserError(`${what} ${decode.nbest}: cannot exceed the beam size (${decode.beam_size}); raise --beam`);
  }
  return decode;
}

/**
 * The text of each source line, read as prepare and eval read theirs (src/data/lines.ts): bad
 * bytes fail naming file:line, or with `skip` become an empty line (its output line stays, so the
 * output stays line-aligned) whose place is kept for the summary.
 */
function sourceText(reader: LineReader, onInvalid: 'fail' | 'skip', skipped: string[]): (line: Line) => string {
  return (line) => {
    if (line.ok) return line.text;
    const place = `${reader.file}:${reader.lineNo}`;
    if (onInvalid === 'fail') throw new UserError(`${place}: ${line.problem} (--on-invalid skip translates such lines as empty lines)`);
    skipped.push(place);
    return '';
  };
}

/** Fail before decoding, not after, when an output file cannot be written. */
function checkWritable(file: string, what: string): void {
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    // The nearest folder that exists must be writable (missing ones are created on writing).
    let dir = path.dirname(path.resolve(file));
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(`${file}: cannot write ${what} here (${(e as { code?: string }).code ?? String(e)})`);
  }
}

/** A path as the manifest keeps it: relative to the run directory when inside it. */
function runRelative(run: RunDir, file: string): string {
  const relative = path.relative(run.root, path.resolve(file));
  return relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(file) : relative;
}

/**
 * Load the run's translator (the checkpoint asked for, else the best, else the last, and why),
 * decode on as many threads as the input keeps busy, and write the translations (and attention
 * weights) atomically once all are done, or stream them to `write`. A split translated into
 * translations/<split>.hyp is recorded as the run's `translate` stage; any translation commits
 * settings given with -c or --set to the run.
 */
export async function translateRun(run: RunDir, opts: TranslateRunOptions): Promise<TranslateRunResult> {
  const { log, split } = opts;
  const decode = decodeSettings(run, opts.beam, opts.nbest);
  const inputFile = opts.input ?? (split !== undefined ? run.path(LAYOUT.data, `${split}.src`) : undefined);
  const output = opts.output ?? (split !== undefined ? run.path(LAYOUT.translations, `${split}.hyp`) : undefined);
  if (output === undefined && opts.write === undefined) throw new Error('translateRun: give an output file or a write function');
  if (split !== undefined && opts.input === undefined && !fs.existsSync(inputFile!)) {
    throw new UserError(`${inputFile}: no such file (run mt prepare first, or give -i FILE or pipe text in)`);
  }
  // Opened now, so that a missing file or a device fails before the model loads.
  const reader = new LineReader(inputFile ?? '-', { pipes: true, maxLineBytes: MAX_LINE_BYTES });
  const skipped: string[] = [];
  const text = sourceText(reader, opts.onInvalid ?? 'fail', skipped);
  if (opts.attention !== undefined && !modelFacts(run.config.model).hasAttention) {
    throw new UserError(`--attention: ${run.root} holds a seq2seq model, which has no attention weights`);
  }
  if (output !== undefined) checkWritable(output, 'the translations');
  if (opts.attention !== undefined) checkWritable(opts.attention, 'the attention weights');
  // A file is read whole before the model loads (a bad line fails at once); stdin is streamed.
  let lines: string[] | undefined;
  if (inputFile !== undefined) {
    lines = [];
    for (let line = await reader.next(); line !== null; line = await reader.next()) lines.push(text(line));
  }

  // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
  const { TranslatorSession } = await import('./session.ts');
  const { lineWindows } = await import('./lines.ts');
  const { arrayWindows, peekFirst } = await import('./stream.ts');
  const { decodeWorkers } = await import('./parallel.ts');
  const { activeBackend } = await import('../backend/index.ts');
  const session = await TranslatorSession.open(run, { checkpoint: opts.checkpoint, average: opts.average, backend: opts.backend, threads: opts.threads, warn: (m) => log.warn(m) });
  const parallelism = parallelismFor(session.backend, opts.threads ?? 1, activeBackend() ?? {});
  const fileChunks: string[] = [];
  const attentionChunks: string[] = [];
  let summary: StreamSummary;
  try {
    const window = opts.window ?? WINDOW_BATCHES * decode.batch_size;
    let windows: Iterable<string[]> | AsyncIterable<string[]>;
    let sentences: number;
    if (lines) {
      windows = arrayWindows(lines, window);
      sentences = lines.length;
    } else {
      // A stream: a full first window means more to come; a short one is all there is for now.
      const { first, all } = await peekFirst(lineWindows(reader, window, text));
      windows = all;
      sentences = first.length < window ? first.length : Infinity;
    }
    // Workers take a second or two to start: only as many as the input keeps busy.
    const threads = decodeWorkers(parallelism.workers, sentences, decode.batch_size);
    opts.onStart?.({ translator: session.translator, decode, threads, parallelism });
    const progress = lines ? startProgress(log, 'translate', lines.length, ['speed']) : undefined;
    try {
      await session.useThreads(threads);
      const toFile = (chunk: string): boolean => {
        fileChunks.push(chunk);
        return true;
      };
      summary = await session.stream(windows, output !== undefined ? toFile : opts.write!, {
        decode,
        format: opts.format ?? (decode.nbest > 1 ? 'nbest' : 'text'),
        writeAttention: opts.attention !== undefined ? (chunk) => attentionChunks.push(chunk) : undefined,
        warn: (m) => log.warn(m),
        onProgress: (done, seconds) => progress?.update(done, { speed: `${(done / Math.max(seconds, 1e-9)).toFixed(1)} sent/s` }),
      });
    } finally {
      progress?.stop();
    }
  } finally {
    // Running workers would keep the process alive after an error.
    await session.close();
  }
  if (inputFile === undefined && summary.sentences === 0) {
    // Most often no input was meant: a script or agent whose stdin is an empty pipe.
    throw new UserError('stdin: empty, nothing to translate (pipe text in or give -i FILE; with stdin a terminal or /dev/null, mt translate translates the run\'s test split)');
  }
  if (output !== undefined) writeFileAtomic(output, fileChunks.join(''));
  if (opts.attention !== undefined) writeFileAtomic(opts.attention, attentionChunks.join(''));
  // Settings given with -c or --set become the run's once they translated (recordStage does too).
  run.commitConfig();
  const { source: weights, checkpoint } = session.translator;
  if (split !== undefined && opts.input === undefined && opts.output === undefined) {
    const record: TranslateRecord = {
      split,
      input: runRelative(run, inputFile!),
      file: runRelative(run, output!),
      ...(opts.attention !== undefined ? { attention: runRelative(run, opts.attention) } : {}),
      weights,
      beam_size: decode.beam_size,
      sentences: summary.sentences,
      seconds: summary.seconds,
    };
    run.recordStage('translate', { ...record });
  }
  return { output, attention: opts.attention, weights, checkpoint, summary, skipped };
}
