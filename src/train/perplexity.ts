/**
 * Perplexity of a run's checkpoint on one of its splits (`mt eval --run DIR --perplexity`):
 * data/<split>.src and data/<split>.tgt encoded with the run's subword models, filtered by
 * train.max_len and batched exactly as training does for validation, scored by the validation
 * loss itself — so `--split valid` gives the `valid_ppl` that `mt train` logged for that step.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendName } from '../backend/names.ts';
import { TranslatorSession } from '../decode/session.ts';
import { UserError } from '../errors.ts';
import type { PerplexityScore } from '../metrics/run.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { encodeCorpus, planInOrder, specialIds } from './batching.ts';
import { validationLoss } from './validate.ts';

export interface PerplexityOptions {
  /** The split, data/<split>.{src,tgt} (default test). */
  split?: string;
  /** 'best', 'last' or a checkpoint folder (default: best if one was validated, else last). */
  checkpoint?: string;
  /** The tfjs backend (default: the run's config's). */
  backend?: BackendName;
  warn?: (msg: string) => void;
}

export interface PerplexityReport {
  split: string;
  /** exp(nll): perplexity per target subword token. */
  perplexity: number;
  /** Mean negative log-likelihood per target token, in nats (no label smoothing). */
  nll: number;
  /** Summed negative log-likelihood, in nats. */
  nll_total: number;
  /** Target subword tokens counted (each sentence's eos included). */
  tokens: number;
  /** Pairs scored, lines in the files, and pairs left out (longer than train.max_len, or an empty source). */
  pairs: number;
  lines: number;
  dropped: number;
  /** The checkpoint folder (relative to the run when inside it), its step, and why it was chosen. */
  checkpoint: { path: string; step: number; why: string };
  src: string;
  tgt: string;
}

/** The checkpoint folder as written down: relative to the run directory when it lies inside it. */
function shownPath(run: RunDir, dir: string): string {
  const rel = path.relative(run.root, dir);
  return rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

/** Teacher-forced perplexity of a checkpoint of `run` on data/<split>.{src,tgt}. */
export async function runPerplexity(run: RunDir, opts: PerplexityOptions = {}): Promise<PerplexityReport> {
  const split = opts.split ?? 'test';
  const src = run.path(LAYOUT.data, `${split}.src`);
  const tgt = run.path(LAYOUT.data, `${split}.tgt`);
  for (const file of [src, tgt]) {
    if (!fs.existsSync(file)) throw new UserError(`${file}: missing; --split ${split} needs data/${split}.src and data/${split}.tgt (run mt prepare)`);
  }
  // The loader translate uses: checkpoint choice, weights, and the run's subword models checked against them.
  const session = await TranslatorSession.open(run, { checkpoint: opts.checkpoint, backend: opts.backend, warn: opts.warn });
  try {
    const { model, subwords, checkpoint } = session.translator;
    const cfg = run.config.train;
    const corpus = encodeCorpus(src, tgt, subwords, cfg.max_len);
    if (corpus.pairs.length === 0) {
      throw new UserError(`${tgt}: no pairs to score (${corpus.lines} lines, ${corpus.dropped} longer than train.max_len ${cfg.max_len} or with an empty source)`);
    }
    const batches = planInOrder(corpus.pairs, { batchTokens: cfg.batch_tokens, maxSentences: cfg.max_sentences });
    const { loss, ppl, nll, tokens } = validationLoss(model, corpus.pairs, batches, specialIds(subwords));
    return {
      split,
      perplexity: ppl,
      nll: loss,
      nll_total: nll,
      tokens,
      pairs: corpus.pairs.length,
      lines: corpus.lines,
      dropped: corpus.dropped,
      // loadTranslator always names the checkpoint when it does not average.
      checkpoint: { path: shownPath(run, checkpoint!.path), step: checkpoint!.step, why: checkpoint!.why },
      src,
      tgt,
    };
  } finally {
    await session.close();
  }
}

/** What scores/<split>.json keeps of a report (writePerplexityScore). */
export function perplexityScore(report: PerplexityReport): PerplexityScore {
  return { value: report.perplexity, nll: report.nll, tokens: report.tokens, checkpoint: report.checkpoint.path, step: report.checkpoint.step };
}
