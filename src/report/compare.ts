/**
 * `mt compare` as a library call: several runs' translations of one split, scored by source-length
 * bucket against the same references, each system tested against the first (the baseline) with
 * paired bootstrap resampling — the comparison of Bahdanau et al. (2015, Fig. 2), where a
 * fixed-context encoder–decoder falls off on long sentences and attention does not.
 *
 * Scores and tests are `evaluate`'s (sacreBLEU-exact BLEU and chrF): once on the whole split, and
 * once per bucket on the lines in it, so each bucket gets its own Δ and p-value rather than a
 * share of the whole split's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName } from '../backend/names.ts';
import { readLines } from '../data/lines.ts';
import { translateRun } from '../decode/run.ts';
import { UserError } from '../errors.ts';
import { evaluate, type EvalOptions, type EvalReport, type NamedLines } from '../metrics/evaluate.ts';
import { renderTable } from '../metrics/format.ts';
import { evalOptionsFor } from '../metrics/run.ts';
import { pySplit } from '../metrics/text.ts';
import { LAYOUT, RunDir } from '../run/rundir.ts';
import { writeJsonAtomic } from '../util/atomic.ts';
import { Logger } from '../util/log.ts';
import { MT_VERSION } from '../version.ts';
import { lengthSpec, type LengthSeries } from './plots/length.ts';
import { renderFigure, writeFigure } from './plots/render.ts';

/** The metrics compared: BLEU, the figure's, and chrF, which is steadier on short segments. */
const METRICS = ['bleu', 'chrf'] as const;
type CompareMetric = (typeof METRICS)[number];

/** Below this p-value a difference is marked significant. */
export const SIGNIFICANCE_LEVEL = 0.05;

export interface CompareOptions {
  /** Run directories; the first is the baseline. */
  runs: string[];
  /** One label per run (default: the run directories' names). */
  names?: string[];
  /** The prepared split compared (data/<split>.src|.tgt, translations/<split>.hyp); default test. */
  split?: string;
  /** Upper bounds of the length buckets in words (default: the first run's eval.length_buckets). */
  buckets?: number[];
  /** Bootstrap resamples (default: the first run's eval.bootstrap_samples). */
  samples?: number;
  /** Resampling seed (default: the first run's eval.seed). */
  seed?: number;
  /** tfjs backend for translating runs that have no translations yet (default: that run's config). */
  backend?: BackendName;
  /** Messages and the translation progress bar (default: silent). */
  log?: Logger;
}

/** One system's scores on a set of segments; null where the set is empty. */
export interface SystemCell {
  name: string;
  bleu: number | null;
  chrf: number | null;
  /** Half-width of the bootstrap 95% interval of each score. */
  bleu_ci: number | null;
  chrf_ci: number | null;
  /** This system's score minus the baseline's (null for the baseline itself). */
  delta_bleu: number | null;
  delta_chrf: number | null;
  /** Paired bootstrap p-value against the baseline (null for the baseline itself). */
  p_bleu: number | null;
  p_chrf: number | null;
}

export interface CompareRow {
  /** "≤10", "11-20", ">50", or "all" for the whole split. */
  label: string;
  min: number;
  /** null: no upper bound. */
  max: number | null;
  segments: number;
  systems: SystemCell[];
}

export interface CompareSystem {
  name: string;
  run: string;
  hypotheses: string;
  /** Whether compare translated the split itself (the file was missing). */
  translated: boolean;
}

export interface CompareReport {
  format: 'mt-compare';
  format_version: 1;
  mt_version: string;
  split: string;
  segments: number;
  source: string;
  reference: string;
  baseline: string;
  systems: CompareSystem[];
  /** sacreBLEU's names of the metrics (BLEU, chrF2) and their signatures, from the baseline's whole-split scores. */
  metric_names: Record<CompareMetric, string>;
  signatures: Record<CompareMetric, string>;
  significance: { test: 'bs'; samples: number; seed: number; level: number };
  length_buckets: number[];
  overall: CompareRow;
  buckets: CompareRow[];
  warnings: string[];
}

const silent = (): Logger => new Logger({ quiet: true, json: false, verbose: false });

