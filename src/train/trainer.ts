/**
 * `mt train`: the training loop. Each optimizer step takes `accum_steps` token-bucketed batches,
 * computes the label-smoothed loss and its gradients, clips them by global norm and applies
 * Adam/AdamW at the scheduled rate. Every `valid_every` steps it validates (loss, perplexity,
 * greedy BLEU/chrF), checkpoints, and checks early stopping.
 *
 * Exact resume: a checkpoint holds weights, Adam moments, step, schedule state, the model's
 * random stream (dropout, teacher forcing) and the data position, so a resumed run computes
 * the same losses as one that was never interrupted. An aborted signal (Ctrl-C) saves a
 * checkpoint after the current step; a NaN/Inf or exploding loss stops before the update, so the last
 * checkpoint stays the last good one.
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, isOutOfMemory } from '../backend/index.ts';
import {
  assignWeights,
  checkpointName,
  checkSubwords,
  listCheckpoints,
  readCheckpoint,
  removeStaleTemps,
  resolveCheckpoint,
  saveCheckpoint,
  toTensors,
  type CheckpointContents,
} from '../checkpoint/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { createModel } from '../models/index.ts';
import type { NmtModel } from '../models/types.ts';
import { diffKeys, LAYOUT, type RunDir } from '../run/rundir.ts';
import { loadSubwords } from '../subword/index.ts';
import type { SubwordPair } from '../subword/types.ts';
import { appendLine, writeFileAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress, type Progress } from '../util/progress.ts';
import {
  BatchStream,
  encodeCorpus,
  planInOrder,
  readLines,
  specialIds,
  targetTokens,
  type BatchingOptions,
  type Pair,
  type SpecialIds,
} from './batching.ts';
import { Adam } from './optimizer.ts';
import { LrSchedule } from './schedule.ts';
import type { StopMetric, TrainingState, ValidationResult } from './state.ts';
import { DataParallel } from './parallel.ts';
import { optimizerUpdate } from './step.ts';
import { validationLoss, validationScores } from './validate.ts';

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

export type StopReason = 'max_steps' | 'max_epochs' | 'early_stopping' | 'interrupted';

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
}

interface Corpora {
  train: Pair[];
  valid: Pair[];
  validSrc: string[];
  validTgt: string[];
}

const higherIsBetter = (metric: StopMetric): boolean => metric === 'bleu' || metric === 'chrf';

function metricValue(v: ValidationResult, metric: StopMetric): number {
  const value = metric === 'loss' ? v.loss : metric === 'ppl' ? v.ppl : v[metric];
  if (value === undefined) throw new Error(`validation has no ${metric}`);
  return value;
}

/** Refuse to start without the prepared data, naming the stage to run (loadSubwords does the same for `mt vocab`). */
function requirePreparedData(run: RunDir): void {
  for (const split of ['train', 'valid']) {
    for (const side of ['src', 'tgt']) {
      const file = run.path(LAYOUT.data, `${split}.${side}`);
      if (!fs.existsSync(file)) throw new UserError(`${file}: missing; run \`mt prepare\` on this run directory first`);
    }
  }
}

function loadCorpora(run: RunDir, subwords: SubwordPair, maxLen: number, log: Logger): Corpora {
  const data = (name: string) => run.path(LAYOUT.data, name);
  const train = encodeCorpus(data('train.src'), data('train.tgt'), subwords, maxLen);
  const valid = encodeCorpus(data('valid.src'), data('valid.tgt'), subwords, maxLen);
  if (train.dropped > 0) log.info(`train: ${train.dropped} of ${train.lines} pairs dropped (longer than train.max_len ${maxLen} or empty source)`);
  const validSrc = readLines(data('valid.src'));
  if (validSrc.length === 0) throw new UserError(`${data('valid.src')}: empty; training needs a validation set (data.valid or data.split.valid_size)`);
  if (valid.dropped > 0) log.info(`valid: loss over ${valid.pairs.length} of ${valid.lines} pairs (the others exceed train.max_len); BLEU over all`);
  return { train: train.pairs, valid: valid.pairs, validSrc, validTgt: readLines(data('valid.tgt')) };
}

