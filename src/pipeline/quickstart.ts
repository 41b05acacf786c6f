/**
 * `mt quickstart`: the whole pipeline on the generated English→Korean corpus, no download —
 * generate → prepare → vocab → train (attention) → translate → eval → plots, in one run directory.
 * Each stage is the library function the matching `mt` subcommand calls.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus, writeCorpus } from '../data/generate/index.ts';
import { readLinesSync } from '../data/lines.ts';
import { loadConfigFile } from '../config/load.ts';
import { prepareData } from '../data/prepare.ts';
import { translateRun } from '../decode/run.ts';
import type { EvalReport } from '../metrics/evaluate.ts';
import { evaluateRun } from '../metrics/run.ts';
import { modelFacts } from '../models/facts.ts';
import { plotAttention, plotCurves, plotLength } from '../report/plots/index.ts';
import { LAYOUT, RunDir } from '../run/rundir.ts';
import { trainSubwords } from '../subword/index.ts';
import { train, type TrainSummary } from '../train/trainer.ts';
import type { Logger } from '../util/log.ts';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const QUICKSTART_CONFIG = path.join(PACKAGE_ROOT, 'configs', 'quickstart-en-ko.yaml');

export interface QuickstartOptions {
  run: string;
  pairs: number;
  seed: number;
  /** Longest generated English sentence, in words. */
  maxWords: number;
  /** Extra `--set` overrides applied to configs/quickstart-en-ko.yaml. */
  overrides: string[];
  force?: boolean;
  /** Data-parallel training ranks (src/train/parallel.ts), and decoding workers (src/decode/parallel.ts). */
  threads?: number;
  log: Logger;
  signal?: AbortSignal;
}

/** Training was stopped by a signal (its checkpoint saved): the later stages did not run. */
export class QuickstartInterrupted extends Error {
  constructor(readonly train: TrainSummary) {
    super(`interrupted at step ${train.step}`);
  }
}

export interface QuickstartResult {
  run: string;
  train: TrainSummary;
  scores: EvalReport;
  bleu: number;
  chrf: number;
  plots: string[];
  elapsed_s: number;
}

/** The test sentence whose heatmap is drawn: the first one of middling length (readable, still reordered). */
function sentenceToPlot(sources: string[]): number {
  const i = sources.findIndex((s) => {
    const n = s.split(' ').length;
    return n >= 8 && n <= 14;
  });
  return Math.max(i, 0);
}

export async function quickstart(opts: QuickstartOptions): Promise<QuickstartResult> {
  const { log } = opts;
  const started = Date.now();
  const runRoot = path.resolve(opts.run);
  const corpusDir = path.join(runRoot, 'corpus');

  log.info(`[1/6] generating ${opts.pairs} English→Korean pairs (seed ${opts.seed}) into ${corpusDir}`);
  const corpus = generateCorpus('en-ko', { pairs: opts.pairs, seed: opts.seed, maxWords: opts.maxWords });
  writeCorpus(corpus, corpusDir);

  const file = (split: string, lang: string): string => path.join(corpusDir, `${split}.${lang}`);
  const { config } = loadConfigFile(QUICKSTART_CONFIG, {
    overrides: [
      `data.train=[{src: "${file('train', 'en')}", tgt: "${file('train', 'ko')}"}]`,
      `data.valid={src: "${file('valid', 'en')}", tgt: "${file('valid', 'ko')}"}`,
      `data.test={src: "${file('test', 'en')}", tgt: "${file('test', 'ko')}"}`,
      `seed=${opts.seed}`,
      ...opts.overrides,
    ],
  });
  const run = RunDir.create(runRoot, config, { force: opts.force });

  log.info('[2/6] mt prepare');
  await prepareData(run, log);
  log.info('[3/6] mt vocab');
  await trainSubwords(run, log);
  log.info(`[4/6] mt train (${config.model.type})`);
  const summary = await train(run, { log, signal: opts.signal, threads: opts.threads });
  if (summary.stopped === 'interrupted') throw new QuickstartInterrupted(summary);

  log.info('[5/6] mt translate (test split)');
  // A fixed-context seq2seq model has no attention to draw (the seq2seq-vs-attention experiment).
  const withAttention = modelFacts(config.model).hasAttention;
  const attentionFile = run.path(LAYOUT.translations, 'test.attention.jsonl');
  // The whole split sorted into batches at once, as quickstart has always done (see `window`).
  await translateRun(run, {
    split: 'test',
    attention: withAttention ? attentionFile : undefined,
    format: 'text',
    window: Infinity,
    threads: opts.threads ?? 1,
    backend: 'auto',
    log,
  });

  log.info('[6/6] mt eval');
  const { report: scores } = await evaluateRun(run, { split: 'test', log });
  const system = scores.systems[0]!;
  const bleu = system.scores.bleu?.score ?? NaN;
  const chrf = system.scores.chrf?.score ?? NaN;
  const sources = readLinesSync(run.path(LAYOUT.data, 'test.src'));

  const plots = [
    ...(await plotCurves(run.root, { warn: (m) => log.warn(m) })),
    ...(withAttention ? await plotAttention(run.root, attentionFile, sentenceToPlot(sources), { warn: (m) => log.warn(m) }) : []),
    ...(await plotLength([run.root], { names: [config.model.type], warn: (m) => log.warn(m) })),
  ];
  return { run: run.root, train: summary, scores, bleu, chrf, plots, elapsed_s: (Date.now() - started) / 1000 };
}
