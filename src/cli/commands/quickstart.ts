/** `mt quickstart`: the main job on embedded data — generate, prepare, vocab, train, translate, eval, plot. */
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { loggerFor, parallelismFor, parseThreads, positiveInt, stopOnSignals, threadsOption, type GlobalOptions } from '../common.ts';

interface QuickstartFlags {
  run: string;
  pairs: number;
  seed: number;
  maxWords: number;
  set: string[];
  force?: boolean;
  threads?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerQuickstart(program: Command): void {
  threadsOption(program.command('quickstart'))
    .description(
      'run the whole pipeline on a generated English→Korean corpus (no download): an attention model, BLEU/chrF, plots',
    )
    .option('-r, --run <dir>', 'run directory', 'runs/quickstart')
    .option('--pairs <n>', 'sentence pairs to generate', positiveInt, 12000)
    .option('--seed <n>', 'seed for the corpus and the model', positiveInt, 1234)
    .option('--max-words <n>', 'longest generated English sentence, in words', positiveInt, 25)
    .option('--set <key=value>', 'override configs/quickstart-en-ko.yaml, e.g. --set model.type=seq2seq (repeatable)', collect, [])
    .option('--force', 'reuse a run directory made from a different config')
    .action(async (flags: QuickstartFlags, cmd: Command) => {
      const log = loggerFor(cmd);
      const threads = parseThreads(flags.threads);
      const { initBackend } = await import('../../backend/index.ts');
      const backend = await initBackend((cmd.optsWithGlobals<GlobalOptions>().backend ?? 'auto') as BackendName, undefined, { threads });
      log.info(`backend: ${backend.name}`);
      const parallelism = parallelismFor(backend.name, threads, backend);
      if (parallelism.note) log.info(parallelism.note);
      const { quickstart, QuickstartInterrupted } = await import('../../pipeline/quickstart.ts');
      const stop = stopOnSignals(log);
      try {
        const r = await quickstart({
          run: flags.run,
          pairs: flags.pairs,
          seed: flags.seed,
          maxWords: flags.maxWords,
          overrides: flags.set,
          force: flags.force,
          threads: parallelism.workers,
          log,
          signal: stop.signal,
        });
        const text = [
          `test BLEU ${r.bleu.toFixed(2)}  chrF ${r.chrf.toFixed(2)}  (${r.scores.segments} sentences, ${Math.round(r.elapsed_s)} s in all)`,
          `run directory: ${r.run}`,
          `plots: ${r.plots.filter((p) => p.endsWith('.png')).join(', ')}`,
          `next: mt translate --run ${flags.run} < some.en    mt eval --run ${flags.run} --explain`,
        ].join('\n');
        log.result({ run: r.run, bleu: r.bleu, chrf: r.chrf, steps: r.train.step, elapsed_s: r.elapsed_s, plots: r.plots }, text);
      } catch (e) {
        if (!(e instanceof QuickstartInterrupted)) throw e;
        const where = e.train.checkpoint ? `checkpoint ${e.train.checkpoint}` : 'no checkpoint yet';
        log.warn(`stopped at step ${e.train.step} (${where}); the same mt quickstart command continues from there`);
        process.exit(stop.exitCode);
      } finally {
        stop.dispose();
      }
    });
}