/** Keep only the metrics records up to `step` (a resumed run rewrites what came after). */
function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const kept = fs
    .readFileSync(file, 'utf8')
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
  writeFileAtomic(file, kept.map((l) => l + '\n').join(''));
}

function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/**
 * A loss per token above this many times ln(vocabulary size) (a uniform guess's loss) means the
 * model diverged even though the numbers are finite (a learning rate of 1e10 gives 2e11): training
 * stops there instead of validating garbage for minutes.
 */
const MAX_LOSS_FACTOR = 10;

class Trainer {
  private readonly cfg: TrainConfig;
  private readonly batching: BatchingOptions;
  private readonly model: NmtModel;
  private readonly optimizer: Adam;
  private parallel: DataParallel | undefined;
  private schedule: LrSchedule;
  private stream: BatchStream;
  private state: TrainingState;
  private readonly ids: SpecialIds;
  private readonly validBatches: number[][];
  private readonly metricsFile: string;
  private lastValidation: ValidationResult | null = null;
  private lastSaved: string | null = null;
  private lastSavedStep = -1;
  private readonly sessionStart = Date.now();
  private readonly elapsedBefore: number;
  private interval = { steps: 0, loss: 0, nll: 0, tokens: 0, seconds: 0 };
  /** The rate the latest update used. */
  private lastLr = 0;
  /** Loss per token beyond which the model counts as diverged (MAX_LOSS_FACTOR). */
  private readonly maxLoss: number;
  private progress: Progress = { update() {}, stop() {} };

  constructor(
    private readonly run: RunDir,
    private readonly subwords: SubwordPair,
    private readonly data: Corpora,
    private readonly opts: TrainOptions,
    resume: CheckpointContents | undefined,
  ) {
    this.cfg = run.config.train;
    this.batching = { batchTokens: this.cfg.batch_tokens, maxSentences: this.cfg.max_sentences };
    this.ids = specialIds(subwords);
    this.validBatches = planInOrder(data.valid, this.batching);
    this.metricsFile = run.path(LAYOUT.logs, 'metrics.jsonl');
    this.model = createModel(run.config.model, subwords.src.vocabSize, subwords.tgt.vocabSize, run.config.seed);
    this.maxLoss = MAX_LOSS_FACTOR * Math.log(this.model.tgtVocabSize);
    this.optimizer = new Adam(this.model.namedVariables, {
      decoupled: this.cfg.optimizer === 'adamw',
      beta1: this.cfg.betas[0],
      beta2: this.cfg.betas[1],
      weightDecay: this.cfg.weight_decay,
    });
    const lr = this.cfg.learning_rate;
    this.schedule = new LrSchedule(this.cfg.schedule, lr, this.model.width);
    this.stream = BatchStream.fromSeed(data.train, this.batching, run.config.seed);
    this.state = {
      step: 0,
      epoch: 0,
      data: this.stream.position(),
      model_rng: this.model.rngState,
      schedule: this.schedule.state(),
      optimizer: { type: this.cfg.optimizer, updates: 0 },
      best: null,
      bad_validations: 0,
      tokens: 0,
      elapsed_s: 0,
      train_config: this.cfg,
    };
    if (resume) {
      try {
        this.restore(resume);
      } catch (e) {
        this.dispose();
        throw e;
      }
    }
    this.elapsedBefore = this.state.elapsed_s;
  }

