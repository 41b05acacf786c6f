/**
 * Where training starts: a fresh state at step 0, or the run's newest intact checkpoint. To resume,
 * the checkpoint must match the run's model config, vocabulary sizes and subword models, its Adam
 * moments the model's shapes (or --reset-optimizer) and its schedule type the config's (or
 * --reset-schedule). The other train settings may change: a warning names them and the run goes
 * on with the new ones.
 */
import * as tf from '@tensorflow/tfjs';
import {
  assignWeights,
  checkpointName,
  checkSubwords,
  listCheckpoints,
  readCheckpoint,
  resolveCheckpoint,
  toTensors,
  type CheckpointContents,
} from '../checkpoint/index.ts';
import type { TrainingState, ValidationResult } from '../checkpoint/training-state.ts';
import type { TrainConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { NmtModel } from '../models/types.ts';
import { diffKeys, type RunDir } from '../run/rundir.ts';
import type { Logger } from '../util/log.ts';
import { BatchStream, type BatchingOptions, type Pair } from './batching.ts';
import type { Adam } from './optimizer.ts';
import { LrSchedule } from './schedule.ts';

/** The state of a run that has not trained yet. */
export function initialState(cfg: TrainConfig, model: NmtModel, schedule: LrSchedule, stream: BatchStream): TrainingState {
  return {
    step: 0,
    epoch: 0,
    data: stream.position(),
    model_rng: model.rngState,
    schedule: schedule.state(),
    optimizer: { type: cfg.optimizer, updates: 0 },
    best: null,
    bad_validations: 0,
    tokens: 0,
    elapsed_s: 0,
    cpu_s: 0,
    train_config: cfg,
  };
}

/** The checkpoint to resume from: the newest intact one, if any. */
export function resumePoint(run: RunDir, log: Logger): CheckpointContents | undefined {
  if (listCheckpoints(run).length === 0) return undefined;
  const contents = readCheckpoint(resolveCheckpoint(run, 'last', (msg) => log.warn(msg)));
  checkSubwords(run, contents.state, contents.dir);
  return contents;
}

export interface ResumeOptions {
  log: Logger;
  /** Keep the fresh Adam moments instead of the checkpoint's. */
  resetOptimizer?: boolean;
  /** Keep the fresh schedule (warmup again, plateau scale 1) instead of the checkpoint's. */
  resetSchedule?: boolean;
}

/** What the trainer built for a fresh start, for a checkpoint to restore into. */
export interface FreshStart {
  model: NmtModel;
  optimizer: Adam;
  schedule: LrSchedule;
  pairs: Pair[];
  batching: BatchingOptions;
}

export interface Restored {
  state: TrainingState;
  schedule: LrSchedule;
  stream: BatchStream;
  validation: ValidationResult | null;
}

/**
 * Check checkpoint `c` against the run, load its weights, model random stream and (unless reset)
 * Adam moments into `fresh`, and rebuild the schedule and data stream where it stopped.
 */
export function restoreTraining(c: CheckpointContents, run: RunDir, fresh: FreshStart, opts: ResumeOptions): Restored {
  const { log } = opts;
  const { model, optimizer } = fresh;
  const cfg = run.config.train;
  const t = c.state.training;
  const name = checkpointName(t.step);
  const changedModel = diffKeys(c.state.model, run.config.model, 'model');
  if (changedModel.length > 0) {
    throw new UserError(`${c.dir}: was trained with a different model config (changed: ${changedModel.join(', ')}); use a new run directory`);
  }
  if (c.state.src_vocab_size !== model.srcVocabSize || c.state.tgt_vocab_size !== model.tgtVocabSize) {
    throw new UserError(`${c.dir}: vocabulary sizes ${c.state.src_vocab_size}/${c.state.tgt_vocab_size} differ from the run's subword models`);
  }
  assignWeights(model, c.weights, c.dir);
  model.rngState = t.model_rng;
  if (opts.resetOptimizer) {
    log.info('--reset-optimizer: starting with fresh Adam moments');
  } else {
    const moments = toTensors(c.optimizer);
    try {
      optimizer.loadState(moments, t.optimizer.updates);
    } catch (e) {
      throw new UserError(`${c.dir}: optimizer state does not fit (${(e as Error).message}); pass --reset-optimizer`);
    } finally {
      tf.dispose(Object.values(moments));
    }
  }
  let schedule = fresh.schedule;
  if (opts.resetSchedule) {
    log.info('--reset-schedule: the learning-rate schedule starts over');
  } else {
    if (t.schedule.type !== cfg.schedule.type) {
      throw new UserError(
        `train.schedule.type changed from ${t.schedule.type} to ${cfg.schedule.type} since ${name}; pass --reset-schedule to restart the schedule`,
      );
    }
    schedule = new LrSchedule(cfg.schedule, cfg.learning_rate, model.width, t.schedule);
  }
  const stream = new BatchStream(fresh.pairs, fresh.batching, t.data);
  const changed = diffKeys(t.train_config, cfg, 'train');
  if (changed.length > 0) log.warn(`train settings changed since ${name}: ${changed.join(', ')}`);
  // Checkpoints from before mt recorded CPU time have no cpu_s: count from 0 at their step.
  const cpu_s = typeof t.cpu_s === 'number' && Number.isFinite(t.cpu_s) ? t.cpu_s : 0;
  if (t.cpu_s === undefined) {
    log.warn(`${name} records no CPU time (written by an older mt): cpu_s counts from 0 at its step ${t.step}; the CPU time before it is not known`);
  }
  return {
    state: { ...t, cpu_s, optimizer: { type: cfg.optimizer, updates: optimizer.updates }, train_config: cfg },
    schedule,
    stream,
    validation: c.state.validation,
  };
}
