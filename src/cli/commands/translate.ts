/**
 * `mt translate`: translate a file or stdin with a trained run, one output line per input line.
 * With no -i and stdin a terminal it translates the run's test split into translations/test.hyp.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import type { DecodePool } from '../../decode/parallel.ts';
import type { StreamSummary } from '../../decode/stream.ts';
import { UserError } from '../../errors.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { writeFileAtomic } from '../../util/atomic.ts';
import { startProgress } from '../../util/progress.ts';
import { loggerFor, openStageRun, parseThreads, positiveInt, threadsFor, threadsOption, withConfigOptions, type GlobalOptions, type StageOptions } from '../common.ts';

interface TranslateOptions extends StageOptions {
  input?: string;
  output?: string;
  beam?: number;
  nbest?: number;
  checkpoint?: string;
  average?: number;
  attention?: string;
  threads?: string;
}

/** Lines of a whole file (LF or CRLF; a missing final newline is fine). */
function readInputLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`${file}: cannot read input (${(e as { code?: string }).code ?? String(e)})`);
  }
  if (text === '') return [];
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
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

/** Lines per window: enough to sort into batches of similar length, few enough to stream. */
const WINDOW_BATCHES = 16;

export function registerTranslate(program: Command): void {
  threadsOption(
    withConfigOptions(
      program
        .command('translate')
        .description('translate a file or stdin with a trained run (greedy or beam search); default: data/test.src → translations/test.hyp')
        .option('-i, --input <file>', 'source sentences, one per line (default: stdin, or data/test.src when stdin is a terminal)')
        .option('-o, --output <file>', 'where translations go (default: stdout, or translations/test.hyp when translating the test split)')
        .option('--beam <k>', 'beam size; 1 = greedy (default: decode.beam_size)', positiveInt)
        .option('--nbest <k>', 'write the k best hypotheses per line as "index<TAB>score<TAB>text" (JSON lines with --json)', positiveInt)
        .option('--checkpoint <which>', "'best', 'last' or a checkpoint folder (default: best if validated, else last)")
        .option('--average <k>', 'translate with the average of the last k checkpoints', positiveInt)
        .option('--attention <file>', 'write attention weights as JSON lines (source pieces, target pieces, weights) for attention/transformer models'),
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
    const testSplit = opts.input === undefined && process.stdin.isTTY === true;
    const inputFile = opts.input ?? (testSplit ? run.path(LAYOUT.data, 'test.src') : undefined);
    const outputFile = opts.output ?? (testSplit ? run.path(LAYOUT.translations, 'test.hyp') : undefined);
    if (inputFile !== undefined && !fs.existsSync(inputFile)) {
      throw new UserError(`${inputFile}: no such file${testSplit ? ' (run mt prepare first, or give -i FILE or pipe text in)' : ''}`);
    }
    if (opts.attention !== undefined && run.config.model.type === 'seq2seq') {
      throw new UserError(`--attention: ${run.root} holds a seq2seq model, which has no attention weights`);
    }
    if (outputFile !== undefined) checkWritable(outputFile, 'the translations');
    if (opts.attention !== undefined) checkWritable(opts.attention, 'the attention weights');
    const toStdout = outputFile === undefined;
    const outputFormat = toStdout && global.json ? 'json' : decode.nbest > 1 ? 'nbest' : 'text';
    log.toFile(run.path(LAYOUT.logs, 'translate.log'));

    // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
    const { initBackend } = await import('../../backend/index.ts');
    const { loadTranslator } = await import('../../decode/load.ts');
    const { lineWindows } = await import('../../decode/lines.ts');
    const { arrayWindows, formatSummary, translateStream } = await import('../../decode/stream.ts');
    const requested = (global.backend && global.backend !== 'auto' ? global.backend : run.config.backend) as BackendName;
    const backend = await initBackend(requested);
    const translator = await loadTranslator(run, { checkpoint: opts.checkpoint, average: opts.average, warn: (m) => log.warn(m) });

    const window = WINDOW_BATCHES * decode.batch_size;
    const lines = inputFile !== undefined ? readInputLines(inputFile) : undefined;
    // A file needs no more workers than it has batches (each takes a second or two to start).
    const workers = Math.min(threadsFor(threads, backend.name), lines ? Math.ceil(lines.length / decode.batch_size) : Infinity);
    log.info(
      `translating with the ${translator.source}, beam ${decode.beam_size}${decode.nbest > 1 ? `, ${decode.nbest}-best` : ''}` +
        (workers > 1 ? `, on ${workers} threads` : ''),
    );
    const windows = lines ? arrayWindows(lines, window) : lineWindows(process.stdin, window);
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
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
        stdoutClosed = true;
      }
      return !stdoutClosed;
    };
    let pool: DecodePool | undefined;
    const progress = lines ? startProgress(log, 'translate', lines.length, ['speed']) : undefined;
    let summary: StreamSummary;
    try {
      if (workers > 1) pool = await (await import('../../decode/parallel.ts')).DecodePool.start(workers, translator.model, backend.name);
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
    if (stdoutError) throw new UserError(`stdout: cannot write translations (${stdoutError.message})`);
    if (outputFile !== undefined) writeFileAtomic(outputFile, fileChunks.join(''));
    if (opts.attention !== undefined) writeFileAtomic(opts.attention, attentionChunks.join(''));
    log.info(formatSummary(summary));
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
    if (!toStdout && global.json) log.result({ output: outputFile, weights: translator.source, ...summary }, '');
  });
}
