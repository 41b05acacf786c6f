/** `mt train`: train the run's model (resuming from its newest checkpoint), validate, checkpoint. */
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { acquireRunLock } from '../../run/lock.ts';
import { LAYOUT, RunDir } from '../../run/rundir.ts';
import type { Logger } from '../../util/log.ts';
import { loggerFor, openStageRun, parallelismFor, parseThreads, positiveInt, stopOnSignals, threadsOption, withConfigOptions, type GlobalOptions, type StageOptions } from '../common.ts';

interface TrainCliOptions extends StageOptions {
  resetOptimizer?: boolean;
  resetSchedule?: boolean;
  threads?: string;
  maxTokens?: number;
}

/**
 * --max-tokens N: batches of at most N padded tokens, with gradient accumulation raised so that
 * an update still sees about as many tokens (the fix named when a batch runs out of memory).
 * Written into the run's config, so later stages and resumes see it.
 */
function capBatchTokens(run: RunDir, maxTokens: number, log: Logger): RunDir {
  const { batch_tokens: tokens, accum_steps: accum } = run.config.train;
  if (maxTokens >= tokens) return run;
  const steps = accum * Math.ceil(tokens / maxTokens);
  log.warn(`--max-tokens ${maxTokens}: train.batch_tokens ${tokens} → ${maxTokens}, train.accum_steps ${accum} → ${steps} (about the same tokens per update)`);
  // From the config in hand, not config.yaml: a config given with -c or --set is not written yet.
  const capped = { ...run.config, train: { ...run.config.train, batch_tokens: maxTokens, accum_steps: steps } };
  return RunDir.create(run.root, capped, { force: true, deferCommit: true });
}

export function registerTrain(program: Command): void {
  threadsOption(
    withConfigOptions(program.command('train').description('train the model, validating and checkpointing as configured; resumes from the last checkpoint')),
  )
    .option('--max-tokens <n>', 'at most n padded tokens per batch; accumulates gradients to keep the tokens per update (rewrites the run config)', positiveInt)
    .option('--reset-optimizer', 'when resuming: start with fresh Adam moments (after changing optimizer settings)')
    .option('--reset-schedule', 'when resuming: restart the learning-rate schedule (after changing it)')
    .action(async (opts: TrainCliOptions, cmd: Command) => {
      const log = loggerFor(cmd);
      const threads = parseThreads(opts.threads);
      let run = openStageRun(opts, log);
      if (opts.maxTokens !== undefined) run = capBatchTokens(run, opts.maxTokens, log);
      // One trainer per run directory: a second one would interleave checkpoints.
      const lock = acquireRunLock(run.root, 'train');
      // From here a signal stops training cleanly (checkpoint, lock released) instead of killing it.
      const stop = stopOnSignals(log);
      let summary;
      try {
        log.toFile(run.path(LAYOUT.logs, 'train.log'));
        const flag = cmd.optsWithGlobals<GlobalOptions>().backend;
        const backend = (flag && flag !== 'auto' ? flag : run.config.backend) as BackendName;
        // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
        const { initBackend } = await import('../../backend/index.ts');
        const active = await initBackend(backend, undefined, { threads });
        const parallelism = parallelismFor(active.name, threads, active);
        if (parallelism.note) log.info(parallelism.note);
        const { train } = await import('../../train/trainer.ts');
        summary = await train(run, {
          log,
          resetOptimizer: opts.resetOptimizer,
          resetSchedule: opts.resetSchedule,
          signal: stop.signal,
          threads: parallelism.workers,
        });
      } finally {
        stop.dispose();
        lock.release();
      }
      const best = summary.best ? `; best ${summary.best.metric} ${summary.best.value} at step ${summary.best.step}` : '';
      const where = summary.checkpoint ? `; checkpoint ${summary.checkpoint}` : '';
      log.result(summary, `stopped at step ${summary.step}, epoch ${summary.epoch} (${summary.stopped})${best}${where}`);
      // main() maps only errors to exit codes; an interrupted run is not an error but exits 128 + the signal.
      if (summary.stopped === 'interrupted') process.exit(stop.exitCode);
    });
}
