/**
 * `mt eval`: score hypotheses against references (BLEU, chrF, chrF++, TER, sacreBLEU-exact), with
 * confidence intervals, paired significance tests, length buckets and an explanation of the metrics.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { EvalSchema } from '../../config/sections/eval.ts';
import type { EvalConfig } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { DEFAULT_RANDOMIZATION_TRIALS, type EvalOptions, type EvalReport } from '../../metrics/evaluate.ts';
import { explainMetrics } from '../../metrics/explain.ts';
import { formatEvalReport, formatScoresOnly } from '../../metrics/format.ts';
import { evaluateFiles, evaluateRun } from '../../metrics/run.ts';
import { BLEU_TOKENIZERS, type BleuTokenizerName } from '../../metrics/tokenizers.ts';
import { METRIC_IDS, type MetricId } from '../../metrics/types.ts';
import { runVectorsCase, VectorsCaseSchema } from '../../metrics/vectors.ts';
import { LAYOUT, RunDir } from '../../run/rundir.ts';
import { loggerFor } from '../common.ts';

interface EvalFlags {
  input?: string[];
  ref?: string[];
  src?: string;
  run?: string;
  split: string;
  metrics?: string;
  tokenize?: BleuTokenizerName;
  lowercase?: boolean;
  confidence?: boolean;
  pairedBs?: boolean;
  pairedAr?: boolean;
  samples?: string;
  trials?: string;
  seed?: string;
  lengthBuckets?: string;
  scoreOnly?: boolean;
  explain?: boolean;
  vectorsCase?: boolean;
}

/** sacreBLEU spells lowercasing `-lc`; commander would read that as `-l -c`. */
class EvalCommand extends Command {
  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(argv.map((a) => (a === '-lc' ? '--lowercase' : a)));
  }
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function intFlag(flag: string, value: string, min: number): number {
  const n = Number(value);
  // Number('') is 0: an empty value must not pass as a seed of 0.
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new UserError(`${flag} ${value.trim() === '' ? `'${value}'` : value}: expected an integer ≥ ${min}`);
  return n;
}

function parseMetrics(list: string): MetricId[] {
  if (list.trim() === '') throw new UserError(`-m/--metrics '${list}': give at least one of ${METRIC_IDS.join(', ')}`);
  const ids = list.split(',').map((m) => m.trim().toLowerCase()).filter(Boolean);
  for (const id of ids) {
    if (!(METRIC_IDS as readonly string[]).includes(id)) {
      throw new UserError(`--metrics: unknown metric '${id}' (choose from ${METRIC_IDS.join(', ')})`);
    }
  }
  if (ids.length === 0) throw new UserError(`--metrics: give at least one of ${METRIC_IDS.join(', ')}`);
  return [...new Set(ids)] as MetricId[];
}

function parseBuckets(list: string): number[] {
  return list.split(',').map((b) => intFlag('--length-buckets', b.trim(), 1));
}

function evalOptions(flags: EvalFlags, config: EvalConfig): EvalOptions {
  if (flags.pairedBs && flags.pairedAr) throw new UserError('--paired-bs and --paired-ar: choose one test');
  return {
    metrics: flags.metrics !== undefined ? parseMetrics(flags.metrics) : config.metrics,
    tokenize: flags.tokenize ?? config.tokenize,
    lowercase: flags.lowercase ?? config.lowercase,
    confidence: !!flags.confidence,
    paired: flags.pairedBs ? 'bs' : flags.pairedAr ? 'ar' : null,
    bootstrapSamples: flags.samples !== undefined ? intFlag('--samples', flags.samples, 1) : config.bootstrap_samples,
    randomizationTrials: flags.trials !== undefined ? intFlag('--trials', flags.trials, 1) : DEFAULT_RANDOMIZATION_TRIALS,
    seed: flags.seed !== undefined ? intFlag('--seed', flags.seed, 0) : config.seed,
    lengthBuckets: flags.lengthBuckets !== undefined ? parseBuckets(flags.lengthBuckets) : config.length_buckets,
  };
}

/** `-r` is `--run` in every other command: say so when it is given a run directory here. */
function checkRefs(refs: string[]): void {
  for (const ref of refs) {
    if (fs.existsSync(path.join(ref, 'manifest.json'))) {
      throw new UserError(`-r/--ref ${ref}: a run directory; in mt eval -r is --ref (a reference file): score a run with --run ${ref}`);
    }
  }
}