  private restore(c: CheckpointContents): void {
    const { log } = this.opts;
    const t = c.state.training;
    const name = checkpointName(t.step);
    const changedModel = diffKeys(c.state.model, this.run.config.model, 'model');
    if (changedModel.length > 0) {
      throw new UserError(`${c.dir}: was trained with a different model config (changed: ${changedModel.join(', ')}); use a new run directory`);
    }
    if (c.state.src_vocab_size !== this.model.srcVocabSize || c.state.tgt_vocab_size !== this.model.tgtVocabSize) {
      throw new UserError(`${c.dir}: vocabulary sizes ${c.state.src_vocab_size}/${c.state.tgt_vocab_size} differ from the run's subword models`);
    }
    assignWeights(this.model, c.weights, c.dir);
    this.model.rngState = t.model_rng;
    if (this.opts.resetOptimizer) {
      log.info('--reset-optimizer: starting with fresh Adam moments');
    } else {
      const moments = toTensors(c.optimizer);
      try {
        this.optimizer.loadState(moments, t.optimizer.updates);
      } catch (e) {
        throw new UserError(`${c.dir}: optimizer state does not fit (${(e as Error).message}); pass --reset-optimizer`);
      } finally {
        tf.dispose(Object.values(moments));
      }
    }
    if (this.opts.resetSchedule) {
      log.info('--reset-schedule: the learning-rate schedule starts over');
    } else {
      if (t.schedule.type !== this.cfg.schedule.type) {
        throw new UserError(
          `train.schedule.type changed from ${t.schedule.type} to ${this.cfg.schedule.type} since ${name}; pass --reset-schedule to restart the schedule`,
        );
      }
      this.schedule = new LrSchedule(this.cfg.schedule, this.cfg.learning_rate, this.model.width, t.schedule);
    }
    this.stream = new BatchStream(this.data.train, this.batching, t.data);
    const changed = diffKeys(t.train_config, this.cfg, 'train');
    if (changed.length > 0) log.warn(`train settings changed since ${name}: ${changed.join(', ')}`);
    this.state = { ...t, optimizer: { type: this.cfg.optimizer, updates: this.optimizer.updates }, train_config: this.cfg };
    this.lastValidation = c.state.validation;
    this.lastSaved = c.dir;
    this.lastSavedStep = t.step;
  }

  /** Why training should not take another step, if it should not. */
  private finished(): Exclude<StopReason, 'interrupted'> | undefined {
    if (this.cfg.max_steps !== undefined && this.state.step >= this.cfg.max_steps) return 'max_steps';
    if (this.stream.position().epoch > this.cfg.max_epochs) return 'max_epochs';
    if (this.state.best && this.state.bad_validations >= this.cfg.early_stopping.patience) return 'early_stopping';
    return undefined;
  }

