/**
 * The subword stage: `trainSubwords` trains (or copies in) the run's SentencePiece models under
 * subword/, `loadSubwords` opens them for training, translation and evaluation.
 *
 *   subword/joint.model, joint.vocab          when subword.joint is true
 *   subword/src.model, src.vocab, tgt.*       otherwise
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SubwordConfig } from '../config/schema.ts';
import { readLinesSync } from '../data/lines.ts';
import { UserError } from '../errors.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { replaceDirAtomic } from '../util/atomic.ts';
import type { Logger } from '../util/log.ts';
import { startProgress, type Progress } from '../util/progress.ts';
import { decodeModelProto, encodeModelProto, type ModelProto } from './model-proto.ts';
import { SentencePieceModel } from './sentencepiece.ts';
import { trainSentencePiece, trainerOptions, type TrainProgress } from './train.ts';
import { formatVocab } from './trainer-common.ts';
import type { SubwordPair } from './types.ts';

export { SentencePieceModel } from './sentencepiece.ts';
export { trainSentencePiece, trainerOptions } from './train.ts';
export type { SubwordModel, SubwordPair } from './types.ts';
export type { TrainerOptions } from './train.ts';

type ModelName = 'joint' | 'src' | 'tgt';

/** The model names a run uses: one joint model, or one per side. */
function modelNames(cfg: SubwordConfig): ModelName[] {
  return cfg.joint ? ['joint'] : ['src', 'tgt'];
}

export function subwordModelFile(run: RunDir, name: ModelName): string {
  return run.path(LAYOUT.subword, `${name}.model`);
}

export interface SubwordModelSummary {
  name: ModelName;
  /** Relative to the run directory. */
  file: string;
  type: 'bpe' | 'unigram';
  vocab_size: number;
  /** Where it came from: trained by mt, or the user's file copied in. */
  source: 'trained' | string;
  /** Mean pieces per training sentence, for each side the model serves. */
  pieces_per_sentence: Partial<Record<'src' | 'tgt', number>>;
}

export interface VocabSummary {
  models: SubwordModelSummary[];
  seconds: number;
}

/** A progress bar per training phase, opened when the phase first reports. */
function progressFor(log: Logger, label: string): { report: TrainProgress; stop: () => void } {
  let bar: Progress | undefined;
  let phase = '';
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  const report: TrainProgress = (p, done, total) => {
    if (p !== phase) {
      stop();
      phase = p;
      bar = startProgress(log, `${label} ${p}`, total);
    }
    bar!.update(done);
  };
  return { report, stop };
}

/** The user's own .model files (subword.model.*), checked against subword.joint. */
function broughtModels(cfg: SubwordConfig): Map<ModelName, string> | undefined {
  const given = cfg.model;
  if (!given || (!given.joint && !given.src && !given.tgt)) return undefined;
  if (cfg.joint) {
    if (given.src || given.tgt) throw new UserError('subword.model: subword.joint is true, so give subword.model.joint (not src/tgt), or set subword.joint: false');
    return new Map([['joint', given.joint!]]);
  }
  if (given.joint) throw new UserError('subword.model.joint: subword.joint is false; give subword.model.src and subword.model.tgt, or set subword.joint: true');
  if (!given.src || !given.tgt) throw new UserError(`subword.model.${given.src ? 'tgt' : 'src'}: missing; with subword.joint false give both src and tgt models`);
  return new Map([
    ['src', given.src],
    ['tgt', given.tgt],
  ]);
}

/**
 * Train the run's subword models on data/train.src and data/train.tgt (or copy in the user's
 * models), write them to subword/ in one atomic step, and record stage `vocab`.
 */
