/** What a run translates with: a checkpoint's model (or the average of the last K) and the run's subword models. */
import * as fs from 'node:fs';
import { loadCheckpoint, type LoadedCheckpoint } from '../checkpoint/index.ts';
import { UserError } from '../errors.ts';
import type { NmtModel } from '../models/types.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { loadSubwords } from '../subword/index.ts';
import type { SubwordPair } from '../subword/types.ts';
import { loadAveragedCheckpoint } from './average.ts';

export interface Translator {
  model: NmtModel;
  subwords: SubwordPair;
  /** What the weights are: a checkpoint folder name, or "average of …". */
  source: string;
  step: number;
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
  if (opts.average !== undefined) {
    const avg = await loadAveragedCheckpoint(run, opts.average, opts.warn);
    loaded = avg;
    source = `average of ${avg.sources.length} checkpoints (steps ${avg.sources.map((c) => c.step).join(', ')})`;
  } else {
    const which = opts.checkpoint ?? (fs.existsSync(run.path(LAYOUT.checkpoints, 'best.json')) ? 'best' : 'last');
    loaded = await loadCheckpoint(run, which, { warn: opts.warn });
    source = `${which} checkpoint (step ${loaded.step})`;
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
  return { model: loaded.model, subwords, source, step: loaded.step };
}