  async train(): Promise<TrainSummary> {
    const { log } = this.opts;
    const resumedFrom = this.state.step > 0 ? this.state.step : null;
    truncateMetrics(this.metricsFile, this.state.step);
    const already = this.finished();
    if (already) {
      log.info(`training already finished at step ${this.state.step} (${already}); nothing to do; to train further: ${this.trainFurther(already)}`);
      return this.summary(already, resumedFrom);
    }
    const perEpoch = Math.ceil(this.stream.batchesPerEpoch / this.cfg.accum_steps);
    const byEpochs = this.cfg.max_epochs * perEpoch;
    const total = Math.min(this.cfg.max_steps ?? byEpochs, byEpochs);
    log.info(
      `training ${this.run.config.model.type} (${this.model.parameterCount().toLocaleString('en-US')} parameters) on ` +
        `${this.data.train.length.toLocaleString('en-US')} pairs, ~${perEpoch} steps/epoch, backend ${activeBackend()?.name ?? 'unknown'}` +
        (resumedFrom !== null ? `; resuming from step ${resumedFrom}` : ''),
    );
    const threads = this.opts.threads ?? 1;
    if (threads > 1) {
      this.parallel = await DataParallel.start(threads, this.model, {
        backend: activeBackend()?.name ?? 'wasm',
        model: this.run.config.model,
        srcVocab: this.model.srcVocabSize,
        tgtVocab: this.model.tgtVocabSize,
        seed: this.run.config.seed,
      });
      log.info(`data-parallel on ${threads} threads`);
    }
    this.progress = startProgress(log, 'train', total, ['epoch', 'loss', 'ppl', 'lr', 'speed']);
    this.progress.update(this.state.step);
    let stopped: StopReason;
    try {
      for (;;) {
        const reason = this.finished();
        if (reason) {
          stopped = reason;
          // Early stopping happens right after a validation, which saved its checkpoint.
          if (this.lastValidation?.step !== this.state.step) this.validateAndSave();
          break;
        }
        if (this.opts.signal?.aborted) {
          stopped = 'interrupted';
          if (this.state.step > 0 && this.lastSavedStep !== this.state.step) this.save(false);
          break;
        }
        const report = await this.step();
        this.opts.onStep?.(report);
        if (this.state.step % this.cfg.log_every === 0) this.logInterval();
        if (this.state.step % this.cfg.valid_every === 0) this.validateAndSave();
        // Let signal handlers (Ctrl-C) run between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.progress.stop();
      await this.parallel?.close();
    }
    if (stopped !== 'interrupted') {
      this.run.recordStage('train', {
        steps: this.state.step,
        epochs: this.state.epoch,
        stopped,
        best: this.state.best,
        checkpoint: this.lastSaved,
        elapsed_s: round(this.elapsed(), 1),
      });
    }
    return this.summary(stopped, resumedFrom);
  }

  private summary(stopped: StopReason, resumedFrom: number | null): TrainSummary {
    return {
      stopped,
      step: this.state.step,
      epoch: this.state.epoch,
      resumedFrom,
      best: this.state.best,
      validation: this.lastValidation,
      checkpoint: this.lastSaved,
      tokens: this.state.tokens,
      elapsed_s: round(this.elapsed(), 1),
    };
  }

  private elapsed(): number {
    return this.elapsedBefore + (Date.now() - this.sessionStart) / 1000;
  }

  /**
   * The next `accum_steps` batches of the stream, taken as they are consumed; their target tokens
   * are added to `counted`, and the batch in hand is kept there (for an out-of-memory message).
   */
  private *nextBatches(counted: { tokens: number; batch: Pair[] }): Generator<Pair[]> {
    for (let k = 0; k < this.cfg.accum_steps; k++) {
      const { indices, epoch } = this.stream.next();
      this.state.epoch = epoch;
      counted.tokens += targetTokens(this.data.train, indices);
      counted.batch = indices.map((i) => this.data.train[i]!);
      yield counted.batch;
    }
  }

  /** One optimizer update over `accum_steps` batches. */
  private async step(): Promise<StepReport> {
    const started = performance.now();
    const counted: { tokens: number; batch: Pair[] } = { tokens: 0, batch: [] };
    const lr = this.schedule.rate();
    let update: Awaited<ReturnType<typeof optimizerUpdate>>;
    try {
      update = await optimizerUpdate(this.model, this.optimizer, this.nextBatches(counted), this.ids, this.cfg, lr, this.parallel, this.maxLoss);
    } catch (e) {
      if (isOutOfMemory(e)) throw this.outOfMemory(this.state.step + 1, counted.batch);
      throw e;
    }
    const { loss, nll, gradNorm, applied } = update;
    const tokens = counted.tokens;
    const nextStep = this.state.step + 1;
    if (!applied) throw this.divergence(nextStep, !Number.isFinite(loss) ? `loss is ${loss}` : loss > this.maxLoss ? this.exploded('loss', loss) : `gradient norm is ${gradNorm}`);
    this.lastLr = lr;
    this.schedule.advance();
    this.state.step = nextStep;
    this.state.tokens += tokens;
    this.interval.steps += 1;
    this.interval.loss += loss;
    this.interval.nll += nll;
    this.interval.tokens += tokens;
    this.interval.seconds += (performance.now() - started) / 1000;
    const ppl = Math.exp(nll / tokens);
    this.progress.update(this.state.step, {
      epoch: this.state.epoch,
      loss: loss.toFixed(3),
      ppl: ppl.toFixed(1),
      lr: lr.toExponential(2),
      speed: `${Math.round(this.interval.tokens / Math.max(this.interval.seconds, 1e-9))} tok/s`,
    });
    return { step: this.state.step, epoch: this.state.epoch, loss, nll, tokens, lr, gradNorm };
  }

  /** A message while the progress bar is drawn: clear the bar's line first; it redraws on the next step. */
  private say(msg: string): void {
    if (this.opts.log.interactive) process.stderr.write('\r\x1b[2K');
    this.opts.log.info(msg);
  }

  private logInterval(): void {
    const i = this.interval;
    const record = {
      kind: 'train',
      step: this.state.step,
      epoch: this.state.epoch,
      loss: round(i.loss / i.steps, 6),
      ppl: round(Math.exp(i.nll / i.tokens), 4),
      lr: this.lastLr,
      tok_s: Math.round(i.tokens / Math.max(i.seconds, 1e-9)),
      tokens: this.state.tokens,
      elapsed_s: round(this.elapsed(), 1),
    };
    appendLine(this.metricsFile, JSON.stringify(record));
    this.say(
      `step ${record.step} | epoch ${record.epoch} | loss ${record.loss.toFixed(3)} | ppl ${record.ppl.toFixed(2)} | ` +
        `lr ${record.lr.toExponential(2)} | ${record.tok_s} tok/s | ${formatDuration(record.elapsed_s)}`,
    );
    this.interval = { steps: 0, loss: 0, nll: 0, tokens: 0, seconds: 0 };
  }

  /** The command that trains past `reason` (the limit raised; no --force needed, see src/cli/common.ts). */
  private trainFurther(reason: Exclude<StopReason, 'interrupted'>): string {
    const set =
      reason === 'max_steps'
        ? `train.max_steps=${2 * this.state.step}`
        : reason === 'max_epochs'
          ? `train.max_epochs=${2 * this.cfg.max_epochs}`
          : `train.early_stopping.patience=${2 * this.cfg.early_stopping.patience}`;
    return `mt train --run ${this.run.root} --set ${set}`;
  }

  private exploded(what: string, loss: number): string {
    return `${what} ${loss.toExponential(2)} is above ${this.maxLoss.toFixed(1)} (${MAX_LOSS_FACTOR} × ln of the ${this.model.tgtVocabSize}-piece vocabulary): the model diverged`;
  }

  /** The error that stops a diverged run, naming the checkpoint that stays the last good one and what to change. */
  private divergence(step: number, what: string): UserError {
    const kept = this.lastSaved ? `the last good checkpoint is ${this.lastSaved}` : 'no checkpoint was saved yet';
    const { learning_rate: lr, schedule } = this.cfg;
    return new UserError(
      `step ${step}: ${what}; training stopped (${kept}). Lower train.learning_rate (now ${lr.toExponential()}) ` +
        `or raise train.schedule.warmup_steps (now ${schedule.warmup_steps}), e.g. --set train.learning_rate=${(lr / 10).toExponential()} --force`,
    );
  }

  private validate(): ValidationResult {
    const { loss, ppl } = validationLoss(this.model, this.data.valid, this.validBatches, this.ids);
    // Diverged weights: stop before translating with them (and before saving them).
    if (!Number.isFinite(loss)) throw this.divergence(this.state.step, `validation loss is ${loss}`);
    if (loss > this.maxLoss) throw this.divergence(this.state.step, this.exploded('validation loss', loss));
    const scores = validationScores(this.model, this.subwords, this.data.validSrc, this.data.validTgt, this.run.config.decode, this.run.config.eval);
    return { step: this.state.step, loss: round(loss, 6), ppl: round(ppl, 4), bleu: round(scores.bleu), chrf: round(scores.chrf) };
  }

  private validateAndSave(): void {
    const started = Date.now();
    const v = this.validate();
    this.lastValidation = v;
    const metric = this.cfg.early_stopping.metric;
    const value = metricValue(v, metric);
    const better = (a: number, b: number) => (higherIsBetter(metric) ? a > b : a < b);
    const isBest = !this.state.best || better(value, this.state.best.value);
    if (isBest) {
      this.state.best = { metric, value, step: v.step };
      this.state.bad_validations = 0;
    } else {
      this.state.bad_validations += 1;
    }
    const lowered = this.schedule.observe(value, better);
    appendLine(
      this.metricsFile,
      JSON.stringify({
        kind: 'valid',
        step: v.step,
        epoch: this.state.epoch,
        valid_loss: v.loss,
        valid_ppl: v.ppl,
        bleu: v.bleu,
        chrf: v.chrf,
        lr: this.schedule.rate(),
        best: isBest,
        elapsed_s: round(this.elapsed(), 1),
        valid_s: round((Date.now() - started) / 1000, 1),
      }),
    );
    this.say(
      `validation at step ${v.step}: loss ${v.loss.toFixed(3)} | ppl ${v.ppl.toFixed(2)} | BLEU ${v.bleu?.toFixed(2)} | chrF ${v.chrf?.toFixed(2)}` +
        (isBest ? ` | new best ${metric}` : ` | best ${metric} ${this.state.best!.value} at step ${this.state.best!.step}`) +
        (lowered ? ` | learning rate lowered to ${this.schedule.rate().toExponential(2)}` : ''),
    );
    this.save(isBest, v);
  }

  private save(isBest: boolean, validation: ValidationResult | null = null): void {
    this.state.data = this.stream.position();
    this.state.model_rng = this.model.rngState;
    this.state.schedule = this.schedule.state();
    this.state.optimizer = { type: this.cfg.optimizer, updates: this.optimizer.updates };
    this.state.elapsed_s = round(this.elapsed(), 1);
    this.lastSaved = saveCheckpoint(this.run, {
      model: this.model,
      optimizer: this.optimizer.stateTensors(),
      training: { ...this.state },
      validation,
      subwordFiles: [...new Set([this.subwords.src.file, this.subwords.tgt.file])],
      isBest,
      keepLast: this.cfg.keep_last,
    });
    this.lastSavedStep = this.state.step;
  }

  /** The error for a batch that did not fit: what ran out, and the flag that fixes it. */
  private outOfMemory(step: number, batch: Pair[]): UserError {
    const longest = Math.max(...batch.map((p) => Math.max(p.src.length, p.tgt.length + 1)));
    const shape = `${batch.length} sentences × ${longest} tokens`;
    const backend = activeBackend()?.name;
    const limit = backend === 'wasm' ? " (the wasm backend's heap is limited to 4 GB)" : '';
    const smaller = Math.max(1, Math.floor(this.cfg.batch_tokens / 2));
    return new UserError(
      `out of memory at step ${step} on a batch of ${shape}${limit}: train on smaller batches with ` +
        `\`mt train --run ${this.run.root} --max-tokens ${smaller}\` (same tokens per update through gradient accumulation); ` +
        `it resumes from the last checkpoint${this.lastSavedStep > 0 ? ` (step ${this.lastSavedStep})` : ''}`,
    );
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/** The checkpoint to resume from: the newest intact one, if any. */
function resumePoint(run: RunDir, log: Logger): CheckpointContents | undefined {
  if (listCheckpoints(run).length === 0) return undefined;
  const contents = readCheckpoint(resolveCheckpoint(run, 'last', (msg) => log.warn(msg)));
  checkSubwords(run, contents.state, contents.dir);
  return contents;
}

/**
 * Train the run's model, resuming from its newest checkpoint when there is one.
 * Needs `mt prepare` (data/) and `mt vocab` (subword/) to have run.
 */
export async function train(run: RunDir, opts: TrainOptions): Promise<TrainSummary> {
  requirePreparedData(run);
  const subwords = await loadSubwords(run);
  const data = loadCorpora(run, subwords, run.config.train.max_len, opts.log);
  removeStaleTemps(run);
  const trainer = new Trainer(run, subwords, data, opts, resumePoint(run, opts.log));
  try {
    // The checkpoint to resume fits this config: from here on the run is trained with it.
    run.commitConfig();
    return await trainer.train();
  } finally {
    trainer.dispose();
  }
}