export async function trainSubwords(run: RunDir, log: Logger): Promise<VocabSummary> {
  const cfg = run.config.subword;
  const started = Date.now();
  const trainFile = { src: run.path(LAYOUT.data, 'train.src'), tgt: run.path(LAYOUT.data, 'train.tgt') };
  const brought = broughtModels(cfg);
  const models = new Map<ModelName, { bytes: Uint8Array; source: string }>();

  if (brought) {
    for (const [name, file] of brought) {
      const model = await SentencePieceModel.load(file); // refuses a file spm cannot use, naming it
      // Training pads batches and brackets targets, so these pieces must exist.
      for (const [special, id] of [['<pad>', model.padId], ['<s>', model.bosId], ['</s>', model.eosId]] as const) {
        if (id < 0) throw new UserError(`subword.model.${name}: ${file} has no ${special} control piece (mt needs pad, bos and eos; train with spm_train --pad_id=… --bos_id=… --eos_id=…)`);
      }
      models.set(name, { bytes: fs.readFileSync(file), source: path.resolve(file) });
      log.info(`subword ${name}: using ${file} (pad ${model.padId}, unk ${model.unkId}, bos ${model.bosId}, eos ${model.eosId}; subword.*_id do not apply)`);
    }
  } else {
    for (const file of Object.values(trainFile)) {
      if (!fs.existsSync(file)) throw new UserError(`${file}: missing; run \`mt prepare\` on this run directory first`);
    }
    for (const name of modelNames(cfg)) {
      const sides = name === 'joint' ? (['src', 'tgt'] as const) : [name];
      const inputs = sides.map((s) => trainFile[s]);
      const lines = inputs.flatMap(readLinesSync);
      log.info(`subword ${name}: training ${cfg.type}, ${cfg.vocab_size} pieces, on ${lines.length} lines`);
      const t0 = Date.now();
      const progress = progressFor(log, `vocab ${name}`);
      let proto: ModelProto;
      try {
        // The model records its inputs: relative to the run, so that its bytes (and hash, which
        // checkpoints are matched by) do not change when the run is moved or copied.
        const recorded = inputs.map((f) => path.relative(run.root, f));
        proto = trainSentencePiece(lines, trainerOptions(cfg, recorded, name, run.config.seed), progress.report);
      } finally {
        progress.stop();
      }
      log.info(`subword ${name}: trained in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      models.set(name, { bytes: encodeModelProto(proto), source: 'trained' });
    }
  }

  replaceDirAtomic(run.path(LAYOUT.subword), (dir) => {
    for (const [name, { bytes }] of models) {
      fs.writeFileSync(path.join(dir, `${name}.model`), bytes);
      fs.writeFileSync(path.join(dir, `${name}.vocab`), formatVocab(decodeModelProto(bytes)));
    }
  });

  // Load what was written, as later stages will, and measure it on the training data.
  const pair = await loadSubwords(run);
  const summaries: SubwordModelSummary[] = [];
  for (const [name, { source }] of models) {
    const model = name === 'tgt' ? pair.tgt : pair.src;
    const sides = name === 'joint' ? (['src', 'tgt'] as const) : [name];
    const perSentence: SubwordModelSummary['pieces_per_sentence'] = {};
    for (const side of sides) {
      if (!fs.existsSync(trainFile[side])) continue;
      const lines = readLinesSync(trainFile[side]);
      let pieces = 0;
      for (const line of lines) pieces += model.encodeIds(line).length;
      perSentence[side] = lines.length ? Number((pieces / lines.length).toFixed(2)) : 0;
    }
    summaries.push({ name, file: path.relative(run.root, model.file), type: model.type, vocab_size: model.vocabSize, source, pieces_per_sentence: perSentence });
  }
  const summary: VocabSummary = { models: summaries, seconds: Number(((Date.now() - started) / 1000).toFixed(1)) };
  run.recordStage('vocab', { ...summary });
  return summary;
}

/** The run's subword models (the same object for both sides when joint). */
export async function loadSubwords(run: RunDir): Promise<SubwordPair> {
  const cfg = run.config.subword;
  const open = async (name: ModelName) => {
    const file = subwordModelFile(run, name);
    if (!fs.existsSync(file)) throw new UserError(`${file}: missing; run \`mt vocab\` on this run directory first`);
    return SentencePieceModel.load(file);
  };
  if (cfg.joint) {
    const joint = await open('joint');
    return { src: joint, tgt: joint };
  }
  return { src: await open('src'), tgt: await open('tgt') };
}
