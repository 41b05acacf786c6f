/**
 * One optimizer update as `mt train` makes it (also timed by bench/train-throughput.ts): the
 * label-smoothed loss of each batch and its gradients, averaged over the batches (as if they
 * were one), clipped by global norm and applied by the optimizer. When the loss or the norm is
 * not finite nothing is applied, so the weights stay the last good ones. With a GradientSource
 * (DataParallel, src/train/parallel.ts), each batch's gradients are computed on all cores.
 */
import * as tf from '@tensorflow/tfjs';
import { variableGrads } from '../backend/tape.ts';
import type { TrainConfig } from '../config/schema.ts';
import type { NmtModel } from '../models/types.ts';
import { disposeBatch, makeBatch, type Pair, type SpecialIds } from './batching.ts';
import { labelSmoothedLoss } from './loss.ts';
import { Adam, clipByGlobalNorm, GradientAccumulator, type Gradients } from './optimizer.ts';

export type UpdateSettings = Pick<TrainConfig, 'teacher_forcing' | 'label_smoothing' | 'clip_norm'>;

export interface UpdateResult {
  /** Mean smoothed loss per target token over the batches. */
  loss: number;
  /** Summed −log p(gold) over all real target tokens. */
  nll: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** False when the loss or the norm was not finite, or the loss above maxLoss (the update was skipped). */
  applied: boolean;
}

/** A batch's gradients (keyed by tfjs variable name; the caller disposes them) and its loss. */
export interface BatchGradients {
  grads: Gradients;
  /** Mean smoothed loss per target token. */
  loss: number;
  /** Summed −log p(gold). */
  nll: number;
}

/**
 * Computes a batch's loss and gradients somewhere other than on this thread alone: DataParallel
 * (src/train/parallel.ts) shares each batch out over worker threads. Same result as batchGradients.
 */
export interface GradientSource {
  gradients(model: NmtModel, pairs: Pair[], ids: SpecialIds, settings: UpdateSettings): Promise<BatchGradients>;
}

/** The loss of the sentence pairs `pairs` and its gradients, on this thread. */
export function batchGradients(model: NmtModel, pairs: Pair[], ids: SpecialIds, settings: UpdateSettings): BatchGradients {
  const batch = makeBatch(pairs, pairs.map((_, i) => i), ids);
  let nllSum: tf.Scalar | undefined;
  let value: tf.Scalar;
  let grads: Gradients;
  try {
    ({ value, grads } = variableGrads(() => {
      const logits = model.forward(batch, true, settings.teacher_forcing);
      const terms = labelSmoothedLoss(logits, batch.tgtOut, batch.tgtMask, settings.label_smoothing);
      nllSum = tf.keep(terms.nllSum);
      return terms.loss;
    }, model.variables));
  } finally {
    disposeBatch(batch);
  }
  const both = tf.stack([value, nllSum!]);
  const [loss, nll] = both.dataSync();
  tf.dispose([both, value, nllSum!]);
  return { grads, loss: loss!, nll: nll! };
}

/**
 * One update over `batches` (each a batch's sentence pairs) at learning rate `lr`, the
 * gradients computed here or, with `parallel`, by it (on all its ranks). A loss above `maxLoss`
 * (a diverged model: finite but huge) is not applied either.
 */
export async function optimizerUpdate(
  model: NmtModel,
  optimizer: Adam,
  batches: Iterable<Pair[]>,
  ids: SpecialIds,
  settings: UpdateSettings,
  lr: number,
  parallel?: GradientSource,
  maxLoss = Infinity,
): Promise<UpdateResult> {
  const accumulator = new GradientAccumulator();
  let loss = 0;
  let nll = 0;
  try {
    for (const pairs of batches) {
      const result = parallel ? await parallel.gradients(model, pairs, ids, settings) : batchGradients(model, pairs, ids, settings);
      accumulator.add(result.grads);
      loss += result.loss;
      nll += result.nll;
    }
    loss /= accumulator.count;
    const mean = accumulator.mean();
    const { grads, norm } = clipByGlobalNorm(mean, settings.clip_norm);
    const gradNorm = norm.dataSync()[0]!;
    norm.dispose();
    const applied = Number.isFinite(loss) && loss <= maxLoss && Number.isFinite(gradNorm);
    if (applied) optimizer.apply(grads, lr);
    tf.dispose(Object.values(grads));
    return { loss, nll, gradNorm, applied };
  } finally {
    accumulator.dispose();
  }
}
