/** What `train()` (src/train/trainer.ts) takes and returns: the library's face of training. */
import type { TrainingState, ValidationResult } from '../checkpoint/training-state.ts';
import type { Logger } from '../util/log.ts';
import type { StopReason } from './stopping.ts';

export type { StopReason } from './stopping.ts';

export interface TrainOptions {
  log: Logger;
  /** Resume with fresh Adam moments (e.g. after changing the optimizer settings). */
  resetOptimizer?: boolean;
  /** Resume with the schedule restarted (warmup again, plateau scale 1). */
  resetSchedule?: boolean;
  /** When aborted (Ctrl-C), training saves a checkpoint after the current step and returns. */
  signal?: AbortSignal;
  /**
   * Cores to take each batch's gradients on (data-parallel worker threads, src/train/parallel.ts);
   * default 1. Dropout masks depend on it, so a run reproduces exactly with the same number.
   * Ignored on the native backends, which compute on their own threads (parallelismFor).
   */
  threads?: number;
  /** Called after every optimizer step. */
  onStep?: (report: StepReport) => void;
}

export interface StepReport {
  step: number;
  epoch: number;
  /** Label-smoothed loss per target token (what is minimised). */
  loss: number;
  /** Summed −log p(gold) and target tokens of the step (perplexity = exp(nll / tokens)). */
  nll: number;
  tokens: number;
  lr: number;
  gradNorm: number;
}

export interface TrainSummary {
  stopped: StopReason;
  step: number;
  epoch: number;
  /** Step of the checkpoint training resumed from, null for a fresh start. */
  resumedFrom: number | null;
  best: TrainingState['best'];
  /** The last validation (null if none ran). */
  validation: ValidationResult | null;
  /** The newest checkpoint folder (null if nothing was trained). */
  checkpoint: string | null;
  tokens: number;
  elapsed_s: number;
  /** CPU seconds (user + system, all threads) spent training, across resumes. */
  cpu_s: number;
}
