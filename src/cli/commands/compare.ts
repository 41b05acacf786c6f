/**
 * `mt compare`: several trained runs on the same split, BLEU and chrF by source-length bucket with
 * paired significance against the first run (Bahdanau et al. 2015, Fig. 2) — a table on stdout,
 * compare.json and a BLEU-by-length figure in the output folder.
 */
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { UserError } from '../../errors.ts';
import { loggerFor, type GlobalOptions } from '../common.ts';

interface CompareFlags {
  runs: string;
  names?: string;
  split: string;
  buckets?: string;
  samples?: string;
  seed?: string;
  out?: string;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function intFlag(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new UserError(`${flag} ${value}: expected a whole number ≥ ${min}`);
  return n;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare trained runs on one split: BLEU and chrF by source length, paired bootstrap tests against the first run, a table, compare.json and a plot')
    .requiredOption('--runs <a,b,…>', 'run directories, comma-separated; the first is the baseline')
    .option('--names <a,b,…>', 'a label per run (default: the run directories\' names)')
    .option('--split <name>', 'the prepared split to compare: data/<split>.src|.tgt, translations/<split>.hyp (translated when missing)', 'test')
    .option('--buckets <list>', 'upper bounds of the source-length buckets in words, e.g. 10,20,30,40,50 (default: the first run\'s eval.length_buckets)')
    .option('--samples <n>', 'bootstrap resamples (default: the first run\'s eval.bootstrap_samples, 1000)')
    .option('--seed <n>', 'resampling seed (default: the first run\'s eval.seed, 12345)')
    .option('--out <dir>', 'folder for compare.json and bleu-by-length.{svg,png} (default: compare-<name>-vs-<name>[-<split>] beside the first run)')
    .action(async (flags: CompareFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const runs = list(flags.runs);
      const names = flags.names === undefined ? undefined : list(flags.names);
      const samples = flags.samples === undefined ? undefined : intFlag('--samples', flags.samples, 1);
      const seed = flags.seed === undefined ? undefined : intFlag('--seed', flags.seed, 0);
      const global = cmd.optsWithGlobals<GlobalOptions>();
      const backend = global.backend && global.backend !== 'auto' ? (global.backend as BackendName) : undefined;
      // Loaded on demand: the plot renderer (Vega, resvg) and, for untranslated runs, tfjs are slow to import.
      const { compareRuns, defaultCompareDir, formatCompareReport, parseBucketList, writeComparison } = await import('../../report/compare.ts');
      const buckets = flags.buckets === undefined ? undefined : parseBucketList(flags.buckets);
      const report = await compareRuns({ runs, names, split: flags.split, buckets, samples, seed, backend, log });
      for (const w of report.warnings) log.warn(w);
      const out = flags.out ?? defaultCompareDir(runs, report.systems.map((s) => s.name), report.split);
      const files = await writeComparison(report, out, (m) => log.warn(m));
      log.info(`written: ${files.join(', ')}`);
      log.result({ ...report, files }, formatCompareReport(report));
    });
}
