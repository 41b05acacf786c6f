/**
 * `mt plot …` as library calls: each reads its inputs, renders one figure and writes it as SVG
 * and PNG into a run directory's plots/ folder. Returns the paths written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../../errors.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { attentionSpec, readAttentionRecord } from './attention.ts';
import { compareCurvesSpec, curvesSpec, hasScores, missingX, readMetricsLog, requireX, xTitle, xValue, type MetricsLog, type MetricsPoint, type XAxis } from './curves.ts';
import { DEFAULT_LENGTH_SCORES, lengthSpec, readBucketScores } from './length.ts';
import { renderFigure, writeFigure, type RenderOptions } from './render.ts';

/** Heatmap of sentence `index` of an attention JSON-lines file → RUN/plots/attention-INDEX.{svg,png}. */
export async function plotAttention(runDir: string, input: string, index = 0, opts: RenderOptions = {}): Promise<string[]> {
  const record = readAttentionRecord(input, index);
  const figure = await renderFigure(attentionSpec(record, `attention, sentence ${index}`), opts);
  return writeFigure(figure, path.join(runDir, LAYOUT.plots), `attention-${index}`);
}

export interface CurvesPlotOptions extends RenderOptions {
  /** More runs: then the figure is validation BLEU/chrF of every run, one line each. */
  compare?: string[];
  /** The x axis; default step for one run, for several cpu-hours where every run logged cpu_s, else hours. */
  x?: XAxis;
  /** Legend labels for the run and each compared one; default: config name, else folder name. */
  names?: string[];
  /** Write OUTPUT.svg and OUTPUT.png (a .svg/.png ending is dropped) instead of into RUN/plots/. */
  output?: string;
  /** Told which x axis was chosen when several runs left it to mt and not all have CPU time. */
  note?: (message: string) => void;
}

/**
 * A run directory's logs/metrics.jsonl, or the path itself when it names a file: a metrics log
 * kept apart from its run (e.g. committed beside a report, where the run directory is not).
 */
const isLogFile = (source: string) => fs.existsSync(source) && fs.statSync(source).isFile();
const metricsFile = (source: string) => (isLogFile(source) ? source : path.join(source, LAYOUT.logs, 'metrics.jsonl'));

/** Where a figure goes: `output` (less a .svg/.png ending) or RUN/plots/NAME. */
function destination(runDir: string, name: string, output: string | undefined): [dir: string, name: string] {
  if (output === undefined) return [path.join(runDir, LAYOUT.plots), name];
  return [path.dirname(output), path.basename(output).replace(/\.(svg|png)$/i, '')];
}

/**
 * One run: loss / perplexity / BLEU from RUN/logs/metrics.jsonl → RUN/plots/curves.{svg,png}
 * (curves-X.{svg,png} for another x axis than step). With `compare`: validation BLEU/chrF of
 * every run → FIRST/plots/compare-curves-X.{svg,png}. Returns the paths written.
 */
export async function plotCurves(runDir: string, opts: CurvesPlotOptions = {}): Promise<string[]> {
  const dirs = [runDir, ...(opts.compare ?? [])];
  if (opts.names && opts.names.length !== dirs.length) throw new UserError(`--names: ${opts.names.length} names for ${dirs.length} runs`);
  const twice = dirs.find((d, i) => dirs.findIndex((e) => path.resolve(e) === path.resolve(d)) !== i);
  if (twice !== undefined) throw new UserError(`${twice}: the same run is given twice`);
  // Before any log is read or figure drawn: a metrics file has no plots/ folder to default to.
  if (opts.output === undefined && isLogFile(runDir)) throw new UserError(`${runDir} is a metrics file, not a run directory: say where the figure goes with -o/--output`);
  const logs = dirs.map((dir) => readMetricsLog(metricsFile(dir)));
  if (dirs.length === 1) {
    const x = opts.x ?? 'step';
    requireX(logs[0]!, x);
    const title = `training curves: ${opts.names?.[0] ?? logName(runDir) ?? path.basename(path.resolve(runDir))}`;
    const figure = await renderFigure(curvesSpec(logs[0]!.points, title, x), opts);
    return writeFigure(figure, ...destination(runDir, x === 'step' ? 'curves' : `curves-${x}`, opts.output));
  }
  for (const log of logs) {
    if (!log.points.some(hasScores)) throw new UserError(`${log.file}: no validation BLEU or chrF to plot (no validation has run yet)`);
  }
  const x = opts.x ?? defaultCompareX(logs, opts.note);
  const names = opts.names ?? runNames(dirs);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new UserError(`--names: '${duplicate}' is given twice`);
  const runs = logs.map((log, i) => ({ name: names[i]!, points: scoredPointsOn(log, x, opts.note) }));
  const figure = await renderFigure(compareCurvesSpec(runs, x, `validation scores by ${xTitle(x)}`), opts);
  return writeFigure(figure, ...destination(runDir, `compare-curves-${x}`, opts.output));
}

