/**
 * When training stops: at train.max_steps, after train.max_epochs, or by early stopping, once the
 * early-stopping metric has not beaten its best for `patience` validations in a row. The best and
 * that count are kept in TrainingState, so they carry over a resume.
 */
import type { StopMetric, TrainingState, ValidationResult } from '../checkpoint/training-state.ts';
import type { TrainConfig } from '../config/schema.ts';

export type StopReason = 'max_steps' | 'max_epochs' | 'early_stopping' | 'interrupted';

/** The reasons that end a run for good, until a setting is raised. */
export type LimitReason = Exclude<StopReason, 'interrupted'>;

/** Why training should not take another step, if it should not; `epoch` is the data stream's next one. */
export function limitReached(cfg: TrainConfig, state: TrainingState, epoch: number): LimitReason | undefined {
  if (cfg.max_steps !== undefined && state.step >= cfg.max_steps) return 'max_steps';
  if (epoch > cfg.max_epochs) return 'max_epochs';
  if (state.best && state.bad_validations >= cfg.early_stopping.patience) return 'early_stopping';
  return undefined;
}

/** The command that trains past `reason` (the limit raised; no --force needed, see src/cli/common.ts). */
export function trainFurther(reason: LimitReason, runRoot: string, cfg: TrainConfig, step: number): string {
  const set =
    reason === 'max_steps'
      ? `train.max_steps=${2 * step}`
      : reason === 'max_epochs'
        ? `train.max_epochs=${2 * cfg.max_epochs}`
        : `train.early_stopping.patience=${2 * cfg.early_stopping.patience}`;
  return `mt train --run ${runRoot} --set ${set}`;
}

const higherIsBetter = (metric: StopMetric): boolean => metric === 'bleu' || metric === 'chrf';

function metricValue(v: ValidationResult, metric: StopMetric): number {
  const value = metric === 'loss' ? v.loss : metric === 'ppl' ? v.ppl : v[metric];
  if (value === undefined) throw new Error(`validation has no ${metric}`);
  return value;
}

export interface Observation {
  /** The validation's value of the early-stopping metric. */
  value: number;
  isBest: boolean;
  /** Whether a value of the metric beats another (the plateau schedule judges by it too). */
  better: (a: number, b: number) => boolean;
}

/** Count validation `v` in `state`: a new best resets the bad validations, anything else adds one. */
export function observeValidation(state: TrainingState, v: ValidationResult, metric: StopMetric): Observation {
  const value = metricValue(v, metric);
  const better = (a: number, b: number) => (higherIsBetter(metric) ? a > b : a < b);
  const isBest = !state.best || better(value, state.best.value);
  if (isBest) {
    state.best = { metric, value, step: v.step };
    state.bad_validations = 0;
  } else {
    state.bad_validations += 1;
  }
  return { value, isBest, better };
}
