/**
 * logs/metrics.jsonl: one JSON record a line, `kind: "train"` every `log_every` steps (averages
 * over the steps since the last one) and `kind: "valid"` after each validation; the plots and
 * `mt compare` read it. A resumed run first drops the records after its checkpoint's step, so
 * the file reads as one uninterrupted run.
 */
import * as fs from 'node:fs';
import type { StopMetric, TrainingState } from '../checkpoint/training-state.ts';
import { appendLine, writeFileAtomic } from '../util/atomic.ts';

/** Figures as they are written: a few digits, so the file stays readable. */
export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/**
 * CPU seconds (user + system) this process has used. getrusage(RUSAGE_SELF) underneath: it sums
 * every thread of the process, the data-parallel worker threads (also those that have exited)
 * and the native backends' thread pools included, not only the main thread.
 */
export function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

export interface TrainRecord {
  step: number;
  epoch: number;
  /** Mean label-smoothed loss per token over the interval's steps. */
  loss: number;
  ppl: number;
  lr: number;
  tok_s: number;
  tokens: number;
  elapsed_s: number;
  /** CPU seconds of the training process so far (user + system, all threads; across resumes). */
  cpu_s: number;
}

export interface ValidRecord {
  step: number;
  epoch: number;
  valid_loss: number;
  valid_ppl: number;
  bleu: number | undefined;
  chrf: number | undefined;
  /** The rate after this validation (a plateau schedule may just have lowered it). */
  lr: number;
  best: boolean;
  elapsed_s: number;
  /** As in TrainRecord, this validation included. */
  cpu_s: number;
  valid_s: number;
}

export class MetricsLog {
  constructor(readonly file: string) {}

  /** Keep only the records up to `step` (a resumed run rewrites what came after). */
  truncateAfter(step: number): void {
    if (!fs.existsSync(this.file)) return;
    const kept = fs
      .readFileSync(this.file, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          const record = JSON.parse(line) as { step?: unknown };
          return typeof record.step === 'number' && record.step <= step;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.file, kept.map((l) => l + '\n').join(''));
  }

  train(record: TrainRecord): void {
    appendLine(this.file, JSON.stringify({ kind: 'train', ...record }));
  }

  valid(record: ValidRecord): void {
    appendLine(this.file, JSON.stringify({ kind: 'valid', ...record }));
  }
}

/** Sums over the steps since the last train record. */
export class StepInterval {
  private steps = 0;
  private loss = 0;
  private nll = 0;
  private tokens = 0;
  private seconds = 0;

  add(loss: number, nll: number, tokens: number, seconds: number): void {
    this.steps += 1;
    this.loss += loss;
    this.nll += nll;
    this.tokens += tokens;
    this.seconds += seconds;
  }

  tokensPerSecond(): number {
    return Math.round(this.tokens / Math.max(this.seconds, 1e-9));
  }

  /** The interval's record at `state`'s step (`elapsed`, `cpu`: seconds so far); the sums start over. */
  take(state: TrainingState, lr: number, elapsed: number, cpu: number): TrainRecord {
    const record = {
      step: state.step,
      epoch: state.epoch,
      loss: round(this.loss / this.steps, 6),
      ppl: round(Math.exp(this.nll / this.tokens), 4),
      lr,
      tok_s: this.tokensPerSecond(),
      tokens: state.tokens,
      elapsed_s: round(elapsed, 1),
      cpu_s: round(cpu, 1),
    };
    this.steps = this.loss = this.nll = this.tokens = this.seconds = 0;
    return record;
  }
}

/** The terminal line for a train record. */
export function describeTrainRecord(r: TrainRecord): string {
  return (
    `step ${r.step} | epoch ${r.epoch} | loss ${r.loss.toFixed(3)} | ppl ${r.ppl.toFixed(2)} | ` +
    `lr ${r.lr.toExponential(2)} | ${r.tok_s} tok/s | ${formatDuration(r.elapsed_s)}`
  );
}

/** The terminal line for a valid record; `best` is the best validation so far, `lowered` whether the rate was just lowered. */
export function describeValidRecord(r: ValidRecord, metric: StopMetric, best: NonNullable<TrainingState['best']>, lowered: boolean): string {
  return (
    `validation at step ${r.step}: loss ${r.valid_loss.toFixed(3)} | ppl ${r.valid_ppl.toFixed(2)} | BLEU ${r.bleu?.toFixed(2)} | chrF ${r.chrf?.toFixed(2)}` +
    (r.best ? ` | new best ${metric}` : ` | best ${metric} ${best.value} at step ${best.step}`) +
    (lowered ? ` | learning rate lowered to ${r.lr.toExponential(2)}` : '')
  );
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}
