/** Text rendering of an evaluation report: score tables, significance, length buckets, signatures. */
import type { BleuResult } from './bleu.ts';
import type { EvalReport, ScoreEntry, SystemReport } from './evaluate.ts';
import type { TerResult } from './ter.ts';
import type { MetricId } from './types.ts';

const fixed = (x: number, digits = 2): string => x.toFixed(digits);

/** Columns padded to their widest cell, two spaces apart. */
export function renderTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, c) => cell + ' '.repeat(widths[c]! - [...cell].length)).join('  ').trimEnd()).join('\n');
}

function scoreWithInterval(e: ScoreEntry): string {
  return e.mean !== undefined && e.ci !== undefined ? `${fixed(e.score)} (μ = ${fixed(e.mean)} ± ${fixed(e.ci)})` : fixed(e.score);
}

function details(metric: MetricId, e: ScoreEntry): string {
  if (metric === 'bleu') {
    const b = e as ScoreEntry & BleuResult;
    const ratio = b.ref_len > 0 ? b.sys_len / b.ref_len : 0;
    return `${b.precisions.map((p) => fixed(p, 1)).join('/')} (BP = ${fixed(b.bp, 3)} ratio = ${fixed(ratio, 3)} hyp_len = ${b.sys_len} ref_len = ${b.ref_len})`;
  }
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

function singleSystem(report: EvalReport, system: SystemReport): string {
  const rows = [['metric', 'score', 'details']];
  for (const m of report.metrics) {
    const e = system.scores[m];
    if (e) rows.push([e.name, scoreWithInterval(e), details(m, e)]);
  }
  return renderTable(rows);
}

function systemsTable(report: EvalReport): string {
  const ci = report.confidence !== null;
  const header = ['system', ...metricNames(report).map((n) => (ci ? `${n} (μ ± 95% CI)` : n))];
  const rows = [header];
  report.systems.forEach((s, k) => {
    rows.push([s.name, ...report.metrics.map((m) => (s.scores[m] ? scoreWithInterval(s.scores[m]) : ''))]);
    if (k > 0 && report.significance) {
      rows.push(['', ...report.metrics.map((m) => (s.scores[m]?.p_value !== undefined ? `(p = ${fixed(s.scores[m].p_value, 4)})` : ''))]);
    }
  });
  return renderTable(rows);
}

function lengthTables(report: EvalReport): string {
  const basis = report.length_basis === 'source' ? `source length in words (${report.source})` : `reference length in words (${report.references[0]}; no source given)`;
  const parts = [`scores by ${basis}:`];
  for (const s of report.systems) {
    if (report.systems.length > 1) parts.push(`${s.name}:`);
    const rows = [['length', 'segments', ...metricNames(report)]];
    for (const b of s.length_buckets) {
      rows.push([b.label, String(b.segments), ...report.metrics.map((m) => (b.scores[m] !== undefined ? fixed(b.scores[m]) : '-'))]);
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

/** The report as text: the scores, then significance notes, length buckets and signatures. */
export function formatEvalReport(report: EvalReport): string {
  const only = report.systems.length === 1 ? report.systems[0] : undefined;
  const refs = `${report.references.length} reference${report.references.length === 1 ? '' : 's'}`;
  const parts = [
    only
      ? `${only.name} vs ${refs}, ${report.segments} segments\n${singleSystem(report, only)}`
      : `${report.systems.length} systems vs ${refs}, ${report.segments} segments\n${systemsTable(report)}`,
  ];
  const notes: string[] = [];
  if (report.confidence) notes.push(`μ ± CI: mean and half-width of the 95% interval over ${report.confidence.samples} bootstrap resamples (seed ${report.confidence.seed})`);
  if (report.significance) {
    const { test, samples, seed, baseline } = report.significance;
    const how = test === 'bs' ? `paired bootstrap resampling (${samples} resamples` : `paired approximate randomization (${samples} trials`;
    notes.push(`p: ${how}, seed ${seed}) against the baseline ${baseline}; p < 0.05 means the difference is unlikely to be chance`);
  }
  if (notes.length) parts.push(notes.join('\n'));
  parts.push(lengthTables(report), signatures(report));
  return parts.join('\n\n');
}

/** `-b`: the scores alone, one per line (each system's metrics in order, then the next system). */
export function formatScoresOnly(report: EvalReport): string {
  return report.systems.flatMap((s) => report.metrics.map((m) => (s.scores[m] ? fixed(s.scores[m].score) : ''))).join('\n');
}
