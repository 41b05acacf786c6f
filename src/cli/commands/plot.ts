/** `mt plot attention|curves|length`: figures (SVG and PNG) in a run directory's plots/ folder. */
import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
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
    .description('loss, perplexity and validation BLEU/chrF over training steps, from logs/metrics.jsonl')
    .requiredOption('-r, --run <dir>', 'run directory')
    .action(async (opts: { run: string }, cmd: Command) => {
      const log = loggerFor(cmd);
      const files = await (await plots()).plotCurves(opts.run, { warn: (m) => log.warn(m) });
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
