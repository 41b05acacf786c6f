/**
 * The `mt` program: a thin shell over the library. It parses flags, calls a stage, and maps
 * errors to exit codes: 0 ok, 2 bad input (one line), 1 internal failure (stack with --verbose).
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES } from '../backend/names.ts';
import { errorMessage, isUserError } from '../errors.ts';
import { fsUserError } from '../util/atomic.ts';
import { MT_VERSION } from '../version.ts';
import { registerCompare } from './commands/compare.ts';
import { registerConfig } from './commands/config.ts';
import { registerDataFetch } from './commands/data-fetch.ts';
import { registerDataGenerate } from './commands/data-generate.ts';
import { registerEval } from './commands/eval.ts';
import { registerInfo } from './commands/info.ts';
import { registerPlot } from './commands/plot.ts';
import { registerPrepare } from './commands/prepare.ts';
import { registerQuickstart } from './commands/quickstart.ts';
import { registerTrain } from './commands/train.ts';
import { registerTranslate } from './commands/translate.ts';
import { registerVocab } from './commands/vocab.ts';

export function buildProgram(): Command {
  const program = new Command('mt')
    .description('neural machine translation: prepare data, train subwords and models, translate, evaluate')
    .version(MT_VERSION)
    .option('-v, --verbose', 'more messages, and stack traces for internal errors')
    .option('-q, --quiet', 'no progress bars or messages (errors are still printed)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'))
    .exitOverride();
  registerQuickstart(program);
  registerInfo(program);
  registerConfig(program);
  registerPrepare(program);
  registerVocab(program);
  registerTrain(program);
  registerTranslate(program);
  registerEval(program);
  registerCompare(program);
  registerPlot(program);
  // `mt data fetch|generate …`: corpora in and out of mt; each subcommand registers itself here.
  const data = program.command('data').description('fetch public corpora or generate synthetic ones');
  registerDataFetch(data);
  registerDataGenerate(data);
  oneLineUsageErrors(program);
  return program;
}

/** Commander's usage errors (unknown flag, bad choice, missing argument) as mt's: one `mt: error:` line. */
function oneLineUsageErrors(cmd: Command): void {
  const usage = (): string => {
    const names: string[] = [];
    for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
    return names.join(' ');
  };
  cmd.exitOverride().configureOutput({
    outputError: (str, write) => write(`mt: error: ${str.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')} (see ${usage()} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineUsageErrors(sub);
}

/** Run mt with `argv` (as process.argv) and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (thrown) {
    // A full disk or a read-only folder met outside the run directory's own writers is still the user's to fix.
    const e = fsUserError(thrown);
    if (e instanceof CommanderError) {
      // Help and version are "errors" to commander; usage mistakes are the user's.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`mt: error: ${errorMessage(e)}\n`);
      if (verbose && e.stack) process.stderr.write(e.stack + '\n');
      return e.exitCode;
    }
    process.stderr.write(`mt: internal error: ${errorMessage(e)}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
    else process.stderr.write('(run with --verbose for the stack trace)\n');
    return 1;
  }
}
