/** What training needs to continue exactly where it stopped; stored in each checkpoint's state.json. */
import type { TrainConfig } from '../config/schema.ts';
import type { DataPosition } from './batching.ts';
import type { ScheduleState } from './schedule.ts';

export type StopMetric = TrainConfig['early_stopping']['metric'];

/** Validation figures at one step. bleu/chrf are absent when no translation was scored. */
export interface ValidationResult {
  step: number;
  loss: number;
  ppl: number;
  bleu?: number;
  chrf?: number;
}

export interface TrainingState {
  /** Optimizer updates done. */
  step: number;
  /** Epoch of the last batch trained on (1-based; 0 before the first). */
  epoch: number;
  /** Where the data stream continues. */
  data: DataPosition;
  /** The model's dropout / teacher-forcing stream (NmtModel.rngState). */
  model_rng: number;
  schedule: ScheduleState;
  optimizer: { type: TrainConfig['optimizer']; updates: number };
  /** Best validation so far on the early-stopping metric. */
  best: { metric: StopMetric; value: number; step: number } | null;
  /** Validations since the best one (early stopping). */
  bad_validations: number;
  /** Target tokens trained on so far. */
  tokens: number;
  /** Seconds spent training so far (across resumes). */
  elapsed_s: number;
  /** The train section it ran with (to name what changed on resume). */
  train_config: TrainConfig;
}
