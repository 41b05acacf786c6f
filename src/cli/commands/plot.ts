/** `mt plot attention|curves|length`: figures (SVG and PNG) in a run directory's plots/ folder, or where -o/--output (curves) or --out (length) says. */
import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { parseXAxis } from '../../report/plots/curves.ts';
import { DEFAULT_LENGTH_SCORES } from '../../report/plots/length.ts';
import { loggerFor } from '../common.ts';

/** The renderer (Vega, resvg) takes a second or more to load: only `mt plot` pays for it. */
const plots = () => import('../../report/plots/index.ts');

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function registerPlot(program: Command): void {
  const plot = program.command('plot').description('draw figures (SVG + PNG) into a run directory\'s plots/ folder');

  plot
    .command('attention')
    .description('heatmap of one sentence\'s attention weights (source pieces × target pieces)')
    .requiredOption('-r, --run <dir>', 'run directory (the figure goes to its plots/)')
    .requiredOption('--input <file>', 'attention JSON lines, as written by mt translate --attention FILE')
    .option('--index <n>', 'which sentence: 0-based line of the file', '0')
    .action(async (opts: { run: string; input: string; index: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const index = Number(opts.index);
      if (!Number.isInteger(index) || index < 0) throw new UserError(`--index: expected an integer ≥ 0, got '${opts.index}'`);
      const files = await (await plots()).plotAttention(opts.run, opts.input, index, { warn: (m) => log.warn(m) });
      log.result({ files }, files.join('\n'));
    });

  plot
    .command('curves')
    .description(
      'loss, perplexity and validation BLEU/chrF from logs/metrics.jsonl; with --compare, validation BLEU and chrF of several runs in one figure',
    )
    .requiredOption('-r, --run <dir>', 'run directory (the figure goes to its plots/), or a metrics.jsonl file (then -o is needed)')
    .option('--compare <dir>', 'another run directory or metrics.jsonl file to draw beside it, one line per run (repeat the flag for more)', (dir: string, all: string[] | undefined) => [...(all ?? []), dir])
    .option('--x <axis>', 'x axis: step, epoch, hours (wall clock) or cpu-hours (default: step; with --compare cpu-hours, or hours where a run has no cpu_s)')
    .option('--names <a,b,…>', 'legend labels for --run and each --compare, in order (default: each run\'s config name, else its folder)')
    .option('-o, --output <file>', 'write FILE.svg and FILE.png instead (a .svg or .png ending is dropped)')
    .action(async (opts: { run: string; compare?: string[]; x?: string; names?: string; output?: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const x = opts.x === undefined ? undefined : parseXAxis(opts.x);
      const names = opts.names === undefined ? undefined : list(opts.names);
      const files = await (await plots()).plotCurves(opts.run, {
        compare: opts.compare,
        x,
        names,
        output: opts.output,
        warn: (m) => log.warn(m),
        note: (m) => log.info(m),
      });
      log.result({ files }, files.join('\n'));
    });

  plot
    .command('length')
    .description('score by source-length bucket, one line per run')
    .requiredOption('--runs <a,b,…>', 'run directories, comma-separated')
    .option('--scores <path>', 'each run\'s scores by length (JSON [{bucket, score}]), relative to the run', DEFAULT_LENGTH_SCORES)
    .option('--names <a,b,…>', 'line labels (default: the run directories\' names)')
    .option('--metric <name>', 'what the scores are (axis title and file name)', 'BLEU')
    .option('--out <dir>', 'folder for the figure (default: the first run\'s plots/)')
    .action(async (opts: { runs: string; scores: string; names?: string; metric: string; out?: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const runs = list(opts.runs);
      if (runs.length === 0) throw new UserError('--runs: give at least one run directory');
      const names = opts.names === undefined ? undefined : list(opts.names);
      if (names && names.length !== runs.length) throw new UserError(`--names: ${names.length} names for ${runs.length} runs`);
      const files = await (await plots()).plotLength(runs, { scores: opts.scores, names, metric: opts.metric, out: opts.out, warn: (m) => log.warn(m) });
      log.result({ files }, files.join('\n'));
    });
}
