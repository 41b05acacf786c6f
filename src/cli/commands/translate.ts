/**
 * `mt translate`: translate a file or stdin with a trained run, one output line per input line.
 * With no -i and stdin not a pipe or file (a terminal, /dev/null) it translates the run's test
 * split into translations/test.hyp.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { MAX_BEAM } from '../../config/sections/decode.ts';
import { LineReader, MAX_LINE_BYTES, type Line } from '../../data/lines.ts';
import type { DecodePool } from '../../decode/parallel.ts';
import type { StreamSummary } from '../../decode/stream.ts';
import { UserError } from '../../errors.ts';
import { modelFacts } from '../../models/facts.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { fsUserError, writeFileAtomic } from '../../util/atomic.ts';
import { startProgress } from '../../util/progress.ts';
import { loggerFor, openStageRun, parseThreads, positiveInt, positiveIntUpTo, threadsFor, threadsOption, withConfigOptions, type GlobalOptions, type StageOptions } from '../common.ts';

interface TranslateOptions extends StageOptions {
  input?: string;
  output?: string;
  beam?: number;
  nbest?: number;
  checkpoint?: string;
  average?: number;
  attention?: string;
  threads?: string;
  onInvalid: 'fail' | 'skip';
}

/** Whether stdin holds input (a pipe or a file); a terminal or /dev/null does not. */
function stdinHasInput(): boolean {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket() || st.isFile();
  } catch {
    return false;
  }
}

/**
 * The text of each source line, read as prepare and eval read theirs (src/data/lines.ts): bad
 * bytes fail naming file:line, or with `--on-invalid skip` become an empty line (its output line
 * stays, so the output stays line-aligned) whose place is kept for the summary.
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
function checkWritable(file: string, flag: string): void {
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
    // The nearest folder that exists must be writable (missing ones are created on writing).
    let dir = path.dirname(path.resolve(file));
    while (!fs.existsSync(dir)) dir = path.dirname(dir);
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(`${file}: cannot write ${flag} here (${(e as { code?: string }).code ?? String(e)})`);
  }
}

/** A failed write to stdout as one line (e.g. `stdout: no space left on device`), not an internal error. */
function stdoutWriteError(e: Error): UserError {
  const named = fsUserError(e, 'stdout');
  return named instanceof UserError ? named : new UserError(`stdout: cannot write translations (${e.message})`);
}

/** Lines per window: enough to sort into batches of similar length, few enough to stream. */
const WINDOW_BATCHES = 16;

