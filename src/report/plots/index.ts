/**
 * `mt plot …` as library calls: each reads its inputs, renders one figure and writes it as SVG
 * and PNG into a run directory's plots/ folder. Returns the paths written.
 */
import * as path from 'node:path';
import { LAYOUT } from '../../run/rundir.ts';
import { attentionSpec, readAttentionRecord } from './attention.ts';
import { curvesSpec, readMetrics } from './curves.ts';
import { DEFAULT_LENGTH_SCORES, lengthSpec, readBucketScores } from './length.ts';
import { renderFigure, writeFigure, type RenderOptions } from './render.ts';

/** Heatmap of sentence `index` of an attention JSON-lines file → RUN/plots/attention-INDEX.{svg,png}. */
export async function plotAttention(runDir: string, input: string, index = 0, opts: RenderOptions = {}): Promise<string[]> {
  const record = readAttentionRecord(input, index);
  const figure = await renderFigure(attentionSpec(record, `attention, sentence ${index}`), opts);
  return writeFigure(figure, path.join(runDir, LAYOUT.plots), `attention-${index}`);
}

/** Loss / perplexity / BLEU over steps from RUN/logs/metrics.jsonl → RUN/plots/curves.{svg,png}. */
export async function plotCurves(runDir: string, opts: RenderOptions = {}): Promise<string[]> {
  const points = readMetrics(path.join(runDir, LAYOUT.logs, 'metrics.jsonl'));
  const figure = await renderFigure(curvesSpec(points, `training curves: ${path.basename(path.resolve(runDir))}`), opts);
  return writeFigure(figure, path.join(runDir, LAYOUT.plots), 'curves');
}

export interface LengthPlotOptions extends RenderOptions {
  /** Each run's scores by length, relative to the run directory. */
  scores?: string;
  /** Line labels; default: the run directories' names. */
  names?: string[];
  metric?: string;
  /** Folder for the figure; default: the first run's plots/. */
  out?: string;
}

/** One line per run of score by source-length bucket → OUT/<metric>-by-length.{svg,png}. */
export async function plotLength(runDirs: string[], opts: LengthPlotOptions = {}): Promise<string[]> {
  const metric = opts.metric ?? 'BLEU';
  const series = runDirs.map((dir, i) => ({
    name: opts.names?.[i] ?? path.basename(path.resolve(dir)),
    buckets: readBucketScores(path.resolve(dir, opts.scores ?? DEFAULT_LENGTH_SCORES)),
  }));
  const figure = await renderFigure(lengthSpec(series, metric), opts);
  const out = opts.out ?? path.join(runDirs[0]!, LAYOUT.plots);
  return writeFigure(figure, out, `${metric.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-by-length`);
}

export { attentionSpec, readAttentionRecord, type AttentionRecord } from './attention.ts';
export { curvesSpec, readMetrics, type MetricsPoint } from './curves.ts';
export { DEFAULT_LENGTH_SCORES, lengthSpec, readBucketScores, type BucketScore, type LengthSeries } from './length.ts';
export { findPlotFonts, renderFigure, writeFigure, type Figure } from './render.ts';
