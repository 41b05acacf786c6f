/**
 * Training curves from a run's logs/metrics.jsonl: loss, perplexity and validation BLEU/chrF
 * against the training step. The log mixes training lines (loss, ppl, lr) and validation
 * lines (valid_loss, valid_ppl, bleu, chrf); each line contributes whatever it has.
 */
import * as fs from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import { UserError } from '../../errors.ts';
import { parseJsonObjectLine } from './json-line.ts';

export interface MetricsPoint {
  step: number;
  loss?: number;
  ppl?: number;
  lr?: number;
  valid_loss?: number;
  valid_ppl?: number;
  bleu?: number;
  chrf?: number;
}

const FIELDS = ['loss', 'ppl', 'lr', 'valid_loss', 'valid_ppl', 'bleu', 'chrf'] as const;

/** Reads metrics.jsonl; fields other than those above are ignored, null values skipped. */
export function readMetrics(file: string): MetricsPoint[] {
  if (!fs.existsSync(file)) throw new UserError(`${file}: no such file (has the run been trained?)`);
  const points: MetricsPoint[] = [];
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
    });
  if (points.length === 0) throw new UserError(`${file}: no metrics yet`);
  return points;
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

export function curvesSpec(points: MetricsPoint[], title = 'training curves'): TopLevelSpec {
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
          points.filter((pt) => pt[field] !== undefined).map((pt) => ({ step: pt.step, series, value: pt[field] })),
        ),
      },
      mark: { type: 'line', point: { size: 20 } },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
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