/** `--vectors-case`: one sacreBLEU vectors case on stdin → `{metric: result}` on stdout. */
function vectorsCase(): unknown {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(0, 'utf8'));
  } catch (e) {
    throw new UserError(`stdin: not a JSON test case (${(e as Error).message.split('\n')[0]})`);
  }
  const parsed = VectorsCaseSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`stdin: ${issue.path.join('.') || '(case)'}: ${issue.message}`);
  }
  try {
    return runVectorsCase(parsed.data);
  } catch (e) {
    throw new UserError(`stdin: ${(e as Error).message}`);
  }
}

export function registerEval(program: Command): void {
  const cmd = new EvalCommand('eval')
    .description('score translations with BLEU, chrF, chrF++ and TER (sacreBLEU-exact), with confidence intervals, significance tests and length buckets')
    .option('-i, --input <files...>', 'hypothesis file(s), detokenized; several compare systems (the first is the baseline); - reads stdin')
    .option('-r, --ref <file>', 'reference file (repeat for several references); -r is --ref here, not --run as in other commands', collect)
    .option('-s, --src <file>', 'source file, for scores by source length (default with --run: data/<split>.src)')
    .option('--run <dir>', 'score a run directory: translations/<split>.hyp vs data/<split>.tgt; writes scores/<split>.json (and, for test, scores/by-length.json for mt plot length)')
    .option('--split <name>', 'the split to score with --run', 'test')
    .option('-m, --metrics <list>', `comma-separated, from ${METRIC_IDS.join(',')} (default: config eval.metrics)`)
    .addOption(new Option('--tokenize <name>', 'BLEU tokenizer (default: config eval.tokenize, 13a)').choices([...BLEU_TOKENIZERS]))
    .option('-l, --lowercase', 'case-insensitive BLEU and chrF (also -lc)')
    .option('--confidence', 'bootstrap 95% confidence intervals (mean ± half-width)')
    .option('--paired-bs', 'paired bootstrap test of every -i against the first')
    .option('--paired-ar', 'paired approximate randomization test of every -i against the first')
    .option('--samples <n>', 'bootstrap resamples (default: config eval.bootstrap_samples, 1000)')
    .option('--trials <n>', `approximate randomization trials (default ${DEFAULT_RANDOMIZATION_TRIALS})`)
    .option('--seed <n>', 'random seed for resampling (default: config eval.seed, 12345)')
    .option('--length-buckets <list>', 'upper bounds of the length buckets in words, e.g. 10,20,30 (default: config eval.length_buckets)')
    .option('-b, --score-only', 'print the scores alone, one per line')
    .option('--explain', 'explain what each metric measures and when it misleads, with this evaluation\'s numbers when files are given')
    .option('--vectors-case', 'read one sacreBLEU vectors test case (JSON) on stdin and print {metric: result} as JSON (see docs/metrics.md)')
    .action(async (flags: EvalFlags, command: Command) => {
      const log = loggerFor(command);
      if (flags.vectorsCase) {
        const out = vectorsCase();
        log.result(out, JSON.stringify(out));
        return;
      }
      const run = flags.run ? RunDir.open(flags.run) : undefined;
      if (!run && !flags.input && !flags.ref && flags.explain) {
        log.result({ explanation: explainMetrics() }, explainMetrics());
        return;
      }
      if (!run && !flags.input) throw new UserError('nothing to score: give hypotheses with -i FILE (and references with -r FILE), or a run directory with --run DIR');
      if (flags.ref) checkRefs(flags.ref);
      const options = evalOptions(flags, run?.config.eval ?? EvalSchema.parse({}));
      let report: EvalReport;
      let written: string[] = [];
      if (run) {
        const hyp = run.path(LAYOUT.translations, `${flags.split}.hyp`);
        if (!flags.input && !fs.existsSync(hyp)) throw new UserError(`${hyp}: no translations yet (run mt translate --run ${flags.run} first)`);
        const scored = await evaluateRun(run, { split: flags.split, hypotheses: flags.input, references: flags.ref, source: flags.src, options, log });
        report = scored.report;
        written = [scored.file, ...(scored.byLength ? [scored.byLength] : [])];
      } else {
        report = await evaluateFiles({ hypotheses: flags.input!, references: flags.ref ?? [], source: flags.src }, options, log);
      }
      for (const w of report.warnings) log.warn(w);
      if (run) log.info(`scores written to ${written.join(' and ')}`);
      const explanation = flags.explain ? explainMetrics(report) : undefined;
      const text = flags.scoreOnly ? formatScoresOnly(report) : [formatEvalReport(report), explanation].filter(Boolean).join('\n\n');
      log.result(explanation ? { ...report, explanation } : report, text);
    });
  program.addCommand(cmd);
}
