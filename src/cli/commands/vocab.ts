/** `mt vocab`: train the run's SentencePiece models (or copy in the user's) into <run>/subword. */
import type { Command } from 'commander';
import { acquireRunLock } from '../../run/lock.ts';
import { LAYOUT } from '../../run/rundir.ts';
import { trainSubwords, type VocabSummary } from '../../subword/index.ts';
import { loggerFor, openStageRun, withConfigOptions, type StageOptions } from '../common.ts';

export function registerVocab(program: Command): void {
  withConfigOptions(
    program
      .command('vocab')
      .description('train SentencePiece (BPE or unigram) models on <run>/data/train.* into <run>/subword, or copy in subword.model.* files'),
  ).action(async (opts: StageOptions, cmd: Command) => {
    const log = loggerFor(cmd);
    const run = openStageRun(opts, log);
    log.toFile(run.path(LAYOUT.logs, 'vocab.log'));
    const lock = acquireRunLock(run.root, 'vocab');
    let summary: VocabSummary;
    try {
      summary = await trainSubwords(run, log);
    } finally {
      lock.release();
    }
    const lines = summary.models.map((m) => {
      const perSentence = Object.entries(m.pieces_per_sentence)
        .map(([side, n]) => `${n} pieces/sentence (${side})`)
        .join(', ');
      const origin = m.source === 'trained' ? `${m.type}, trained` : `${m.type}, from ${m.source}`;
      return `${run.path(m.file)}: ${m.vocab_size} pieces (${origin})${perSentence ? `; ${perSentence} on train` : ''}`;
    });
    lines.push(`done in ${summary.seconds} s`);
    log.result(summary, lines.join('\n'));
  });
}
