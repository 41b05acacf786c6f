/**
 * `mt eval`: score hypotheses against references (BLEU, chrF, chrF++, TER, sacreBLEU-exact), with
 * confidence intervals, paired significance tests, length buckets and an explanation of the metrics.
 * File mode takes sacreBLEU 2.6.0's metric and output flags by sacreBLEU's names and meanings
 * (docs/metrics.md has the table), so a sacrebleu command line carries over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { EvalSchema } from '../../config/sections/eval.ts';
import type { EvalConfig } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { DEFAULT_RANDOMIZATION_TRIALS, type EvalOptions, type EvalReport } from '../../metrics/evaluate.ts';
import { explainMetrics } from '../../metrics/explain.ts';
import { formatEvalReport, formatScoresOnly, formatSentenceScores, SACREBLEU_WIDTH, TABLE_WIDTH } from '../../metrics/format.ts';
import { BLEU_SMOOTH_METHODS, type BleuSmoothMethod } from '../../metrics/bleu.ts';
import { evaluateFiles, evaluateRun, evaluateSentenceFiles, writePerplexityScore } from '../../metrics/run.ts';
import { BLEU_TOKENIZERS, type BleuTokenizerName } from '../../metrics/tokenizers.ts';
import { METRIC_IDS, type MetricId } from '../../metrics/types.ts';
import { runVectorsCase, VectorsCaseSchema, type SacrebleuOptions } from '../../metrics/vectors.ts';
import type { Logger } from '../../util/log.ts';
import { LAYOUT, RunDir } from '../../run/rundir.ts';
import { perplexityScore, runPerplexity } from '../../train/perplexity.ts';
import { loggerFor, type GlobalOptions } from '../common.ts';

interface EvalFlags {
  input?: string[];
  ref?: string[];
  src?: string;
  run?: string;
  split: string;
  metrics?: string[];
  tokenize?: BleuTokenizerName;
  lowercase?: boolean;
  smoothMethod?: BleuSmoothMethod;
  smoothValue?: string;
  chrfCharOrder?: string;
  chrfWordOrder?: string;
  chrfBeta?: string;
  chrfWhitespace?: boolean;
  chrfLowercase?: boolean;
  chrfEpsSmoothing?: boolean;
  terCaseSensitive?: boolean;
  terAsianSupport?: boolean;
  terNoPunct?: boolean;
  terNormalized?: boolean;
  sentenceLevel?: boolean;
  width?: string;
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
  perplexity?: boolean;
  checkpoint?: string;
}

/**
 * sacreBLEU's multi-letter single-dash flags. Commander takes a single dash for one letter only
 * (it would read `-lc` as `-l -c`), so they are spelled out long before it parses.
 */
const SACREBLEU_DASH_FLAGS = new Map([
  ['-lc', '--lowercase'],
  ['-sl', '--sentence-level'],
  ['-tok', '--tokenize'],
  ['-sv', '--smooth-value'],
  ['-cc', '--chrf-char-order'],
  ['-cw', '--chrf-word-order'],
  ['-ci', '--confidence'],
  ['-pbs', '--paired-bs'],
  ['-par', '--paired-ar'],
]);

/**
 * sacreBLEU's `-s` is --smooth-method; mt's `-s` was --src before. `-s` followed by a smoothing
 * method's name is the former, anything else stays the source file it always was.
 */
function rewriteDashS(value: string | undefined): string[] {
  if (value === undefined) return ['-s'];
  if ((BLEU_SMOOTH_METHODS as readonly string[]).includes(value)) return ['-s', value];
  if (value !== '-' && !fs.existsSync(value)) {
    throw new UserError(`-s ${value}: neither a smoothing method (${BLEU_SMOOTH_METHODS.join(', ')}) nor a source file`);
  }
  return ['--src', value];
}

