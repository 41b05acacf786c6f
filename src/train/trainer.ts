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
 *
 * Around the loop, one concern a file: corpora.ts (the prepared data), resume.ts (what a checkpoint
 * must match to resume), stopping.ts (limits and early stopping), retention.ts (which checkpoints
 * are kept), metrics-log.ts (logs/metrics.jsonl), guards.ts (divergence, out of memory).
 */
import { activeBackend, isOutOfMemory } from '../backend/index.ts';
import { parallelismFor } from '../backend/names.ts';
import { removeStaleTemps, type CheckpointContents } from '../checkpoint/index.ts';
import type { TrainingState, ValidationResult } from '../checkpoint/training-state.ts';
import type { TrainConfig } from '../config/schema.ts';
import { createModel } from '../models/index.ts';
import type { NmtModel } from '../models/types.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { loadSubwords } from '../subword/index.ts';
import type { SubwordPair } from '../subword/types.ts';
import { silentProgress, startProgress, type Progress } from '../util/progress.ts';
import { BatchStream, planInOrder, specialIds, targetTokens, type BatchingOptions, type Pair, type SpecialIds } from './batching.ts';
import { loadCorpora, requirePreparedData, type Corpora } from './corpora.ts';
import { DivergenceGuard, outOfMemoryError } from './guards.ts';
import { describeTrainRecord, describeValidRecord, MetricsLog, processCpuSeconds, round, StepInterval } from './metrics-log.ts';
import { Adam } from './optimizer.ts';
import { DataParallel } from './parallel.ts';
import { initialState, restoreTraining, resumePoint } from './resume.ts';
import { SavedCheckpoints } from './retention.ts';
import { LrSchedule } from './schedule.ts';
import { optimizerUpdate } from './step.ts';
import { limitReached, observeValidation, trainFurther, type LimitReason, type StopReason } from './stopping.ts';
import type { StepReport, TrainOptions, TrainSummary } from './types.ts';
import { validationLoss, validationScores } from './validate.ts';

