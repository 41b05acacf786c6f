/**
 * Training curves from a run's logs/metrics.jsonl: loss, perplexity and validation BLEU/chrF
 * against the training step (or epoch, wall-clock hours, CPU-hours). The log mixes training
 * lines (loss, ppl, lr) and validation lines (valid_loss, valid_ppl, bleu, chrf); each line
 * contributes whatever it has. compareCurvesSpec draws the validation scores of several runs
 * in one figure, one line per run.
 */
import * as fs from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../../errors.ts';
import { parseJsonObjectLine } from './json-line.ts';

export interface MetricsPoint {
  step: number;
  epoch?: number;
  /** Wall-clock seconds since the run started (across resumes). */
  elapsed_s?: number;
  /** CPU seconds of the training process so far (logs written before mt recorded it lack it). */
  cpu_s?: number;
  loss?: number;
  ppl?: number;
  lr?: number;
  valid_loss?: number;
  valid_ppl?: number;
  bleu?: number;
  chrf?: number;
}

const FIELDS = ['epoch', 'elapsed_s', 'cpu_s', 'loss', 'ppl', 'lr', 'valid_loss', 'valid_ppl', 'bleu', 'chrf'] as const;

/** A metrics file as read: its points and the 1-based line each came from (for messages). */
export interface MetricsLog {
  file: string;
  points: MetricsPoint[];
  lines: number[];
}

/** Reads metrics.jsonl; fields other than those above are ignored, null values skipped. */
export function readMetrics(file: string): MetricsPoint[] {
  return readMetricsLog(file).points;
}

