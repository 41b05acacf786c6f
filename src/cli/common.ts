/** What every subcommand shares: global flags, the logger, config + run directory loading. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfigFile } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { diffKeys, identityOf, LAYOUT, RunDir } from '../run/rundir.ts';
import { Logger } from '../util/log.ts';

export interface GlobalOptions {
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
  backend?: string;
}

export function loggerFor(cmd: Command): Logger {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  return new Logger({ verbose: !!g.verbose, quiet: !!g.quiet, json: !!g.json });
}

/**
 * `--threads N|auto` (default: the MT_THREADS environment variable, else auto): how many cores
 * train or translate. What that means on each backend is parallelismFor (src/backend/names.ts):
 * worker threads on wasm and cpu (auto: every core, at most 8), the backend's own thread pool on
 * node and gpu (auto: TensorFlow's default, every core).
 */
export function threadsOption(
  cmd: Command,
  what = "cores to train on (wasm/cpu: data-parallel worker threads; node/gpu: the backend's own threads; default $MT_THREADS or auto)",
): Command {
  return cmd.option('--threads <n|auto>', what);
}

/** `--threads` (or MT_THREADS) checked: a count, or auto. */
export function parseThreads(flag: string | undefined): number | 'auto' {
  const value = flag ?? process.env.MT_THREADS ?? 'auto';
  if (value === 'auto') return 'auto';
  const n = Number(value);
  const where = flag !== undefined ? '--threads' : 'MT_THREADS';
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UserError(`${where}: expected auto or a whole number from 1 to 64, got '${value}'`);
  return n;
}

/** What a parsed `--threads` means on the backend in use (defined beside the backend names). */
export { parallelismFor } from '../backend/names.ts';

/** commander parser for flags that take a count. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** commander parser for a count with an upper bound (a beam of 100000 would exhaust memory, not fail). */
export function positiveIntUpTo(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`must be a whole number from 1 to ${max}`);
    return n;
  };
}

/** Collects repeated `--set key=value` flags. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** -c/--config, -r/--run, --set, --force: the options of stages that start from a config. */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'experiment config (YAML); optional when --run already holds one')
    .option('-r, --run <dir>', 'run directory shared by all stages (default: runs/<config name>)')
    .option('--set <key=value>', 'override a config value, e.g. --set train.learning_rate=3e-4 (repeatable)', collect, [])
    .option('--force', 'reuse a run directory made from a different config (its config is replaced); not needed to raise train.max_steps, max_epochs or early_stopping.patience');
}

/** The limits a run may raise without --force: training longer continues the same experiment. */
function trainingLimits(c: Config): Record<string, number | undefined> {
  return { 'train.max_steps': c.train.max_steps, 'train.max_epochs': c.train.max_epochs, 'train.early_stopping.patience': c.train.early_stopping.patience };
}

/** Whether `next` differs from the config of the run at `root` only by raising training limits. */
function raisesLimitsOnly(root: string, next: Config, log: Logger): boolean {
  if (!fs.existsSync(path.join(root, LAYOUT.manifest))) return false;
  const current = RunDir.open(root).config;
  const changed = diffKeys(identityOf(current), identityOf(next));
  const [before, after] = [trainingLimits(current), trainingLimits(next)];
  // An absent max_steps is no limit at all.
  const raised = (key: string) => key in before && (after[key] ?? Infinity) > (before[key] ?? Infinity);
  if (changed.length === 0 || !changed.every(raised)) return false;
  log.info(`raising ${changed.map((k) => `${k} ${before[k]} → ${after[k]}`).join(', ')}`);
  return true;
}

export interface StageOptions {
  config?: string;
  run?: string;
  set: string[];
  force?: boolean;
}

/**
 * The run directory a stage works in: from -c (created or checked against an existing run),
 * or from --run alone (its resolved config.yaml), with --set applied on top. A changed config is
 * written to the run only when the stage succeeds (`recordStage`, or `commitConfig` where the
 * stage says so), so a stage that fails leaves the run as it was.
 */
export function openStageRun(opts: StageOptions, log: Logger): RunDir {
  if (opts.config) {
    const { config, file } = loadConfigFile(opts.config, { overrides: opts.set });
    const name = config.name ?? path.basename(file).replace(/\.ya?ml$/i, '');
    const runDir = opts.run ?? path.join('runs', name);
    const run = RunDir.create(runDir, config, { force: opts.force || raisesLimitsOnly(runDir, config, log), deferCommit: true });
    log.debug(`run directory: ${run.root}`);
    return run;
  }
  if (!opts.run) throw new UserError('give a config with -c FILE or an existing run directory with --run DIR');
  const existing = RunDir.open(opts.run);
  if (opts.set.length === 0) return existing;
  const { config } = loadConfigFile(existing.path('config.yaml'), { overrides: opts.set });
  return RunDir.create(existing.root, config, { force: opts.force || raisesLimitsOnly(existing.root, config, log), deferCommit: true });
}

/** Exit codes of a run stopped by a signal once its checkpoint is saved: 128 + the signal's number. */
const STOP_SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

export interface SignalStop {
  /** Aborted by the first SIGINT or SIGTERM: training saves a checkpoint after the current step. */
  signal: AbortSignal;
  /** 130 after SIGINT, 143 after SIGTERM. */
  exitCode: number | undefined;
  dispose(): void;
}

/**
 * Ctrl-C and SIGTERM (kill, systemd, a batch scheduler) alike: the first asks training to save a
 * checkpoint after the current step and stop; a second quits at once (the last checkpoint is intact).
 */
export function stopOnSignals(log: Logger): SignalStop {
  const controller = new AbortController();
  const stop: SignalStop = { signal: controller.signal, exitCode: undefined, dispose: () => handlers.forEach(([n, h]) => process.off(n, h)) };
  const handlers = Object.entries(STOP_SIGNALS).map(([name, code]) => {
    const handler = (): void => {
      if (controller.signal.aborted) process.exit(stop.exitCode);
      stop.exitCode = code;
      const what = name === 'SIGINT' ? 'interrupted' : `terminated (${name})`;
      log.warn(`${what}: saving a checkpoint after this step (${name === 'SIGINT' ? 'Ctrl-C' : name} again to quit at once)`);
      controller.abort();
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return stop;
}
