/**
 * `mt quickstart`: the whole pipeline on the generated English→Korean corpus, no download —
 * generate → prepare → vocab → train (attention) → translate → eval → plots, in one run directory.
 * Each stage is the library function the matching `mt` subcommand calls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus, writeCorpus } from '../../data/generate/index.ts';
import { loadConfigFile } from '../config/load.ts';
import { prepareData } from '../data/prepare.ts';
import { activeBackend } from '../backend/index.ts';
import { loadTranslator } from '../decode/load.ts';
import { decodeWorkers, DecodePool } from '../decode/parallel.ts';
import { formatAttention, translateLines, type Translation } from '../decode/translate.ts';
import { evaluate, type EvalReport } from '../metrics/evaluate.ts';
import { plotAttention, plotCurves, plotLength } from '../report/plots/index.ts';
import { writeLengthScores } from '../report/plots/length.ts';
import { LAYOUT, RunDir } from '../run/rundir.ts';
import { trainSubwords } from '../subword/index.ts';
import { train, type TrainSummary } from '../train/trainer.ts';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
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

function readLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
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
  const translator = await loadTranslator(run, { warn: (m) => log.warn(m) });
  const sources = readLines(run.path(LAYOUT.data, 'test.src'));
  // A fixed-context seq2seq model has no attention to draw (the seq2seq-vs-attention experiment).
  const withAttention = translator.model.hasAttention;
  const decodeOpts = { attention: withAttention, warn: (m: string) => log.warn(m) };
  const workers = decodeWorkers(opts.threads ?? 1, sources.length, config.decode.batch_size);
  let translations: Translation[];
  if (workers > 1) {
    // Worker threads decode whole batches; the output is the same as on one thread.
    const pool = await DecodePool.start(workers, translator.model, activeBackend()?.name ?? 'wasm');
    try {
      translations = await pool.translateLines(translator.subwords, sources, config.decode, decodeOpts);
    } finally {
      await pool.close();
    }
  } else {
    translations = translateLines(translator.model, translator.subwords, sources, config.decode, decodeOpts);
  }
  translator.model.dispose();
  const hypFile = run.path(LAYOUT.translations, 'test.hyp');
  writeFileAtomic(hypFile, translations.map((t) => t.text + '\n').join(''));
  const attentionFile = run.path(LAYOUT.translations, 'test.attention.jsonl');
  if (withAttention) writeFileAtomic(attentionFile, translations.map((t, i) => formatAttention(i, t)).join(''));
  run.recordStage('translate', { sentences: sources.length, checkpoint: translator.source, file: path.relative(run.root, hypFile) });

  log.info('[6/6] mt eval');
  const refFile = run.path(LAYOUT.data, 'test.tgt');
  const scores = evaluate(
    {
      systems: [{ name: hypFile, lines: translations.map((t) => t.text) }],
      references: [{ name: refFile, lines: readLines(refFile) }],
      source: { name: run.path(LAYOUT.data, 'test.src'), lines: sources },
    },
    {
      metrics: config.eval.metrics,
      tokenize: config.eval.tokenize,
      lowercase: config.eval.lowercase,
      confidence: false,
      paired: null,
      bootstrapSamples: config.eval.bootstrap_samples,
      randomizationTrials: 0,
      seed: config.eval.seed,
      lengthBuckets: config.eval.length_buckets,
    },
  );
  writeJsonAtomic(run.path(LAYOUT.scores, 'test.json'), scores);
  writeLengthScores(run.root, scores);
  const system = scores.systems[0]!;
  const bleu = system.scores.bleu?.score ?? NaN;
  const chrf = system.scores.chrf?.score ?? NaN;
  run.recordStage('eval', { bleu, chrf, file: path.join(LAYOUT.scores, 'test.json') });

  const plots = [
    ...(await plotCurves(run.root)),
    ...(withAttention ? await plotAttention(run.root, attentionFile, sentenceToPlot(sources)) : []),
    ...(await plotLength([run.root], { names: [config.model.type] })),
  ];
  return { run: run.root, train: summary, scores, bleu, chrf, plots, elapsed_s: (Date.now() - started) / 1000 };
}
