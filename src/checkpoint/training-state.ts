/**
 * What a checkpoint's state.json stores for training to continue exactly where it stopped: its
 * `training` and `validation` sections (docs/checkpoints.md). These shapes are the file format,
 * so they live with the checkpoint code, below src/train/, which fills them and reads them back.
 */
import type { TrainConfig } from '../config/schema.ts';
import type { Sfc32State } from '../util/random.ts';

export type StopMetric = TrainConfig['early_stopping']['metric'];

/** Validation figures at one step. bleu/chrf are absent when no translation was scored. */
export interface ValidationResult {
  step: number;
  loss: number;
  ppl: number;
  bleu?: number;
  chrf?: number;
}

/** Where the data stream stands: the next batch is `batch` (0-based) of `epoch` (1-based). */
export interface DataPosition {
  epoch: number;
  batch: number;
  /** Generator state at the start of `epoch`: it determines that epoch's batch order. */
  rng: Sfc32State;
}

/** The learning-rate schedule's state (src/train/schedule.ts). */
export interface ScheduleState {
  type: TrainConfig['schedule']['type'];
  /** Updates since the schedule started. */
  steps: number;
  /** Plateau multiplier (1 until the first reduction). */
  scale: number;
  /** Plateau: best validation value so far, null before the first. */
  best: number | null;
  /** Plateau: validations since the last improvement. */
  bad: number;
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
  /**
   * CPU seconds (user + system, all threads of the process: worker threads and native pools
   * included) spent training so far, validation included, across resumes. Absent in checkpoints
   * written before mt recorded it: resuming one counts from 0 at its step (with a warning).
   */
  cpu_s: number;
  /** The train section it ran with (to name what changed on resume). */
  train_config: TrainConfig;
}
