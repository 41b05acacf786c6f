/**
 * The stops for a run that cannot go on: a model that diverged (a NaN/Inf or exploding loss, a
 * non-finite gradient norm) and a batch that ran out of memory. Each error names the step, what
 * went wrong, the checkpoint training goes back to, and the setting to change.
 */
import { activeBackend } from '../backend/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { Pair } from './batching.ts';

/**
 * A loss per token above this many times ln(vocabulary size) (a uniform guess's loss) means the
 * model diverged even though the numbers are finite (a learning rate of 1e10 gives 2e11): training
 * stops there instead of validating garbage for minutes.
 */
const MAX_LOSS_FACTOR = 10;

export class DivergenceGuard {
  /** Loss per token beyond which the model counts as diverged. */
  readonly maxLoss: number;

  constructor(
    private readonly tgtVocabSize: number,
    private readonly cfg: TrainConfig,
  ) {
    this.maxLoss = MAX_LOSS_FACTOR * Math.log(tgtVocabSize);
  }

  /** Why optimizerUpdate refused an update (it applies none with a non-finite or exploding loss or gradient norm). */
  refusedUpdate(loss: number, gradNorm: number): string {
    if (!Number.isFinite(loss)) return `loss is ${loss}`;
    return loss > this.maxLoss ? this.exploded('loss', loss) : `gradient norm is ${gradNorm}`;
  }

  /** What is wrong with a validation loss, if anything: diverged weights are neither translated with nor saved. */
  badValidation(loss: number): string | undefined {
    if (!Number.isFinite(loss)) return `validation loss is ${loss}`;
    if (loss > this.maxLoss) return this.exploded('validation loss', loss);
    return undefined;
  }

  /** The error that stops a diverged run, naming the checkpoint that stays the last good one and what to change. */
  diverged(step: number, what: string, lastSaved: string | null): UserError {
    const kept = lastSaved ? `the last good checkpoint is ${lastSaved}` : 'no checkpoint was saved yet';
    const { learning_rate: lr, schedule } = this.cfg;
    return new UserError(
      `step ${step}: ${what}; training stopped (${kept}). Lower train.learning_rate (now ${lr.toExponential()}) ` +
        `or raise train.schedule.warmup_steps (now ${schedule.warmup_steps}), e.g. --set train.learning_rate=${(lr / 10).toExponential()} --force`,
    );
  }

  private exploded(what: string, loss: number): string {
    return `${what} ${loss.toExponential(2)} is above ${this.maxLoss.toFixed(1)} (${MAX_LOSS_FACTOR} × ln of the ${this.tgtVocabSize}-piece vocabulary): the model diverged`;
  }
}

/**
 * The error for a batch that did not fit: what ran out, and the flag that fixes it. `lastSavedStep`
 * is the step training resumes from (0 or less: none saved yet).
 */
export function outOfMemoryError(step: number, batch: Pair[], runRoot: string, batchTokens: number, lastSavedStep: number): UserError {
  const longest = Math.max(...batch.map((p) => Math.max(p.src.length, p.tgt.length + 1)));
  const shape = `${batch.length} sentences × ${longest} tokens`;
  const backend = activeBackend()?.name;
  const limit = backend === 'wasm' ? " (the wasm backend's heap is limited to 4 GB)" : '';
  const smaller = Math.max(1, Math.floor(batchTokens / 2));
  return new UserError(
    `out of memory at step ${step} on a batch of ${shape}${limit}: train on smaller batches with ` +
      `\`mt train --run ${runRoot} --max-tokens ${smaller}\` (same tokens per update through gradient accumulation); ` +
      `it resumes from the last checkpoint${lastSavedStep > 0 ? ` (step ${lastSavedStep})` : ''}`,
  );
}