function fileNames(run: RunDir, split: string): { src: string; tgt: string; hyp: string } {
  return {
    src: run.path(LAYOUT.data, `${split}.src`),
    tgt: run.path(LAYOUT.data, `${split}.tgt`),
    hyp: run.path(LAYOUT.translations, `${split}.hyp`),
  };
}

/** Default labels: the directories' names, made unique (a run compared with itself stays two lines). */
function defaultNames(runs: string[]): string[] {
  const seen = new Map<string, number>();
  return runs.map((r) => {
    const base = path.basename(path.resolve(r));
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

/** `--buckets 10,20,30`: positive whole numbers of words, increasing. */
export function parseBucketList(text: string): number[] {
  const parts = text.split(',').map((b) => b.trim());
  if (parts.every((b) => b === '')) throw new UserError('--buckets: give at least one bucket bound, e.g. 10,20,30');
  const bounds = parts.map((b) => {
    const n = /^\d+$/.test(b) ? Number(b) : NaN;
    if (!Number.isSafeInteger(n) || n < 1) throw new UserError(`--buckets: '${b}' is not a whole number of words ≥ 1 (in ${text})`);
    return n;
  });
  bounds.forEach((b, i) => {
    if (i > 0 && b <= bounds[i - 1]!) throw new UserError(`--buckets: bounds must increase (${bounds[i - 1]} then ${b})`);
  });
  return bounds;
}

const preview = (line: string | undefined): string => (line === undefined ? '(no line)' : JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line));

/** Every run must be scored on the same text: the first difference, named, is the whole error. */
function checkSame(a: NamedLines, b: NamedLines): void {
  const n = Math.max(a.lines.length, b.lines.length);
  for (let i = 0; i < n; i++) {
    if (a.lines[i] !== b.lines[i]) {
      throw new UserError(`${a.name} and ${b.name} differ at line ${i + 1} (${preview(a.lines[i])} vs ${preview(b.lines[i])}); compared runs need the same split`);
    }
  }
}

/** Translates a run's split with its best checkpoint (else its last) into translations/<split>.hyp. */
async function translateSplit(run: RunDir, split: string, sentences: number, hypFile: string, backend: BackendName | undefined, log: Logger): Promise<void> {
  try {
    // The whole split sorted into batches at once, as compare has always done (see `window`).
    await translateRun(run, {
      split,
      format: 'text',
      window: Infinity,
      backend,
      log,
      onStart: ({ translator }) => log.info(`${hypFile}: missing; translating ${sentences} sentences with the ${translator.source}`),
    });
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${hypFile}: no translations, and none can be made: ${e.message}`);
    throw e;
  }
}

function cell(report: EvalReport, k: number): SystemCell {
  const s = report.systems[k]!;
  const base = report.systems[0]!;
  const value = (m: CompareMetric): number | null => s.scores[m]?.score ?? null;
  const delta = (m: CompareMetric): number | null => (k === 0 ? null : s.scores[m]!.score - base.scores[m]!.score);
  return {
    name: s.name,
    bleu: value('bleu'),
    chrf: value('chrf'),
    bleu_ci: s.scores.bleu?.ci ?? null,
    chrf_ci: s.scores.chrf?.ci ?? null,
    delta_bleu: delta('bleu'),
    delta_chrf: delta('chrf'),
    p_bleu: k === 0 ? null : (s.scores.bleu?.p_value ?? null),
    p_chrf: k === 0 ? null : (s.scores.chrf?.p_value ?? null),
  };
}

const emptyCell = (name: string): SystemCell => ({
  name, bleu: null, chrf: null, bleu_ci: null, chrf_ci: null, delta_bleu: null, delta_chrf: null, p_bleu: null, p_chrf: null,
});

/** Score every run's translations of the split by source-length bucket, each against the first run. */
export async function compareRuns(options: CompareOptions): Promise<CompareReport> {
  const log = options.log ?? silent();
  const split = options.split ?? 'test';
  if (options.runs.length < 2) throw new UserError(`--runs: give two or more run directories to compare (got ${options.runs.length})`);
  if (options.names && options.names.length !== options.runs.length) {
    throw new UserError(`--names: ${options.names.length} names for ${options.runs.length} runs`);
  }
  const names = options.names ?? defaultNames(options.runs);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UserError(`--names: '${dup}' is given twice; each run needs its own name`);
  if (names.some((n) => n.trim() === '')) throw new UserError('--names: a name is empty');

  const runs = options.runs.map((r) => RunDir.open(r));
  const cfg = runs[0]!.config.eval;
  // The config's list is taken as evaluate takes it (sorted, repeats dropped); one given must be in order.
  const buckets = options.buckets ? parseBucketList(options.buckets.join(',')) : [...new Set(cfg.length_buckets)].sort((a, b) => a - b);
  const warnings: string[] = [];
  runs.slice(1).forEach((r, k) => {
    if (r.config.eval.tokenize !== cfg.tokenize || r.config.eval.lowercase !== cfg.lowercase) {
      warnings.push(`${names[k + 1]} is configured with eval.tokenize ${r.config.eval.tokenize}, lowercase ${r.config.eval.lowercase}; all runs are scored as the baseline ${names[0]} is (${cfg.tokenize}, lowercase ${cfg.lowercase})`);
    }
  });

  // Sources and references first: a mismatch is found before anything is translated.
  const files = runs.map((r) => fileNames(r, split));
  const texts: { src: NamedLines; tgt: NamedLines }[] = [];
  for (const f of files) {
    for (const file of [f.src, f.tgt]) {
      if (!fs.existsSync(file)) throw new UserError(`${file}: no such file (run mt prepare first, or check --split)`);
    }
    texts.push({ src: { name: f.src, lines: await readLines(f.src) }, tgt: { name: f.tgt, lines: await readLines(f.tgt) } });
  }
  for (const t of texts.slice(1)) {
    checkSame(texts[0]!.src, t.src);
    checkSame(texts[0]!.tgt, t.tgt);
  }
  const sources = texts[0]!.src;
  const references = texts[0]!.tgt;
  if (sources.lines.length === 0) throw new UserError(`${sources.name}: empty, nothing to compare`);

  const systems: CompareSystem[] = [];
  const hypotheses: NamedLines[] = [];
  for (const [k, run] of runs.entries()) {
    const hyp = files[k]!.hyp;
    const translated = !fs.existsSync(hyp);
    if (translated) await translateSplit(run, split, sources.lines.length, hyp, options.backend, log);
    const lines = await readLines(hyp);
    // Checked here, not left to evaluate, so the error names the file rather than the run's label.
    if (lines.length !== sources.lines.length) {
      throw new UserError(`${hyp} has ${lines.length} lines but ${sources.name} has ${sources.lines.length}; translate the split again (mt translate --run ${run.root})`);
    }
    systems.push({ name: names[k]!, run: run.root, hypotheses: hyp, translated });
    hypotheses.push({ name: names[k]!, lines });
  }

  const evalOptions: EvalOptions = {
    ...evalOptionsFor(cfg),
    metrics: [...METRICS],
    paired: 'bs',
    bootstrapSamples: options.samples ?? cfg.bootstrap_samples,
    seed: options.seed ?? cfg.seed,
    lengthBuckets: buckets,
  };
  const whole = evaluate({ systems: hypotheses, references: [references], source: sources }, evalOptions);
  warnings.push(...whole.warnings);
  const overall: CompareRow = { label: 'all', min: 0, max: null, segments: whole.segments, systems: names.map((_, k) => cell(whole, k)) };

  // The bucket bounds are evaluate's (its report of the whole split); the lines in each are rescored
  // on their own, so the paired test resamples within the bucket.
  const lengths = sources.lines.map((l) => pySplit(l).length);
  const rows = whole.systems[0]!.length_buckets.map((b): CompareRow => {
    const picked = lengths.flatMap((len, i) => (len >= b.min && (b.max === null || len <= b.max) ? [i] : []));
    const row = { label: b.label, min: b.min, max: b.max, segments: picked.length };
    if (picked.length === 0) return { ...row, systems: names.map(emptyCell) };
    const subset = (n: NamedLines): NamedLines => ({ name: n.name, lines: picked.map((i) => n.lines[i]!) });
    const part = evaluate({ systems: hypotheses.map(subset), references: [subset(references)] }, { ...evalOptions, lengthBuckets: [] });
    return { ...row, systems: names.map((_, k) => cell(part, k)) };
  });

  const base = whole.systems[0]!.scores;
  return {
    format: 'mt-compare',
    format_version: 1,
    mt_version: MT_VERSION,
    split,
    segments: whole.segments,
    source: sources.name,
    reference: references.name,
    baseline: names[0]!,
    systems,
    metric_names: { bleu: base.bleu!.name, chrf: base.chrf!.name },
    signatures: { bleu: base.bleu!.signature, chrf: base.chrf!.signature },
    significance: { test: 'bs', samples: evalOptions.bootstrapSamples, seed: evalOptions.seed, level: SIGNIFICANCE_LEVEL },
    length_buckets: buckets,
    overall,
    buckets: rows,
    warnings,
  };
}

/** Where `mt compare` writes by default: beside the first run, compare-<names joined by -vs->[-<split>]. */
export function defaultCompareDir(runs: string[], names: string[], split = 'test'): string {
  const slug = names.map((n) => n.replace(/[^A-Za-z0-9._]+/g, '_')).join('-vs-');
  return path.join(path.dirname(path.resolve(runs[0]!)), `compare-${slug}${split === 'test' ? '' : `-${split}`}`);
}

/** Writes OUT/compare.json and the BLEU-by-length figure OUT/bleu-by-length.{svg,png}; returns the paths. */
export async function writeComparison(report: CompareReport, out: string, warn: (m: string) => void = () => {}): Promise<string[]> {
  const json = path.join(out, 'compare.json');
  writeJsonAtomic(json, report);
  // One line per system over the buckets that have segments (an empty bucket has no score).
  const series: LengthSeries[] = report.systems.map((s, k) => ({
    name: s.name,
    buckets: report.buckets.flatMap((b) => {
      const score = b.systems[k]!.bleu;
      return score === null ? [] : [{ bucket: b.label, score }];
    }),
  }));
  const title = `BLEU by source length: ${report.systems.map((s) => s.name).join(' vs ')} (${report.split})`;
  const figure = await renderFigure(lengthSpec(series, 'BLEU', title), { warn });
  return [json, ...writeFigure(figure, out, 'bleu-by-length')];
}

const fixed = (x: number | null, digits = 2): string => (x === null ? '-' : x.toFixed(digits));
const signed = (x: number | null): string => (x === null ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}`);
const pValue = (p: number | null): string => (p === null ? '-' : `${p.toFixed(4)}${p < SIGNIFICANCE_LEVEL ? ' *' : ''}`);

/**
 * The report as text: one row per bucket and one for the whole split; for every system its BLEU,
 * then (but for the baseline) Δ BLEU and p, then every system's chrF.
 */
export function formatCompareReport(report: CompareReport): string {
  const { bleu: bleuName, chrf: chrfName } = report.metric_names;
  const header = ['length', 'segments'];
  report.systems.forEach((s, k) => header.push(`${bleuName} ${s.name}`, ...(k === 0 ? [] : ['Δ', 'p'])));
  report.systems.forEach((s) => header.push(`${chrfName} ${s.name}`));
  const line = (r: CompareRow): string[] => [
    r.label,
    String(r.segments),
    ...r.systems.flatMap((c, k) => [fixed(c.bleu), ...(k === 0 ? [] : [signed(c.delta_bleu), pValue(c.p_bleu)])]),
    ...r.systems.map((c) => fixed(c.chrf)),
  ];
  const { samples, seed, level } = report.significance;
  return [
    `${report.systems.map((s) => s.name).join(' vs ')}: ${report.split} split, ${report.segments} segments, by source length in words (${report.source})`,
    renderTable([header, ...report.buckets.map(line), line(report.overall)]),
    `Δ: ${bleuName} minus the baseline's (${report.baseline}); p: paired bootstrap resampling within each bucket (${samples} resamples, seed ${seed}); * p < ${level}`,
    `signatures:\n${renderTable([[`  ${bleuName}`, report.signatures.bleu], [`  ${chrfName}`, report.signatures.chrf]])}`,
  ].join('\n\n');
}
