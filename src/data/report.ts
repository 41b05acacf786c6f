/** The cleaning report: `data/report.json` in the run directory, and a table for the terminal. */
import type { StepCount, StepName } from './clean.ts';

/** How many places of skipped lines the report lists (all are counted). */
export const SKIPPED_LISTED = 100;

export interface CorpusCount {
  corpus: string;
  /** Pairs read, including skipped ones. */
  pairs: number;
  skipped_invalid: number;
}

/** One set (train, valid or test) read from its own corpora. */
export interface SetReport {
  corpora: CorpusCount[];
  read: number;
  /** Pairs skipped for invalid UTF-8 or NUL bytes (`on_invalid_utf8: skip`). */
  skipped_invalid: number;
  /** `file:line: problem` of the first SKIPPED_LISTED of them. */
  skipped_places: string[];
  steps: StepCount[];
  kept: number;
}

export type SetName = 'train' | 'valid' | 'test';

export interface DataReport {
  src_lang: string;
  tgt_lang: string;
  train: SetReport;
  /** null when the set was split off the cleaned training data. */
  valid: SetReport | null;
  test: SetReport | null;
  /** Pairs moved from the cleaned training data into valid and test, and the seed that chose them. */
  split: { seed: number; valid: number; test: number };
  /** Lines written to data/<set>.src and data/<set>.tgt. */
  output: Record<SetName, number>;
}

export const SETS: SetName[] = ['train', 'valid', 'test'];

function num(n: number): string {
  return n.toLocaleString('en-US');
}

/** Pairs a step removed: "-12", or "0". */
function minus(n: number): string {
  return n > 0 ? `-${num(n)}` : '0';
}

/** The report as an aligned table: a row per step, a column per set. */
export function formatReport(report: DataReport): string {
  const sets = SETS.map((name) => report[name]);
  const rows: string[][] = [['step', ...SETS]];
  rows.push(['pairs read', ...sets.map((s) => (s ? num(s.read) : 'from train'))]);
  if (sets.some((s) => s && s.skipped_invalid > 0)) {
    rows.push(['invalid lines (skipped)', ...sets.map((s) => (s ? minus(s.skipped_invalid) : ''))]);
  }
  const stepNames: StepName[] = [];
  for (const s of sets) for (const c of s?.steps ?? []) if (!stepNames.includes(c.step)) stepNames.push(c.step);
  for (const step of stepNames) {
    rows.push([
      step,
      ...sets.map((s) => {
        const c = s?.steps.find((x) => x.step === step);
        if (!c) return '';
        return 'changed' in c ? `${num(c.changed)} changed` : minus(c.dropped);
      }),
    ]);
  }
  if (report.split.valid + report.split.test > 0) {
    rows.push([
      `split off train (seed ${report.split.seed})`,
      minus(report.split.valid + report.split.test),
      report.valid ? '' : `+${num(report.split.valid)}`,
      report.test ? '' : `+${num(report.split.test)}`,
    ]);
  }
  rows.push(['written', ...SETS.map((name) => num(report.output[name]))]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const table = rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   '))
    .join('\n');
  return `cleaning report (data/report.json):\n${table}`;
}
