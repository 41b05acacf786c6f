/**
 * The measuring method shared by bench/train-throughput.ts and bench/decode-speed.ts: the sides
 * of a comparison (mt, PyTorch, …) run interleaved, trial by trial (mt, PyTorch, mt, PyTorch, …),
 * so a change in the machine's load hits both sides alike; each side is summarised by the median,
 * minimum and maximum of its trials, a comparison by the ratio of the medians and the range of the
 * per-trial ratios (trial i of one side over trial i of the other); and the 1-minute load average
 * before and after says whether the machine was idle enough for the figures to mean anything.
 *
 * Pure functions apart from `interleave` (which runs what it is given) and `loadAverage`
 * (os.loadavg); test/bench-trials.test.ts covers the statistics and the idle threshold.
 */
import * as os from 'node:os';

/** Defaults of the method (issue 17): at least 5 trials a side, each at least 20 s long. */
export const DEFAULT_TRIALS = 5;
export const DEFAULT_MIN_SECONDS = 20;

/** parseArgs options every bench takes, with the defaults above. */
export const TRIAL_OPTIONS = {
  trials: { type: 'string', default: String(DEFAULT_TRIALS) },
  'min-seconds': { type: 'string', default: String(DEFAULT_MIN_SECONDS) },
  json: { type: 'string' },
} as const;

/** A whole number ≥ `min` from a command-line flag, or an error naming the flag. */
export function wholeNumber(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`${flag}: expected a whole number ≥ ${min}, got ${value}`);
  return n;
}

/** A number ≥ 0 from a command-line flag (seconds), or an error naming the flag. */
export function secondsFlag(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${flag}: expected a number of seconds ≥ 0, got ${value}`);
  return n;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** number of trials */
  n: number;
}

export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

export interface Comparison {
  /** median of side a over median of side b */
  ratioOfMedians: number;
  /** a[i] / b[i]: trial i of one side over trial i of the other */
  trialRatios: number[];
  min: number;
  max: number;
}

/** Side a against side b (higher is faster: rates, not times), trial by trial. */
export function compare(a: readonly number[], b: readonly number[]): Comparison {
  if (a.length !== b.length || a.length === 0) throw new Error(`compare: ${a.length} trials against ${b.length}; expected the same number, at least 1`);
  const trialRatios = a.map((x, i) => x / b[i]!);
  return { ratioOfMedians: median(a) / median(b), trialRatios, min: Math.min(...trialRatios), max: Math.max(...trialRatios) };
}

/** Load above which the machine does not count as idle: half the cores, plus this margin. */
export const IDLE_MARGIN = 0.5;

/**
 * The highest 1-minute load average at which the machine counts as idle: 0.5 × cores + 0.5
 * (1.5 on 2 cores), plus `ownThreads`, the threads the bench itself kept busy in the minute
 * before the reading (a reading taken right after the trials counts the bench's own threads:
 * ~2 after a 2-thread bench on an otherwise idle machine).
 */
export function idleThreshold(cores: number, ownThreads = 0): number {
  return 0.5 * cores + IDLE_MARGIN + ownThreads;
}

export interface LoadReading {
  /** os.loadavg(): 1, 5 and 15 minutes */
  load: number[];
  /** threads the bench itself ran in the minute before the reading */
  ownThreads: number;
}

export function loadAverage(ownThreads = 0): LoadReading {
  return { load: os.loadavg(), ownThreads };
}

export const formatLoad = (load: readonly number[]): string => load.map((l) => l.toFixed(2)).join(' ');

/**
 * The one-line warning when a 1-minute load average before or after the trials exceeds its
 * idle threshold, or undefined when both are within it.
 */
export function idleWarning(before: LoadReading, after: LoadReading, cores: number): string | undefined {
  const over = ([['before', before], ['after', after]] as const).filter(([, r]) => r.load[0]! > idleThreshold(cores, r.ownThreads));
  if (over.length === 0) return undefined;
  const what = over.map(([when, r]) => `${r.load[0]!.toFixed(2)} ${when} > ${idleThreshold(cores, r.ownThreads).toFixed(2)}${r.ownThreads ? ` (incl. the bench's own ${r.ownThreads} thread(s))` : ''}`);
  return `warning: the machine was not idle: 1-minute load average ${what.join(', ')}; the threshold is 0.5 × ${cores} cores + ${IDLE_MARGIN}; these figures are not comparable with an idle machine's`;
}

/** "load average (1/5/15 min): before …, after …", and the warning line if any. */
export function loadLines(before: LoadReading, after: LoadReading, cores: number): string[] {
  const warning = idleWarning(before, after, cores);
  return [`load average (1/5/15 min): before ${formatLoad(before.load)}, after ${formatLoad(after.load)}`, ...(warning ? [warning] : [])];
}

export interface Side<T> {
  name: string;
  run: (trial: number) => T | Promise<T>;
}

/**
 * Runs the sides in turn, trial after trial (side 1, side 2, …, side 1, side 2, …), and returns
 * each side's results in trial order. `onTrial` sees each result as it comes (progress lines).
 */
export async function interleave<T>(trials: number, sides: readonly Side<T>[], onTrial?: (side: string, trial: number, result: T) => void): Promise<Map<string, T[]>> {
  const out = new Map<string, T[]>(sides.map((s) => [s.name, []]));
  for (let trial = 0; trial < trials; trial++) {
    for (const side of sides) {
      const result = await side.run(trial);
      out.get(side.name)!.push(result);
      onTrial?.(side.name, trial, result);
    }
  }
  return out;
}

/** "549 (530–560)": median, then min–max. */
export function formatSummary(s: Summary, digits = 0): string {
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/** "0.50 (trials 0.47–0.52)". */
export function formatComparison(c: Comparison): string {
  return `${c.ratioOfMedians.toFixed(2)} (trials ${c.min.toFixed(2)}–${c.max.toFixed(2)})`;
}

/** The machine, for the header and the JSON record. */
export function machine(): { node: string; cpu: string; cores: number; date: string } {
  return { node: process.version, cpu: os.cpus()[0]?.model ?? 'unknown CPU', cores: os.availableParallelism(), date: new Date().toISOString() };
}
