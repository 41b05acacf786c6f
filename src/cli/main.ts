/**
 * The `mt` program: a thin shell over the library. It parses flags, calls a stage, and maps
 * errors to exit codes: 0 ok, 2 bad input (one line), 1 internal failure (stack with --verbose).
 */
import { Command, CommanderError, Option } from 'commander';
import { BACKEND_NAMES } from '../backend/names.ts';
import { errorMessage, isUserError } from '../errors.ts';
import { fsUserError } from '../util/atomic.ts';
import { MT_VERSION } from '../version.ts';

type Register = (program: Command) => void;

const DATA_DESCRIPTION = 'fetch public corpora or generate synthetic ones';

/**
 * The commands, in `mt --help` order. Only the module of the command that runs is imported (each
 * pulls in zod, yaml, metrics, …: start-up was 0.9–1.7 s); the others are listed by name and
 * description alone. Each description is its module's (test/defects-train.test.ts checks).
 */
const COMMANDS: { name: string; description: string; load: () => Promise<Register> }[] = [
  {
    name: 'quickstart',
    description: 'run the whole pipeline on a generated English→Korean corpus (no download): an attention model, BLEU/chrF, plots',
    load: async () => (await import('./commands/quickstart.ts')).registerQuickstart,
  },
  {
    name: 'info',
    description: 'print the tfjs backend in use (and why others were skipped), threads, versions, CUDA devices',
    load: async () => (await import('./commands/info.ts')).registerInfo,
  },
  { name: 'config', description: 'validate a config file or show it fully resolved', load: async () => (await import('./commands/config.ts')).registerConfig },
  {
    name: 'prepare',
    description: 'clean, filter and split the parallel corpora into <run>/data (report: data/report.json)',
    load: async () => (await import('./commands/prepare.ts')).registerPrepare,
  },
  {
    name: 'vocab',
    description: 'train SentencePiece (BPE or unigram) models on <run>/data/train.* into <run>/subword, or copy in subword.model.* files',
    load: async () => (await import('./commands/vocab.ts')).registerVocab,
  },
  {
    name: 'train',
    description: 'train the model, validating and checkpointing as configured; resumes from the last checkpoint',
    load: async () => (await import('./commands/train.ts')).registerTrain,
  },
  {
    name: 'translate',
    description: 'translate a file or stdin with a trained run (greedy or beam search); default: data/test.src → translations/test.hyp',
    load: async () => (await import('./commands/translate.ts')).registerTranslate,
  },
  {
    name: 'serve',
    description: 'serve a trained run over HTTP: a JSON translation API (batched across requests) and a page with an attention heatmap',
    load: async () => (await import('./commands/serve.ts')).registerServe,
  },
  {
    name: 'export',
    description: 'export a trained run: `mt export web` writes a static site that translates in the browser (tfjs)',
    load: async () => (await import('./commands/export-web.ts')).registerExport,
  },
  {
    name: 'eval',
    description: 'score translations with BLEU, chrF, chrF++ and TER (sacreBLEU-exact), with confidence intervals, significance tests and length buckets',
    load: async () => (await import('./commands/eval.ts')).registerEval,
  },
  {
    name: 'compare',
    description: 'compare trained runs on one split: BLEU and chrF by source length, paired bootstrap tests against the first run, a table, compare.json and a plot',
    load: async () => (await import('./commands/compare.ts')).registerCompare,
  },
  { name: 'plot', description: "draw figures (SVG + PNG) into a run directory's plots/ folder", load: async () => (await import('./commands/plot.ts')).registerPlot },
  {
    // `mt data fetch|generate …`: corpora in and out of mt; each subcommand registers itself here.
    name: 'data',
    description: DATA_DESCRIPTION,
    load: async () => {
      const [{ registerDataFetch }, { registerDataGenerate }] = await Promise.all([import('./commands/data-fetch.ts'), import('./commands/data-generate.ts')]);
      return (program) => {
        const data = program.command('data').description(DATA_DESCRIPTION);
        registerDataFetch(data);
        registerDataGenerate(data);
      };
    },
  },
];

/** The command `mt ARGS` runs: the first word that is not a global flag (or the one after `help`). */
function invokedCommand(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--backend') i++;
    else if (!arg.startsWith('-')) return arg === 'help' ? args[i + 1] : arg;
  }
  return undefined;
}

/**
 * The program for `argv` (as process.argv): the invoked command fully, the others as names and
 * descriptions for `mt --help` and for commander's "did you mean" suggestions.
 */
export async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command('mt')
    .description('neural machine translation: prepare data, train subwords and models, translate, evaluate')
    .option('-V, --version', 'output the version number (JSON with --json)')
    .option('-v, --verbose', 'more messages, and stack traces for internal errors')
    .option('-q, --quiet', 'no progress bars or messages (errors are still printed)')
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_NAMES]).default('auto'))
    .exitOverride();
  // Commander's own --version prints plain text even with --json, which may come after it.
  program.on('option:version', () => {
    process.stdout.write(argv.includes('--json') ? JSON.stringify({ version: MT_VERSION }) + '\n' : `${MT_VERSION}\n`);
    throw new CommanderError(0, 'commander.version', MT_VERSION);
  });
  const invoked = invokedCommand(argv.slice(2));
  for (const c of COMMANDS) {
    if (c.name === invoked) (await c.load())(program);
    else program.command(c.name).description(c.description);
  }
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
  const program = await buildProgram(argv);
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
