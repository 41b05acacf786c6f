/**
 * Text rendering of an evaluation report: score tables, significance, length buckets, signatures;
 * and sacreBLEU's own lines for `-b` and `-sl`. Numbers are printed as Python prints them.
 */
import type { BleuResult } from './bleu.ts';
import type { EvalReport, ScoreEntry, SentenceReport, SystemReport } from './evaluate.ts';
import type { TerResult } from './ter.ts';
import { pyFixed } from './text.ts';
import type { MetricId, MetricResult } from './types.ts';

const fixed = (x: number, digits = 2): string => pyFixed(x, digits);

/** Decimals of the report's tables unless -w gives them (mt's table has always shown two). */
export const TABLE_WIDTH = 2;
/** sacreBLEU's default `-w`, for `-b` and `-sl`. */
export const SACREBLEU_WIDTH = 1;

/** Columns padded to their widest cell, two spaces apart. */
export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join('  ').trimEnd()).join('\n');
}

/** The score as sacreBLEU's Score.format prints it: `34.6`, or `34.6 (μ = 34.5 ± 1.2)` with an interval. */
function scoreWithInterval(e: ScoreEntry, width: number): string {
  return e.mean !== undefined && e.ci !== undefined ? `${fixed(e.score, width)} (μ = ${fixed(e.mean, width)} ± ${fixed(e.ci, width)})` : fixed(e.score, width);
}

/** sacreBLEU's BLEU details: precisions, brevity penalty, lengths (fixed decimals whatever -w is). */
function bleuDetails(b: BleuResult): string {
  const ratio = b.ref_len > 0 ? b.sys_len / b.ref_len : 0;
  return `${b.precisions.map((p) => fixed(p, 1)).join('/')} (BP = ${fixed(b.bp, 3)} ratio = ${fixed(ratio, 3)} hyp_len = ${b.sys_len} ref_len = ${b.ref_len})`;
}

function details(metric: MetricId, e: ScoreEntry): string {
  if (metric === 'bleu') return bleuDetails(e as ScoreEntry & BleuResult);
  if (metric === 'ter') {
    const t = e as ScoreEntry & TerResult;
    return `${t.num_edits} edits / ${fixed(t.ref_length, 1)} reference words`;
  }
  return '';
}

/** The name of each metric as its scores show it (chrF2, chrF2++, …), from the first system. */
function metricNames(report: EvalReport): string[] {
  return report.metrics.map((m) => report.systems[0]?.scores[m]?.name ?? m);
}

function singleSystem(report: EvalReport, system: SystemReport, width: number): string {
  const rows = [['metric', 'score', 'details']];
  for (const m of report.metrics) {
    const e = system.scores[m];
    if (e) rows.push([e.name, scoreWithInterval(e, width), details(m, e)]);
  }
  return renderTable(rows);
}

function systemsTable(report: EvalReport, width: number): string {
  const ci = report.confidence !== null;
  const header = ['system', ...metricNames(report).map((n) => (ci ? `${n} (μ ± 95% CI)` : n))];
  const rows = [header];
  report.systems.forEach((s, k) => {
    rows.push([s.name, ...report.metrics.map((m) => (s.scores[m] ? scoreWithInterval(s.scores[m], width) : ''))]);
    if (k > 0 && report.significance) {
      rows.push(['', ...report.metrics.map((m) => (s.scores[m]?.p_value !== undefined ? `(p = ${fixed(s.scores[m].p_value, 4)})` : ''))]);
    }
  });
  return renderTable(rows);
}

function lengthTables(report: EvalReport, width: number): string {
  const basis = report.length_basis === 'source' ? `source length in words (${report.source})` : `reference length in words (${report.references[0]}; no source given)`;
  const parts = [`scores by ${basis}:`];
  for (const s of report.systems) {
    if (report.systems.length > 1) parts.push(`${s.name}:`);
    const rows = [['length', 'segments', ...metricNames(report)]];
    for (const b of s.length_buckets) {
      rows.push([b.label, String(b.segments), ...report.metrics.map((m) => (b.scores[m] !== undefined ? fixed(b.scores[m], width) : '-'))]);
    }
    parts.push(renderTable(rows));
  }
  return parts.join('\n');
}

function signatures(report: EvalReport): string {
  const first = report.systems[0];
  if (!first) return '';
  const rows = report.metrics.flatMap((m) => (first.scores[m] ? [[`  ${first.scores[m].name}`, first.scores[m].signature]] : []));
  return `signatures:\n${renderTable(rows)}`;
}

/** The report as text: the scores (`width` decimals), then significance notes, length buckets and signatures. */
export function formatEvalReport(report: EvalReport, width = TABLE_WIDTH): string {
  const only = report.systems.length === 1 ? report.systems[0] : undefined;
  const refs = `${report.references.length} reference${report.references.length === 1 ? '' : 's'}`;
  const parts = [
    only
      ? `${only.name} vs ${refs}, ${report.segments} segments\n${singleSystem(report, only, width)}`
      : `${report.systems.length} systems vs ${refs}, ${report.segments} segments\n${systemsTable(report, width)}`,
  ];
  const notes: string[] = [];
  if (report.confidence) notes.push(`μ ± CI: mean and half-width of the 95% interval over ${report.confidence.samples} bootstrap resamples (seed ${report.confidence.seed})`);
  if (report.significance) {
    const { test, samples, seed, baseline } = report.significance;
    const how = test === 'bs' ? `paired bootstrap resampling (${samples} resamples` : `paired approximate randomization (${samples} trials`;
    notes.push(`p: ${how}, seed ${seed}) against the baseline ${baseline}; p < 0.05 means the difference is unlikely to be chance`);
  }
  if (notes.length) parts.push(notes.join('\n'));
  parts.push(lengthTables(report, width), signatures(report));
  return parts.join('\n\n');
}

/**
 * `-b`: the scores alone, one per line (each system's metrics in order, then the next system),
 * as sacreBLEU's `-b` prints each: `width` decimals, and the interval when there is one.
 */
export function formatScoresOnly(report: EvalReport, width = SACREBLEU_WIDTH): string {
  return report.systems.flatMap((s) => report.metrics.map((m) => (s.scores[m] ? scoreWithInterval(s.scores[m], width) : ''))).join('\n');
}

/**
 * One result as sacreBLEU's Score.format prints it: `BLEU|nrefs:1|…|version:2.6.0 = 32.2 83.3/…`
 * (BLEU adds its details), or the score alone with `scoreOnly`.
 */
export function formatSacrebleuScore(metric: MetricId, r: MetricResult, width: number, scoreOnly: boolean): string {
  const score = fixed(r.score, width);
  if (scoreOnly) return score;
  const line = `${r.name}|${r.signature} = ${score}`;
  return metric === 'bleu' ? `${line} ${bleuDetails(r as BleuResult)}` : line;
}

/**
 * `-sl`: one line per segment, as `sacrebleu -sl` prints them; with several metrics (sacreBLEU
 * takes one) each line has them all, tab-separated, in -m order.
 */
export function formatSentenceScores(report: SentenceReport, width: number, scoreOnly: boolean): string {
  return report.segments
    .map((s) => report.metrics.flatMap((m) => (s.scores[m] ? [formatSacrebleuScore(m, s.scores[m], width, scoreOnly)] : [])).join('\t'))
    .join('\n');
}