export function registerTranslate(program: Command): void {
  threadsOption(
    withConfigOptions(
      program
        .command('translate')
        .description('translate a file or stdin with a trained run (greedy or beam search); default: data/test.src → translations/test.hyp')
        .option('-i, --input <file>', `source sentences, one per line of UTF-8, at most ${MAX_LINE_BYTES} bytes each (default: stdin when it is a pipe or file, else data/test.src)`)
        .option('-o, --output <file>', 'where translations go (default: stdout, or translations/test.hyp when translating the test split)')
        .option('--beam <k>', `beam size, 1 to ${MAX_BEAM}; 1 = greedy (default: decode.beam_size)`, positiveIntUpTo(MAX_BEAM))
        .option('--nbest <k>', 'write the k best hypotheses per line as "index<TAB>score<TAB>text" (JSON lines with --json)', positiveIntUpTo(MAX_BEAM))
        .option('--checkpoint <which>', "'best', 'last' or a checkpoint folder (default: best if validated, else last)")
        .option('--average <k>', 'translate with the average of the last k checkpoints', positiveInt)
        .option('--attention <file>', 'write attention weights as JSON lines (source pieces, target pieces, weights) for attention/transformer models')
        .addOption(
          new Option('--on-invalid <what>', 'input lines with invalid UTF-8 or NUL bytes: fail naming the line, or skip: each gives an empty output line (so output stays line-aligned), counted in a warning')
            .choices(['fail', 'skip'])
            .default('fail'),
        ),
    ),
    'cores to translate on (worker threads decoding batches; default $MT_THREADS or auto)',
  ).action(async (opts: TranslateOptions, cmd: Command) => {
    const log = loggerFor(cmd);
    const threads = parseThreads(opts.threads);
    const global = cmd.optsWithGlobals<GlobalOptions>();
    const run = openStageRun(opts, log);
    const decode = { ...run.config.decode, beam_size: opts.beam ?? run.config.decode.beam_size, nbest: opts.nbest ?? run.config.decode.nbest };
    if (decode.nbest > decode.beam_size) {
      const what = opts.nbest !== undefined ? '--nbest' : `${run.path('config.yaml')}: decode.nbest`;
      throw new UserError(`${what} ${decode.nbest}: cannot exceed the beam size (${decode.beam_size}); raise --beam`);
    }
    const testSplit = opts.input === undefined && !stdinHasInput();
    const inputFile = opts.input ?? (testSplit ? run.path(LAYOUT.data, 'test.src') : undefined);
    const outputFile = opts.output ?? (testSplit ? run.path(LAYOUT.translations, 'test.hyp') : undefined);
    if (testSplit && !fs.existsSync(inputFile!)) {
      throw new UserError(`${inputFile}: no such file (run mt prepare first, or give -i FILE or pipe text in)`);
    }
    // Opened now, so that a missing file or a device fails before the model loads.
    const reader = new LineReader(inputFile ?? '-', { pipes: true, maxLineBytes: MAX_LINE_BYTES });
    const skipped: string[] = [];
    const text = sourceText(reader, opts.onInvalid, skipped);
    if (opts.attention !== undefined && !modelFacts(run.config.model).hasAttention) {
      throw new UserError(`--attention: ${run.root} holds a seq2seq model, which has no attention weights`);
    }
    if (outputFile !== undefined) checkWritable(outputFile, 'the translations');
    if (opts.attention !== undefined) checkWritable(opts.attention, 'the attention weights');
    const toStdout = outputFile === undefined;
    const outputFormat = toStdout && global.json ? 'json' : decode.nbest > 1 ? 'nbest' : 'text';
    log.toFile(run.path(LAYOUT.logs, 'translate.log'));
    // A file is read whole before the model loads (a bad line fails at once); stdin is streamed.
    let lines: string[] | undefined;
    if (inputFile !== undefined) {
      lines = [];
      for (let line = await reader.next(); line !== null; line = await reader.next()) lines.push(text(line));
    }

    // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
    const { initBackend } = await import('../../backend/index.ts');
    const { loadTranslator } = await import('../../decode/load.ts');
    const { lineWindows } = await import('../../decode/lines.ts');
    const { arrayWindows, formatSummary, peekFirst, translateStream } = await import('../../decode/stream.ts');
    const { DecodePool, decodeWorkers } = await import('../../decode/parallel.ts');
    const requested = (global.backend && global.backend !== 'auto' ? global.backend : run.config.backend) as BackendName;
    const backend = await initBackend(requested);
    const translator = await loadTranslator(run, { checkpoint: opts.checkpoint, average: opts.average, warn: (m) => log.warn(m) });

    const window = WINDOW_BATCHES * decode.batch_size;
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
    const workers = decodeWorkers(threadsFor(threads, backend.name), sentences, decode.batch_size);
    log.info(
      `translating with the ${translator.source}, beam ${decode.beam_size}${decode.nbest > 1 ? `, ${decode.nbest}-best` : ''}` +
        (workers > 1 ? `, on ${workers} threads` : ''),
    );
    const fileChunks: string[] = [];
    const attentionChunks: string[] = [];
    // A reader that goes away (`| head`) ends the translation quietly; other write errors are reported.
    let stdoutClosed = false;
    let stdoutError: Error | undefined;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      stdoutClosed = true;
      if (e.code !== 'EPIPE') stdoutError = e;
    });
    const write = async (text: string): Promise<boolean> => {
      if (!toStdout) {
        fileChunks.push(text);
        return true;
      }
      if (stdoutClosed) return false;
      try {
        if (!process.stdout.write(text)) await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'error')]);
      } catch (e) {
        // Writes to a pipe are synchronous: a reader that is gone makes the write itself throw.
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw stdoutWriteError(e as Error);
        stdoutClosed = true;
      }
      return !stdoutClosed;
    };
    let pool: DecodePool | undefined;
    const progress = lines ? startProgress(log, 'translate', lines.length, ['speed']) : undefined;
    let summary: StreamSummary;
    try {
      if (workers > 1) pool = await DecodePool.start(workers, translator.model, backend.name);
      summary = await translateStream(translator, windows, write, {
        decode,
        format: outputFormat,
        writeAttention: opts.attention !== undefined ? (text) => attentionChunks.push(text) : undefined,
        warn: (m) => log.warn(m),
        onProgress: (done, seconds) => progress?.update(done, { speed: `${(done / Math.max(seconds, 1e-9)).toFixed(1)} sent/s` }),
        pool,
      });
    } finally {
      // Running workers would keep the process alive after an error.
      await pool?.close();
      progress?.stop();
      translator.model.dispose();
    }
    if (stdoutError) throw stdoutWriteError(stdoutError);
    if (inputFile === undefined && summary.sentences === 0) {
      // Most often no input was meant: a script or agent whose stdin is an empty pipe.
      throw new UserError('stdin: empty, nothing to translate (pipe text in or give -i FILE; with stdin a terminal or /dev/null, mt translate translates the run\'s test split)');
    }
    if (outputFile !== undefined) writeFileAtomic(outputFile, fileChunks.join(''));
    if (opts.attention !== undefined) writeFileAtomic(opts.attention, attentionChunks.join(''));
    log.info(formatSummary(summary));
    if (skipped.length > 0) {
      const more = skipped.length > 5 ? `, and ${skipped.length - 5} more` : '';
      log.warn(`skipped ${skipped.length} line${skipped.length > 1 ? 's' : ''} with invalid UTF-8 or NUL bytes (each gave an empty output line): ${skipped.slice(0, 5).join(', ')}${more}`);
    }
    // Settings given with -c or --set become the run's once they translated (recordStage does too).
    run.commitConfig();
    if (testSplit && opts.output === undefined) {
      run.recordStage('translate', {
        input: inputFile,
        output: outputFile,
        weights: translator.source,
        beam_size: decode.beam_size,
        sentences: summary.sentences,
        seconds: summary.seconds,
      });
    }
    if (!toStdout && global.json) log.result({ output: outputFile, weights: translator.source, checkpoint: translator.checkpoint ?? null, ...summary, skipped_invalid: skipped.length }, '');
  });
}