/** argv with sacreBLEU's spellings turned into commander's; nothing after `--` is touched. */
function sacrebleuArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const long = SACREBLEU_DASH_FLAGS.get(flag);
    if (long !== undefined) out.push(long + a.slice(flag.length));
    else if (a === '-s') out.push(...rewriteDashS(argv[++i]));
    else out.push(a);
  }
  return out;
}

class EvalCommand extends Command {
  override parseOptions(argv: string[]): ReturnType<Command['parseOptions']> {
    return super.parseOptions(sacrebleuArgv(argv));
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

/** A float flag (sacreBLEU's type=float), finite and ≥ 0. */
function floatFlag(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UserError(`${flag} ${value.trim() === '' ? `'${value}'` : value}: expected a number ≥ 0`);
  return n;
}

/** `-m bleu,chrf` or sacreBLEU's `-m bleu chrf`: both spellings, mixed as given. */
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

/** Which metric each group of sacreBLEU flags applies to, for a warning when none is scored. */
const FLAG_GROUPS: { flags: (keyof EvalFlags)[]; names: string; metrics: MetricId[] }[] = [
  { flags: ['smoothMethod', 'smoothValue'], names: '-s/--smooth-method, --smooth-value', metrics: ['bleu'] },
  {
    flags: ['chrfCharOrder', 'chrfWordOrder', 'chrfBeta', 'chrfWhitespace', 'chrfLowercase', 'chrfEpsSmoothing'],
    names: 'the --chrf-* flags',
    metrics: ['chrf', 'chrf++'],
  },
  { flags: ['terCaseSensitive', 'terAsianSupport', 'terNoPunct', 'terNormalized'], names: 'the --ter-* flags', metrics: ['ter'] },
];

/**
 * The sacreBLEU metric flags as options by sacreBLEU's names (what a vectors case holds). The
 * chrF flags apply to chrf and to chrf++, which is chrf with word order 2 unless
 * --chrf-word-order says otherwise (sacreBLEU spells chrF++ `-m chrf --chrf-word-order 2`).
 */
function sacrebleuOptions(flags: EvalFlags, metrics: MetricId[], log: Logger): SacrebleuOptions {
  const charOrder = flags.chrfCharOrder !== undefined ? intFlag('--chrf-char-order', flags.chrfCharOrder, 0) : undefined;
  const wordOrder = flags.chrfWordOrder !== undefined ? intFlag('--chrf-word-order', flags.chrfWordOrder, 0) : undefined;
  if (charOrder === 0 && (wordOrder ?? 0) === 0 && metrics.includes('chrf')) {
    throw new UserError('--chrf-char-order 0: chrF needs character or word n-grams (give --chrf-word-order N too)');
  }
  if (charOrder === 0 && wordOrder === 0 && metrics.includes('chrf++')) {
    throw new UserError('--chrf-char-order 0 and --chrf-word-order 0: chrF++ needs character or word n-grams');
  }
  const smoothValue = flags.smoothValue !== undefined ? floatFlag('--smooth-value', flags.smoothValue) : undefined;
  const method = flags.smoothMethod ?? 'exp';
  if (smoothValue !== undefined && (method === 'exp' || method === 'none') && metrics.includes('bleu')) {
    log.warn(`--smooth-value ${smoothValue}: only floor and add-k smoothing take a value; ignored with ${method}, as sacreBLEU ignores it`);
  }
  for (const group of FLAG_GROUPS) {
    if (group.flags.some((f) => flags[f] !== undefined) && !group.metrics.some((m) => metrics.includes(m))) {
      log.warn(`${group.names} apply to ${group.metrics.join(' and ')}, which -m does not score; ignored`);
    }
  }
  const chrf = {
    char_order: charOrder,
    word_order: wordOrder,
    beta: flags.chrfBeta !== undefined ? intFlag('--chrf-beta', flags.chrfBeta, 1) : undefined,
    lowercase: flags.chrfLowercase,
    whitespace: flags.chrfWhitespace,
    eps_smoothing: flags.chrfEpsSmoothing,
  };
  return {
    bleu: { smooth_method: flags.smoothMethod, smooth_value: smoothValue },
    chrf,
    'chrf++': chrf,
    ter: {
      case_sensitive: flags.terCaseSensitive,
      asian_support: flags.terAsianSupport,
      no_punct: flags.terNoPunct,
      normalized: flags.terNormalized,
    },
  };
}

function evalOptions(flags: EvalFlags, config: EvalConfig, log: Logger): EvalOptions {
  if (flags.pairedBs && flags.pairedAr) throw new UserError('--paired-bs and --paired-ar: choose one test');
  const metrics = flags.metrics !== undefined ? parseMetrics(flags.metrics.join(',')) : config.metrics;
  return {
    metrics,
    tokenize: flags.tokenize ?? config.tokenize,
    lowercase: flags.lowercase ?? config.lowercase,
    sacrebleu: sacrebleuOptions(flags, metrics, log),
    confidence: !!flags.confidence,
    paired: flags.pairedBs ? 'bs' : flags.pairedAr ? 'ar' : null,
    bootstrapSamples: flags.samples !== undefined ? intFlag('--samples', flags.samples, 1) : config.bootstrap_samples,
    randomizationTrials: flags.trials !== undefined ? intFlag('--trials', flags.trials, 1) : DEFAULT_RANDOMIZATION_TRIALS,
    seed: flags.seed !== undefined ? intFlag('--seed', flags.seed, 0) : config.seed,
    lengthBuckets: flags.lengthBuckets !== undefined ? parseBuckets(flags.lengthBuckets) : config.length_buckets,
  };
}

/** `-w`: decimals, as Python's format takes them (toFixed's range). */
function widthFlag(flags: EvalFlags): number | undefined {
  if (flags.width === undefined) return undefined;
  const w = intFlag('-w/--width', flags.width, 0);
  if (w > 100) throw new UserError(`-w/--width ${flags.width}: expected at most 100 decimals`);
  return w;
}

/** What `-sl` cannot combine with, as in sacreBLEU (statistical tests) or because it has no meaning per segment. */
function checkSentenceLevel(flags: EvalFlags): void {
  const clash: [boolean, string][] = [
    [!!flags.run, '--run (sentence scores are not written to a run; give -i and -r)'],
    [!!flags.confidence || !!flags.pairedBs || !!flags.pairedAr, 'statistical tests (--confidence, --paired-bs, --paired-ar)'],
    [flags.lengthBuckets !== undefined || flags.src !== undefined, 'length buckets (--length-buckets, --src)'],
    [!!flags.explain, '--explain'],
  ];
  const hit = clash.find(([on]) => on);
  if (hit) throw new UserError(`-sl/--sentence-level does not combine with ${hit[1]}`);
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

/** `--run DIR --perplexity`: a checkpoint's perplexity on a split, printed and added to scores/<split>.json. */
async function perplexity(flags: EvalFlags, refs: string[], command: Command, log: Logger): Promise<void> {
  if (!flags.run) throw new UserError('--perplexity needs a run directory: --run DIR');
  if (flags.input || refs.length > 0 || flags.sentenceLevel || flags.explain) {
    throw new UserError('--perplexity scores the run\'s model on data/<split>.{src,tgt}: it takes no -i, -r, -sl or --explain');
  }
  const run = RunDir.open(flags.run);
  const backend = command.optsWithGlobals<GlobalOptions>().backend;
  const report = await runPerplexity(run, {
    split: flags.split,
    checkpoint: flags.checkpoint,
    backend: backend && backend !== 'auto' ? (backend as BackendName) : undefined,
    warn: (m) => log.warn(m),
  });
  const file = writePerplexityScore(run, report.split, perplexityScore(report));
  log.info(`perplexity written to ${file}`);
  const kept = report.dropped > 0 ? `${report.pairs} of ${report.lines} pairs; ${report.dropped} longer than train.max_len left out, as in validation` : `${report.pairs} pairs`;
  const text = [
    `${report.split} perplexity: ${report.perplexity.toFixed(4)} per target subword token`,
    `NLL:        ${report.nll.toFixed(6)} nats per token (total ${report.nll_total.toFixed(3)})`,
    `tokens:     ${report.tokens} target subword tokens, eos included (${kept})`,
    `checkpoint: ${report.checkpoint.path}, step ${report.checkpoint.step} (${report.checkpoint.why})`,
  ].join('\n');
  log.result({ ...report, file }, text);
}

export function registerEval(program: Command): void {
  const cmd = new EvalCommand('eval')
    .description('score translations with BLEU, chrF, chrF++ and TER (sacreBLEU-exact), with confidence intervals, significance tests and length buckets')
    .argument('[refs...]', 'reference files, as sacreBLEU takes them (before -i); each is the same as -r FILE')
    .option('-i, --input <files...>', 'hypothesis file(s), detokenized; several compare systems (the first is the baseline); - reads stdin')
    .option('-r, --ref <file>', 'reference file (repeat for several references); -r is --ref here, not --run as in other commands', collect)
    .option('--src <file>', 'source file, for scores by source length (default with --run: data/<split>.src); also -s FILE when FILE is not a smoothing method')
    .option('--run <dir>', 'score a run directory: translations/<split>.hyp vs data/<split>.tgt; writes scores/<split>.json (and, for test, scores/by-length.json for mt plot length)')
    .option('--split <name>', 'the split to score with --run', 'test')
    .option('-m, --metrics <names...>', `from ${METRIC_IDS.join(',')}, comma- or space-separated (default: config eval.metrics)`)
    .option('--explain', 'explain what each metric measures and when it misleads, with this evaluation\'s numbers when files are given')
    .option('--perplexity', "with --run: the teacher-forced perplexity of a checkpoint on data/<split>.{src,tgt}, per target subword token; added to scores/<split>.json")
    .option('--checkpoint <which>', "with --perplexity: 'best', 'last' or a checkpoint folder (default: best if validated, else last)")
    .option('--vectors-case', 'read one sacreBLEU vectors test case (JSON) on stdin and print {metric: result} as JSON (see docs/metrics.md)')
    .optionsGroup('sacreBLEU metric options (names and meanings as in sacrebleu 2.6.0):')
    .addOption(new Option('--tokenize <name>', 'BLEU tokenizer, also -tok (default: config eval.tokenize, 13a)').choices([...BLEU_TOKENIZERS]))
    .option('-l, --lowercase', 'case-insensitive BLEU, also -lc (BLEU only, as sacreBLEU\'s; chrF: --chrf-lowercase)')
    .addOption(new Option('-s, --smooth-method <method>', 'BLEU smoothing (default exp)').choices([...BLEU_SMOOTH_METHODS]))
    .option('--smooth-value <x>', 'BLEU smoothing value for floor (default 0.1) and add-k (default 1), also -sv')
    .option('--chrf-char-order <n>', 'chrF character n-gram order, also -cc (default 6)')
    .option('--chrf-word-order <n>', 'chrF word n-gram order, also -cw (default 0; 2 is chrF++, what -m chrf++ gives)')
    .option('--chrf-beta <n>', 'chrF: weight of recall over precision (default 2)')
    .option('--chrf-whitespace', 'chrF: keep whitespace in character n-grams')
    .option('--chrf-lowercase', 'case-insensitive chrF')
    .option('--chrf-eps-smoothing', 'chrF: epsilon smoothing (chrF++.py, NLTK, Moses) instead of effective order')
    .option('--ter-case-sensitive', 'case-sensitive TER')
    .option('--ter-asian-support', 'TER: split Asian characters')
    .option('--ter-no-punct', 'TER: remove punctuation')
    .option('--ter-normalized', 'TER: basic normalization and tokenization')
    .optionsGroup('Output:')
    .option('--sentence-level', 'a score per segment, one line each (also -sl); JSON lines with --json')
    .option('-w, --width <n>', `decimals of printed scores (default ${SACREBLEU_WIDTH} with -b and -sl, as sacreBLEU; ${TABLE_WIDTH} in the table); --json is never rounded`)
    .option('-b, --score-only', 'print the scores alone, one per line')
    .optionsGroup('Confidence, significance, length buckets:')
    .option('--confidence', 'bootstrap 95% confidence intervals (mean ± half-width), also -ci')
    .option('--paired-bs', 'paired bootstrap test of every -i against the first, also -pbs')
    .option('--paired-ar', 'paired approximate randomization test of every -i against the first, also -par')
    .option('--samples <n>', 'bootstrap resamples (default: config eval.bootstrap_samples, 1000)')
    .option('--trials <n>', `approximate randomization trials (default ${DEFAULT_RANDOMIZATION_TRIALS})`)
    .option('--seed <n>', 'random seed for resampling (default: config eval.seed, 12345)')
    .option('--length-buckets <list>', 'upper bounds of the length buckets in words, e.g. 10,20,30 (default: config eval.length_buckets)')
    .action(async (positional: string[], flags: EvalFlags, command: Command) => {
      const log = loggerFor(command);
      if (flags.vectorsCase) {
        const out = vectorsCase();
        log.result(out, JSON.stringify(out));
        return;
      }
      const refs = [...positional, ...(flags.ref ?? [])];
      if (flags.perplexity) {
        await perplexity(flags, refs, command, log);
        return;
      }
      if (flags.checkpoint !== undefined) throw new UserError('--checkpoint goes with --perplexity (scoring translations takes no checkpoint)');
      const run = flags.run && !flags.sentenceLevel ? RunDir.open(flags.run) : undefined;
      if (!run && !flags.input && refs.length === 0 && flags.explain && !flags.sentenceLevel) {
        log.result({ explanation: explainMetrics() }, explainMetrics());
        return;
      }
      if (flags.sentenceLevel) checkSentenceLevel(flags);
      if (!run && !flags.input) throw new UserError('nothing to score: give hypotheses with -i FILE (and references with -r FILE), or a run directory with --run DIR');
      checkRefs(refs);
      const width = widthFlag(flags);
      const options = evalOptions(flags, run?.config.eval ?? EvalSchema.parse({}), log);
      const files = { hypotheses: flags.input!, references: refs, source: flags.src };
      if (flags.sentenceLevel) {
        const sentences = await evaluateSentenceFiles(files, options);
        for (const w of sentences.warnings) log.warn(w);
        // JSON lines: one object per segment, streamable like the text lines.
        if (log.opts.json) process.stdout.write(sentences.segments.map((s) => JSON.stringify(s) + '\n').join(''));
        else log.result(sentences, formatSentenceScores(sentences, width ?? SACREBLEU_WIDTH, !!flags.scoreOnly));
        return;
      }
      let report: EvalReport;
      let written: string[] = [];
      if (run) {
        const hyp = run.path(LAYOUT.translations, `${flags.split}.hyp`);
        if (!flags.input && !fs.existsSync(hyp)) throw new UserError(`${hyp}: no translations yet (run mt translate --run ${flags.run} first)`);
        const scored = await evaluateRun(run, {
          split: flags.split,
          hypotheses: flags.input,
          references: refs.length > 0 ? refs : undefined,
          source: flags.src,
          options,
          log,
        });
        report = scored.report;
        written = [scored.file, ...(scored.byLength ? [scored.byLength] : [])];
      } else {
        report = await evaluateFiles(files, options, log);
      }
      for (const w of report.warnings) log.warn(w);
      if (run) log.info(`scores written to ${written.join(' and ')}`);
      const explanation = flags.explain ? explainMetrics(report) : undefined;
      const text = flags.scoreOnly
        ? formatScoresOnly(report, width ?? SACREBLEU_WIDTH)
        : [formatEvalReport(report, width ?? TABLE_WIDTH), explanation].filter(Boolean).join('\n\n');
      log.result(explanation ? { ...report, explanation } : report, text);
    });
  program.addCommand(cmd);
}
