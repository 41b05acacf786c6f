/**
 * `mt translate`: translate a file or stdin with a trained run, one output line per input line.
 * With no -i and stdin not a pipe or file (a terminal, /dev/null) it translates the run's test
 * split into translations/test.hyp.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import { Option, type Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { MAX_BEAM } from '../../config/sections/decode.ts';
import { MAX_LINE_BYTES } from '../../data/lines.ts';
import { translateRun } from '../../decode/run.ts';
import { UserError } from '../../errors.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { fsUserError } from '../../util/atomic.ts';
import { loggerFor, openStageRun, parseThreads, positiveInt, positiveIntUpTo, threadsOption, withConfigOptions, type GlobalOptions, type StageOptions } from '../common.ts';

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

/** A failed write to stdout as one line (e.g. `stdout: no space left on device`), not an internal error. */
function stdoutWriteError(e: Error): UserError {
  const named = fsUserError(e, 'stdout');
  return named instanceof UserError ? named : new UserError(`stdout: cannot write translations (${e.message})`);
}

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
    'cores to translate on (wasm/cpu: worker threads decoding batches; node/gpu: the backend\'s own threads; default $MT_THREADS or auto)',
  ).action(async (opts: TranslateOptions, cmd: Command) => {
    const log = loggerFor(cmd);
    const threads = parseThreads(opts.threads);
    const global = cmd.optsWithGlobals<GlobalOptions>();
    const run = openStageRun(opts, log);
    // No -i and nothing piped in (a terminal, /dev/null): the run's test split.
    const testSplit = opts.input === undefined && !stdinHasInput();
    const toStdout = opts.output === undefined && !testSplit;
    log.toFile(run.path(LAYOUT.logs, 'translate.log'));
    // A reader that goes away (`| head`) ends the translation quietly; other write errors are reported.
    let stdoutClosed = false;
    let stdoutError: Error | undefined;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      stdoutClosed = true;
      if (e.code !== 'EPIPE') stdoutError = e;
    });
    const writeStdout = async (text: string): Promise<boolean> => {
      if (stdoutClosed) return false;
      try {
        if (!process.stdout.write(text)) await Promise.race([once(process.stdout, 'drain'), once(process.stdout, 'error')]);
      } catch (e) {
        // Writes to a pipe are synchronous: a reader that is gone makes the write itself throw.
        if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw stdoutWriteError(e as Error);
        stdoutClosed = true;
      }
      // A failed write stops the translation as an error: nothing more is written.
      if (stdoutError) throw stdoutWriteError(stdoutError);
      return !stdoutClosed;
    };
    const result = await translateRun(run, {
      split: testSplit ? 'test' : undefined,
      input: opts.input,
      output: opts.output,
      write: toStdout ? writeStdout : undefined,
      format: toStdout && global.json ? 'json' : undefined,
      attention: opts.attention,
      checkpoint: opts.checkpoint,
      average: opts.average,
      beam: opts.beam,
      nbest: opts.nbest,
      onInvalid: opts.onInvalid,
      threads,
      backend: global.backend && global.backend !== 'auto' ? (global.backend as BackendName) : undefined,
      log,
      onStart: ({ translator, decode, threads: workers, parallelism }) => {
        if (parallelism.note) log.info(parallelism.note);
        log.info(
          `translating with the ${translator.source}, beam ${decode.beam_size}${decode.nbest > 1 ? `, ${decode.nbest}-best` : ''}` +
            (workers > 1 ? `, on ${workers} threads` : ''),
        );
      },
    });
    if (stdoutError) throw stdoutWriteError(stdoutError);
    const { formatSummary } = await import('../../decode/stream.ts');
    log.info(formatSummary(result.summary));
    const { skipped } = result;
    if (skipped.length > 0) {
      const more = skipped.length > 5 ? `, and ${skipped.length - 5} more` : '';
      log.warn(`skipped ${skipped.length} line${skipped.length > 1 ? 's' : ''} with invalid UTF-8 or NUL bytes (each gave an empty output line): ${skipped.slice(0, 5).join(', ')}${more}`);
    }
    if (!toStdout && global.json) log.result({ output: result.output, weights: result.weights, checkpoint: result.checkpoint ?? null, ...result.summary, skipped_invalid: skipped.length }, '');
  });
}
