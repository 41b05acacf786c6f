/**
 * The `mt` program: a thin shell over the library. It parses flags, calls a stage, and maps
 * errors to exit codes: 0 ok, 2 bad input (one line), 1 internal failure (stack with --verbose).
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES } from '../backend/names.ts';
import { errorMessage, isUserError } from '../errors.ts';
import { MT_VERSION } from '../version.ts';
import { registerConfig } from './commands/config.ts';
import { registerInfo } from './commands/info.ts';
import { registerPendingStages } from './commands/stages.ts';

export function buildProgram(): Command {
  const program = new Command('mt')
    .description('neural machine translation: prepare data, train subwords and models, translate, evaluate')
    .version(MT_VERSION)
    .option('-v, --verbose', 'more messages, and stack traces for internal errors')
    .option('-q, --quiet', 'no progress bars or messages (errors are still printed)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'))
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerInfo(program);
  registerConfig(program);
  registerPendingStages(program);
  // `mt data fetch|generate …`: corpora in and out of mt; each subcommand registers itself here.
  program.command('data').description('fetch public corpora or generate synthetic ones');
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Run mt with `argv` (as process.argv) and return the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const verbose = argv.includes('-v') || argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
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
