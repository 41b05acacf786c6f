/**
 * Which checkpoints a run keeps: every save points last.json at the new one; a validation that is
 * the best so far also points best.json at it; then all but the best and the newest
 * `train.keep_last` are removed (saveCheckpoint does the writing and the pruning). The newest one
 * is what an interrupted, diverged or out-of-memory run goes back to, so the trainer names it.
 */
import type * as tf from '@tensorflow/tfjs';
import { saveCheckpoint } from '../checkpoint/index.ts';
import type { TrainingState, ValidationResult } from '../checkpoint/training-state.ts';
import type { NmtModel } from '../models/types.ts';
import type { RunDir } from '../run/rundir.ts';

export class SavedCheckpoints {
  /** The newest checkpoint folder (null before the first save). */
  newest: string | null = null;
  /** Its step (-1 before the first save). */
  newestStep = -1;

  constructor(
    private readonly run: RunDir,
    /** The subword model files each checkpoint carries. */
    private readonly subwordFiles: string[],
    private readonly keepLast: number,
  ) {}

  /** Training resumed from checkpoint `dir` at `step`: it is the newest. */
  resumedFrom(dir: string, step: number): void {
    this.newest = dir;
    this.newestStep = step;
  }

  save(model: NmtModel, optimizer: Record<string, tf.Tensor>, training: TrainingState, validation: ValidationResult | null, isBest: boolean): void {
    this.newest = saveCheckpoint(this.run, {
      model,
      optimizer,
      training,
      validation,
      subwordFiles: this.subwordFiles,
      isBest,
      keepLast: this.keepLast,
    });
    this.newestStep = training.step;
  }
}
