/**
 * Pipeline stages whose implementation has not landed yet. Their plumbing is real: the config is
 * validated and the run directory created or checked before they report that they are missing.
 * Each stage moves to its own file under commands/ as it is built.
 */
import type { Command } from 'commander';
import { NotImplementedError } from '../../errors.ts';
import { loggerFor, openStageRun, withConfigOptions, type StageOptions } from '../common.ts';

interface PendingStage {
  name: string;
  description: string;
}

const PENDING: PendingStage[] = [
  { name: 'prepare', description: 'clean, filter and split the parallel corpora into the run directory' },
  { name: 'vocab', description: 'train SentencePiece (BPE or unigram) models on the prepared data' },
  { name: 'train', description: 'train the model, validating and checkpointing as configured' },
  { name: 'translate', description: 'translate text with a trained run (greedy or beam search)' },
  { name: 'eval', description: 'score translations with BLEU, chrF, chrF++ and TER (sacreBLEU-exact)' },
];

export function registerPendingStages(program: Command): void {
  for (const stage of PENDING) {
    withConfigOptions(program.command(stage.name).description(`${stage.description} (not implemented yet)`)).action(
      (opts: StageOptions, cmd: Command) => {
        const log = loggerFor(cmd);
        const run = openStageRun(opts, log);
        log.debug(`${stage.name}: using ${run.root}`);
        throw new NotImplementedError(`mt ${stage.name}`);
      },
    );
  }
}