/** readMetrics, keeping where each point came from. */
export function readMetricsLog(file: string): MetricsLog {
  if (!fs.existsSync(file)) throw new UserError(`${file}: no such file (has the run been trained?)`);
  const points: MetricsPoint[] = [];
  const lines: number[] = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file}:${i + 1}`;
      const o = parseJsonObjectLine(line, where);
      if (typeof o.step !== 'number' || !Number.isFinite(o.step)) throw new UserError(`${where}: expected a numeric "step"`);
      const point: MetricsPoint = { step: o.step };
      for (const f of FIELDS) {
        const v = o[f];
        if (v === undefined || v === null) continue;
        if (typeof v !== 'number' || !Number.isFinite(v)) throw new UserError(`${where}: "${f}" must be a number, got ${JSON.stringify(v)}`);
        point[f] = v;
      }
      points.push(point);
      lines.push(i + 1);
    });
  if (points.length === 0) throw new UserError(`${file}: no metrics yet`);
  return { file, points, lines };
}

/** What the x axis can show. */
export const X_AXES = ['step', 'epoch', 'hours', 'cpu-hours'] as const;
export type XAxis = (typeof X_AXES)[number];

/** Each x axis: the metrics field it reads, the divisor to its unit, its title. */
const X_SOURCE: Record<XAxis, { field: 'step' | 'epoch' | 'elapsed_s' | 'cpu_s'; per: number; title: string }> = {
  step: { field: 'step', per: 1, title: 'step' },
  epoch: { field: 'epoch', per: 1, title: 'epoch' },
  hours: { field: 'elapsed_s', per: 3600, title: 'hours (wall clock)' },
  'cpu-hours': { field: 'cpu_s', per: 3600, title: 'CPU-hours' },
};

export function parseXAxis(value: string, flag = '--x'): XAxis {
  if ((X_AXES as readonly string[]).includes(value)) return value as XAxis;
  throw new UserError(`${flag}: expected ${X_AXES.join(', ')}; got '${value}'`);
}

export function xTitle(x: XAxis): string {
  return X_SOURCE[x].title;
}

/** Point `pt`'s position on axis `x`, undefined if its record lacks the field. */
export function xValue(pt: MetricsPoint, x: XAxis): number | undefined {
  const v = pt[X_SOURCE[x].field];
  return v === undefined ? undefined : v / X_SOURCE[x].per;
}

/** The first of `log`'s points that `which` selects and that has no value for `x`, as "FILE:LINE". */
export function missingX(log: MetricsLog, x: XAxis, which: (pt: MetricsPoint) => boolean = () => true): string | undefined {
  const i = log.points.findIndex((pt) => which(pt) && xValue(pt, x) === undefined);
  return i < 0 ? undefined : `${log.file}:${log.lines[i]}`;
}

/** Throws a UserError naming the first selected point of `log` without a value for `x`. */
export function requireX(log: MetricsLog, x: XAxis, which?: (pt: MetricsPoint) => boolean): void {
  const where = missingX(log, x, which);
  if (where === undefined) return;
  const field = X_SOURCE[x].field;
  const hint = x === 'cpu-hours' ? ' (logs written before mt recorded CPU time lack it; --x hours uses elapsed_s)' : '';
  throw new UserError(`${where}: no "${field}" for --x ${x}${hint}`);
}

/** [panel, series, field]: which field is drawn as which line in which panel. */
const LINES: readonly [string, string, keyof MetricsPoint][] = [
  ['loss', 'train', 'loss'],
  ['loss', 'valid', 'valid_loss'],
  ['perplexity (log scale)', 'train', 'ppl'],
  ['perplexity (log scale)', 'valid', 'valid_ppl'],
  ['BLEU / chrF (valid)', 'BLEU', 'bleu'],
  ['BLEU / chrF (valid)', 'chrF', 'chrf'],
];

/** Series and their colours, the same in every panel and every figure. */
const SERIES: readonly [string, string][] = [
  ['train', '#4c78a8'],
  ['valid', '#f58518'],
  ['BLEU', '#54a24b'],
  ['chrF', '#e45756'],
];

/** Loss, perplexity and BLEU/chrF panels of one run, against `x` (every point must have it: requireX). */
export function curvesSpec(points: MetricsPoint[], title = 'training curves', x: XAxis = 'step'): TopLevelSpec {
  const panels = [...new Set(LINES.map(([panel]) => panel))].filter((panel) =>
    LINES.some(([p, , field]) => p === panel && points.some((pt) => pt[field] !== undefined)),
  );
  if (panels.length === 0) throw new UserError('the metrics log has no loss, perplexity, BLEU or chrF values to plot');
  const present = SERIES.filter(([series]) => LINES.some(([, s, field]) => s === series && points.some((pt) => pt[field] !== undefined)));
  return {
    title: { text: title, anchor: 'start' },
    resolve: { scale: { x: 'shared' } },
    hconcat: panels.map((panel) => ({
      width: 260,
      height: 200,
      data: {
        values: LINES.filter(([p]) => p === panel).flatMap(([, series, field]) =>
          points.filter((pt) => pt[field] !== undefined).map((pt) => ({ x: xValue(pt, x), series, value: pt[field] })),
        ),
      },
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: xTitle(x) },
        y: {
          field: 'value',
          type: 'quantitative',
          title: panel,
          scale: panel.startsWith('perplexity') ? { type: 'log' } : { zero: false },
        },
        color: {
          field: 'series',
          type: 'nominal',
          title: null,
          scale: { domain: present.map(([s]) => s), range: present.map(([, c]) => c) },
        },
      },
    })),
  };
}

/** One run's metrics under its legend name. */
export interface RunCurves {
  name: string;
  points: MetricsPoint[];
}

/** Whether a point is drawn in the several-runs figure: a validation with BLEU or chrF. */
export const hasScores = (pt: MetricsPoint): boolean => pt.bleu !== undefined || pt.chrf !== undefined;

/**
 * Validation BLEU (and chrF, where any run has it, in a second panel) of several runs against
 * `x`, one line per run, in the order given. Every scored point must have `x` (requireX).
 */
export function compareCurvesSpec(runs: RunCurves[], x: XAxis, title = 'validation scores'): TopLevelSpec {
  if (runs.length === 0) throw new UserError('no runs to plot');
  const panels = (
    [
      ['BLEU (valid)', 'bleu'],
      ['chrF (valid)', 'chrf'],
    ] as const
  ).filter(([, field]) => runs.some((r) => r.points.some((pt) => pt[field] !== undefined)));
  if (panels.length === 0) throw new UserError('no validation BLEU or chrF to plot');
  return {
    title: { text: title, anchor: 'start' },
    resolve: { scale: { x: 'shared' } },
    hconcat: panels.map(([panel, field]) => ({
      width: 320,
      height: 240,
      data: {
        values: runs.flatMap((r) =>
          r.points.filter((pt) => pt[field] !== undefined).map((pt) => ({ x: xValue(pt, x), run: r.name, value: pt[field] })),
        ),
      },
      mark: { type: 'line', point: { size: 25 } },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: xTitle(x), scale: { zero: true } },
        y: { field: 'value', type: 'quantitative', title: panel, scale: { zero: true } },
        color: { field: 'run', type: 'nominal', title: 'run', scale: { domain: runs.map((r) => r.name) } },
      },
    })),
  };
}