export type { StepReport, StopReason, TrainOptions, TrainSummary } from './types.ts';

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
  private readonly metrics: MetricsLog;
  private readonly checkpoints: SavedCheckpoints;
  private readonly guard: DivergenceGuard;
  private lastValidation: ValidationResult | null = null;
  private readonly sessionStart = Date.now();
  private readonly elapsedBefore: number;
  private readonly cpuBefore: number;
  private readonly interval = new StepInterval();
  /** The rate the latest update used. */
  private lastLr = 0;
  private progress: Progress;

  constructor(
    private readonly run: RunDir,
    private readonly subwords: SubwordPair,
    private readonly data: Corpora,
    private readonly opts: TrainOptions,
    resume: CheckpointContents | undefined,
    /** processCpuSeconds() when this session started (before it loaded the data). */
    private readonly cpuAtStart: number,
  ) {
    this.cfg = run.config.train;
    this.batching = { batchTokens: this.cfg.batch_tokens, maxSentences: this.cfg.max_sentences };
    this.ids = specialIds(subwords);
    this.validBatches = planInOrder(data.valid, this.batching);
    this.metrics = new MetricsLog(run.path(LAYOUT.logs, 'metrics.jsonl'));
    this.checkpoints = new SavedCheckpoints(run, [...new Set([subwords.src.file, subwords.tgt.file])], this.cfg.keep_last);
    this.progress = silentProgress(opts.log);
    this.model = createModel(run.config.model, subwords.src.vocabSize, subwords.tgt.vocabSize, run.config.seed);
    this.guard = new DivergenceGuard(this.model.tgtVocabSize, this.cfg);
    this.optimizer = new Adam(this.model.namedVariables, {
      decoupled: this.cfg.optimizer === 'adamw',
      beta1: this.cfg.betas[0],
      beta2: this.cfg.betas[1],
      weightDecay: this.cfg.weight_decay,
    });
    this.schedule = new LrSchedule(this.cfg.schedule, this.cfg.learning_rate, this.model.width);
    this.stream = BatchStream.fromSeed(data.train, this.batching, run.config.seed);
    this.state = initialState(this.cfg, this.model, this.schedule, this.stream);
    if (resume) {
      try {
        const fresh = { model: this.model, optimizer: this.optimizer, schedule: this.schedule, pairs: data.train, batching: this.batching };
        ({ state: this.state, schedule: this.schedule, stream: this.stream, validation: this.lastValidation } = restoreTraining(resume, run, fresh, opts));
        this.checkpoints.resumedFrom(resume.dir, this.state.step);
      } catch (e) {
        this.dispose();
        throw e;
      }
    }
    this.elapsedBefore = this.state.elapsed_s;
    this.cpuBefore = this.state.cpu_s;
  }

  /** Why training should not take another step, if it should not. */
  private finished(): LimitReason | undefined {
    return limitReached(this.cfg, this.state, this.stream.position().epoch);
  }

  async train(): Promise<TrainSummary> {
    const { log } = this.opts;
    const resumedFrom = this.state.step > 0 ? this.state.step : null;
    this.metrics.truncateAfter(this.state.step);
    const already = this.finished();
    if (already) {
      const further = trainFurther(already, this.run.root, this.cfg, this.state.step);
      log.info(`training already finished at step ${this.state.step} (${already}); nothing to do; to train further: ${further}`);
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
    const backend = activeBackend()?.name ?? 'wasm';
    // Worker threads only where the backend needs them (parallelismFor): never on node/gpu.
    const threads = parallelismFor(backend, this.opts.threads ?? 1).workers;
    if (threads > 1) {
      this.parallel = await DataParallel.start(threads, this.model, {
        backend,
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
          if (this.state.step > 0 && this.checkpoints.newestStep !== this.state.step) this.save(false);
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
      const { step: steps, epoch: epochs, best } = this.state;
      this.run.recordStage('train', {
        steps,
        epochs,
        stopped,
        best,
        checkpoint: this.checkpoints.newest,
        elapsed_s: round(this.elapsed(), 1),
        cpu_s: round(this.cpu(), 1),
      });
    }
    return this.summary(stopped, resumedFrom);
  }

  private summary(stopped: StopReason, resumedFrom: number | null): TrainSummary {
    const { step, epoch, best, tokens } = this.state;
    const elapsed_s = round(this.elapsed(), 1);
    const cpu_s = round(this.cpu(), 1);
    return { stopped, step, epoch, resumedFrom, best, validation: this.lastValidation, checkpoint: this.checkpoints.newest, tokens, elapsed_s, cpu_s };
  }

  private elapsed(): number {
    return this.elapsedBefore + (Date.now() - this.sessionStart) / 1000;
  }

  /** CPU seconds so far: the checkpoint's, plus this process's since this session started. */
  private cpu(): number {
    return this.cpuBefore + processCpuSeconds() - this.cpuAtStart;
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
    const nextStep = this.state.step + 1;
    let update: Awaited<ReturnType<typeof optimizerUpdate>>;
    try {
      update = await optimizerUpdate(this.model, this.optimizer, this.nextBatches(counted), this.ids, this.cfg, lr, this.parallel, this.guard.maxLoss);
    } catch (e) {
      if (isOutOfMemory(e)) throw outOfMemoryError(nextStep, counted.batch, this.run.root, this.cfg.batch_tokens, this.checkpoints.newestStep);
      throw e;
    }
    const { loss, nll, gradNorm, applied } = update;
    const tokens = counted.tokens;
    if (!applied) throw this.guard.diverged(nextStep, this.guard.refusedUpdate(loss, gradNorm), this.checkpoints.newest);
    this.lastLr = lr;
    this.schedule.advance();
    this.state.step = nextStep;
    this.state.tokens += tokens;
    this.interval.add(loss, nll, tokens, (performance.now() - started) / 1000);
    this.progress.update(this.state.step, {
      epoch: this.state.epoch,
      loss: loss.toFixed(3),
      ppl: Math.exp(nll / tokens).toFixed(1),
      lr: lr.toExponential(2),
      speed: `${this.interval.tokensPerSecond()} tok/s`,
    });
    return { step: this.state.step, epoch: this.state.epoch, loss, nll, tokens, lr, gradNorm };
  }

  private logInterval(): void {
    const record = this.interval.take(this.state, this.lastLr, this.elapsed(), this.cpu());
    this.metrics.train(record);
    this.progress.say(describeTrainRecord(record));
  }

  private validate(): ValidationResult {
    const { loss, ppl } = validationLoss(this.model, this.data.valid, this.validBatches, this.ids);
    // Diverged weights: stop before translating with them (and before saving them).
    const diverged = this.guard.badValidation(loss);
    if (diverged) throw this.guard.diverged(this.state.step, diverged, this.checkpoints.newest);
    const scores = validationScores(this.model, this.subwords, this.data.validSrc, this.data.validTgt, this.run.config.decode, this.run.config.eval);
    return { step: this.state.step, loss: round(loss, 6), ppl: round(ppl, 4), bleu: round(scores.bleu), chrf: round(scores.chrf) };
  }

  private validateAndSave(): void {
    const started = Date.now();
    const v = this.validate();
    this.lastValidation = v;
    const metric = this.cfg.early_stopping.metric;
    const { value, isBest, better } = observeValidation(this.state, v, metric);
    const lowered = this.schedule.observe(value, better);
    const record = {
      step: v.step,
      epoch: this.state.epoch,
      valid_loss: v.loss,
      valid_ppl: v.ppl,
      bleu: v.bleu,
      chrf: v.chrf,
      lr: this.schedule.rate(),
      best: isBest,
      elapsed_s: round(this.elapsed(), 1),
      cpu_s: round(this.cpu(), 1),
      valid_s: round((Date.now() - started) / 1000, 1),
    };
    this.metrics.valid(record);
    this.progress.say(describeValidRecord(record, metric, this.state.best!, lowered));
    this.save(isBest, v);
  }

  private save(isBest: boolean, validation: ValidationResult | null = null): void {
    this.state.data = this.stream.position();
    this.state.model_rng = this.model.rngState;
    this.state.schedule = this.schedule.state();
    this.state.optimizer = { type: this.cfg.optimizer, updates: this.optimizer.updates };
    this.state.elapsed_s = round(this.elapsed(), 1);
    this.state.cpu_s = round(this.cpu(), 1);
    this.checkpoints.save(this.model, this.optimizer.stateTensors(), { ...this.state }, validation, isBest);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.model.dispose();
  }
}

/**
 * Train the run's model, resuming from its newest checkpoint when there is one.
 * Needs `mt prepare` (data/) and `mt vocab` (subword/) to have run.
 */
export async function train(run: RunDir, opts: TrainOptions): Promise<TrainSummary> {
  // CPU time counts from here: loading and encoding the data is part of a session's cost.
  const cpuAtStart = processCpuSeconds();
  requirePreparedData(run);
  const subwords = await loadSubwords(run);
  const data = loadCorpora(run, subwords, run.config.train.max_len, opts.log);
  removeStaleTemps(run);
  const trainer = new Trainer(run, subwords, data, opts, resumePoint(run, opts.log), cpuAtStart);
  try {
    // The checkpoint to resume fits this config: from here on the run is trained with it.
    run.commitConfig();
    return await trainer.train();
  } finally {
    trainer.dispose();
  }
}
