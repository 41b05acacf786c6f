/**
 * A tiny real run directory for the training tests: synthetic parallel data written as
 * `mt prepare` would, subword models trained by mt's own trainer, and a config for a tiny model.
 * The task is copying a sentence of made-up words, which a tiny model learns in a few steps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigSchema } from '../src/config/schema.ts';
import { RunDir } from '../src/run/rundir.ts';
import { trainSubwords } from '../src/subword/index.ts';
import { Logger } from '../src/util/log.ts';
import { Sfc32 } from '../src/util/random.ts';
import { tempDir } from './helpers/cli.ts';

export const quietLog = (): Logger => new Logger({ quiet: true, json: false, verbose: false });

const WORDS = ['ka', 'lo', 'mi', 'nu', 'pe', 'ri', 'so', 'tu', 'va', 'ze', 'bo', 'di'];

function sentences(count: number, seed: number): string[] {
  const rng = Sfc32.fromSeed(seed);
  return Array.from({ length: count }, () => Array.from({ length: 2 + rng.int(5) }, () => WORDS[rng.int(WORDS.length)]).join(' '));
}

export const TINY_MODELS = {
  seq2seq: { type: 'seq2seq', cell: 'gru', emb_size: 16, hidden_size: 32, bidirectional: false, dropout: 0.1 },
  attention: { type: 'attention', cell: 'gru', emb_size: 16, hidden_size: 32, bidirectional: true, dropout: 0.1 },
  transformer: { type: 'transformer', d_model: 16, heads: 2, ff_size: 32, encoder_layers: 1, decoder_layers: 1, dropout: 0.1, max_positions: 64 },
} as const;

/** The config text of a tiny experiment (YAML is a superset of JSON). */
export function tinyConfig(model: object, train: object = {}): Record<string, unknown> {
  return {
    seed: 7,
    data: { src_lang: 'xx', tgt_lang: 'yy', train: [{ src: 'unused.src', tgt: 'unused.tgt' }] },
    subword: { type: 'bpe', vocab_size: 24, joint: true },
    model,
    train: { batch_tokens: 120, max_sentences: 16, max_len: 20, log_every: 1, valid_every: 1000, learning_rate: 3e-3, ...train },
    decode: { max_len_a: 1.5, max_len_b: 4 },
  };
}

/** A run directory with prepared data and trained subword models, ready for `mt train`. */
export async function tinyRun(config: Record<string, unknown>, dir = path.join(tempDir('mt-train-'), 'run')): Promise<RunDir> {
  const run = RunDir.create(dir, ConfigSchema.parse(config));
  const write = (name: string, lines: string[]) => fs.writeFileSync(run.path('data', name), lines.join('\n') + '\n');
  fs.mkdirSync(run.path('data'), { recursive: true });
  const train = sentences(160, 1);
  const valid = sentences(12, 2);
  write('train.src', train);
  write('train.tgt', train);
  write('valid.src', valid);
  write('valid.tgt', valid);
  await trainSubwords(run, quietLog());
  return run;
}

export interface MetricsRecord {
  kind: 'train' | 'valid';
  step: number;
  loss?: number;
  valid_loss?: number;
  bleu?: number;
}

export function readMetrics(run: RunDir): MetricsRecord[] {
  const file = run.path('logs', 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as MetricsRecord);
}