/**
 * A run's validation points that have a value on axis `x`. A run resumed from one trained before
 * mt recorded CPU time has cpu_s only from the resume on: its earlier validations are left out,
 * with a note naming them. A run with no value at all for `x` is an error (requireX).
 */
function scoredPointsOn(log: MetricsLog, x: XAxis, note?: (message: string) => void): MetricsPoint[] {
  const scored = log.points.filter(hasScores);
  const placed = scored.filter((pt) => xValue(pt, x) !== undefined);
  if (placed.length === 0) requireX(log, x, hasScores);
  if (placed.length < scored.length) {
    note?.(`${missingX(log, x, hasScores)}: the first of ${scored.length - placed.length} validation(s) without a value for --x ${x}, left out of the figure`);
  }
  return placed;
}

/** cpu-hours when every run logged cpu_s with (some of) its validations, else wall-clock hours (with a note why). */
function defaultCompareX(logs: MetricsLog[], note?: (message: string) => void): XAxis {
  for (const log of logs) {
    const where = log.points.some((pt) => hasScores(pt) && xValue(pt, 'cpu-hours') !== undefined) ? undefined : missingX(log, 'cpu-hours', hasScores);
    if (where !== undefined) {
      note?.(`x axis: hours (wall clock), not CPU-hours: ${where} has no cpu_s (logged before mt recorded CPU time)`);
      return 'hours';
    }
  }
  return 'cpu-hours';
}

/** Legend names: each run's config name; where those repeat, folder names; where those repeat too, the paths as given. */
function runNames(dirs: string[]): string[] {
  const unique = (names: string[]) => new Set(names).size === names.length;
  const configured = dirs.map((dir) => configName(dir) ?? logName(dir) ?? path.basename(path.resolve(dir)));
  if (unique(configured)) return configured;
  const folders = dirs.map((dir) => path.basename(path.resolve(dir)));
  return unique(folders) ? folders : dirs;
}

/** A metrics file's name less `.metrics.jsonl` / `.jsonl` (multi30k-attention.metrics.jsonl → multi30k-attention). */
function logName(source: string): string | undefined {
  return isLogFile(source) ? path.basename(source).replace(/(\.metrics)?\.jsonl$/, '') : undefined;
}

/** The `name:` of RUN/config.yaml, if it has a readable one (a figure is not the place to insist). */
function configName(runDir: string): string | undefined {
  try {
    const config = parseYaml(fs.readFileSync(path.join(runDir, LAYOUT.config), 'utf8')) as { name?: unknown } | null;
    return typeof config?.name === 'string' && config.name !== '' ? config.name : undefined;
  } catch {
    return undefined;
  }
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
export {
  compareCurvesSpec,
  curvesSpec,
  parseXAxis,
  readMetrics,
  readMetricsLog,
  X_AXES,
  type MetricsLog,
  type MetricsPoint,
  type RunCurves,
  type XAxis,
} from './curves.ts';
export { DEFAULT_LENGTH_SCORES, lengthSpec, readBucketScores, type BucketScore, type LengthSeries } from './length.ts';
export { findPlotFonts, renderFigure, writeFigure, type Figure } from './render.ts';
