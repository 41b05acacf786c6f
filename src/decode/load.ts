/** What a run translates with: a checkpoint's model (or the average of the last K) and the run's subword models. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listCheckpoints, loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.ts';
import { UserError } from '../errors.ts';
import type { NmtModel } from '../models/types.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { loadSubwords } from '../subword/index.ts';
import type { SubwordPair } from '../subword/types.ts';
import { loadAveragedCheckpoint } from './average.ts';

export interface Translator {
  model: NmtModel;
  subwords: SubwordPair;
  /** What the weights are and why they were chosen: "checkpoint step-000025 (the best on …)", or "average of …". */
  source: string;
  step: number;
  /** The checkpoint translated with (absent for an average): its folder, step, and why it was chosen. */
  checkpoint?: { path: string; step: number; why: string };
}

const METRIC_NAMES: Record<string, string> = { bleu: 'BLEU', chrf: 'chrF', loss: 'loss', ppl: 'perplexity' };

/** Why `loaded` is the checkpoint to use, as `which` chose it (`given`: named by the user). */
function whyChosen(run: RunDir, loaded: LoadedCheckpoint, which: string, given: boolean): string {
  if (which !== 'best' && which !== 'last') return 'given by --checkpoint';
  if (which === 'last') return given ? 'the last' : 'the last (none validated yet)';
  const best = loaded.state.training.best;
  const why = best ? `the best on validation ${METRIC_NAMES[best.metric] ?? best.metric}, ${best.value} at step ${best.step}` : 'the best';
  // After more training the best can be older than the last: say so, and how to use the last.
  const last = listCheckpoints(run).at(-1)?.step ?? loaded.step;
  return !given && last > loaded.step ? `${why}; the last is step ${last}: --checkpoint last` : why;
}

export interface TranslatorOptions {
  /** 'best', 'last' or a checkpoint path; default: best when one was validated, else last. */
  checkpoint?: string;
  /** Average the last K checkpoints instead (excludes `checkpoint`). */
  average?: number;
  warn?: (msg: string) => void;
}

export async function loadTranslator(run: RunDir, opts: TranslatorOptions = {}): Promise<Translator> {
  if (opts.average !== undefined && opts.checkpoint !== undefined) {
    throw new UserError('--average and --checkpoint exclude each other (averaging takes the last K checkpoints)');
  }
  let loaded: LoadedCheckpoint;
  let source: string;
  let checkpoint: Translator['checkpoint'];
  if (opts.average !== undefined) {
    const avg = await loadAveragedCheckpoint(run, opts.average, opts.warn);
    loaded = avg;
    source = `average of ${avg.sources.length} checkpoints (steps ${avg.sources.map((c) => c.step).join(', ')})`;
  } else {
    const which = opts.checkpoint ?? (fs.existsSync(run.path(LAYOUT.checkpoints, 'best.json')) ? 'best' : 'last');
    loaded = await loadCheckpoint(run, which, { warn: opts.warn });
    const why = whyChosen(run, loaded, which, opts.checkpoint !== undefined);
    // best and last by folder name; a folder the user named by its full path.
    const shown = which === 'best' || which === 'last' ? path.basename(loaded.dir) : loaded.dir;
    source = `checkpoint ${shown} (${why})`;
    checkpoint = { path: loaded.dir, step: loaded.step, why };
  }
  let subwords: SubwordPair;
  try {
    subwords = await loadSubwords(run);
    for (const [side, size, sw] of [
      ['source', loaded.model.srcVocabSize, subwords.src],
      ['target', loaded.model.tgtVocabSize, subwords.tgt],
    ] as const) {
      if (sw.vocabSize !== size) {
        throw new UserError(`${sw.file}: ${sw.vocabSize} pieces but the model's ${side} vocabulary has ${size} (${loaded.dir})`);
      }
    }
  } catch (e) {
    loaded.model.dispose();
    throw e;
  }
  return { model: loaded.model, subwords, source, step: loaded.step, checkpoint };
}
