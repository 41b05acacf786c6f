/** The run's prepared data (data/, written by `mt prepare`) as training and validation need it. */
import * as fs from 'node:fs';
import { readLinesSync } from '../data/lines.ts';
import { UserError } from '../errors.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import type { SubwordPair } from '../subword/types.ts';
import type { Logger } from '../util/log.ts';
import { encodeCorpus, type Pair } from './batching.ts';

export interface Corpora {
  train: Pair[];
  /** The validation pairs short enough for the loss (train.max_len). */
  valid: Pair[];
  /** All validation lines, for BLEU/chrF. */
  validSrc: string[];
  validTgt: string[];
}

/** Refuse to start without the prepared data, naming the stage to run (loadSubwords does the same for `mt vocab`). */
export function requirePreparedData(run: RunDir): void {
  for (const split of ['train', 'valid']) {
    for (const side of ['src', 'tgt']) {
      const file = run.path(LAYOUT.data, `${split}.${side}`);
      if (!fs.existsSync(file)) throw new UserError(`${file}: missing; run \`mt prepare\` on this run directory first`);
    }
  }
}

export function loadCorpora(run: RunDir, subwords: SubwordPair, maxLen: number, log: Logger): Corpora {
  const data = (name: string) => run.path(LAYOUT.data, name);
  const train = encodeCorpus(data('train.src'), data('train.tgt'), subwords, maxLen);
  const valid = encodeCorpus(data('valid.src'), data('valid.tgt'), subwords, maxLen);
  if (train.dropped > 0) log.info(`train: ${train.dropped} of ${train.lines} pairs dropped (longer than train.max_len ${maxLen} or empty source)`);
  const validSrc = readLinesSync(data('valid.src'));
  if (validSrc.length === 0) throw new UserError(`${data('valid.src')}: empty; training needs a validation set (data.valid or data.split.valid_size)`);
  if (valid.dropped > 0) log.info(`valid: loss over ${valid.pairs.length} of ${valid.lines} pairs (the others exceed train.max_len); BLEU over all`);
  return { train: train.pairs, valid: valid.pairs, validSrc, validTgt: readLinesSync(data('valid.tgt')) };
}
