/**
 * `mt eval --run DIR --perplexity`: a checkpoint's teacher-forced perplexity on a split — the
 * valid_ppl training logged for that step, written into scores/<split>.json beside the BLEU report.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { train } from '../src/train/trainer.ts';
import type { RunDir } from '../src/run/rundir.ts';
import { runMt } from './helpers/cli.ts';
import { quietLog, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

interface ValidRecord {
  kind: string;
  step: number;
  valid_ppl?: number;
}

interface PerplexityOutput {
  split: string;
  perplexity: number;
  nll: number;
  tokens: number;
  pairs: number;
  checkpoint: { path: string; step: number; why: string };
  file: string;
}

let run: RunDir;

before(async () => {
  await initBackend('wasm');
  run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 6, valid_every: 3, keep_last: 5, learning_rate: 1e-2 }));
  await train(run, { log: quietLog() });
});

function validRecords(): ValidRecord[] {
  return fs
    .readFileSync(run.path('logs', 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ValidRecord)
    .filter((r) => r.kind === 'valid');
}

function perplexity(args: string[]): PerplexityOutput {
  const r = runMt(['--json', 'eval', '--run', run.root, '--perplexity', '--backend', 'wasm', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as PerplexityOutput;
}

describe('mt eval --perplexity', () => {
  it('gives the valid_ppl training logged for the validated step, and writes it to scores/valid.json', () => {
    const records = validRecords();
    assert.deepEqual(records.map((r) => r.step), [3, 6]);
    for (const logged of records) {
      const out = perplexity(['--split', 'valid', '--checkpoint', `step-${String(logged.step).padStart(6, '0')}`]);
      assert.equal(out.split, 'valid');
      assert.equal(out.checkpoint.step, logged.step);
      assert.ok(Math.abs(out.perplexity - logged.valid_ppl!) / logged.valid_ppl! < 1e-3, `step ${logged.step}: ${out.perplexity} vs logged ${logged.valid_ppl}`);
      assert.ok(Math.abs(Math.exp(out.nll) - out.perplexity) < 1e-9);
      assert.ok(out.tokens > out.pairs && out.pairs === 12);
    }
    const scores = JSON.parse(fs.readFileSync(run.path('scores', 'valid.json'), 'utf8')) as { perplexity: { value: number; tokens: number; checkpoint: string; step: number } };
    assert.equal(scores.perplexity.step, 6);
    assert.equal(scores.perplexity.checkpoint, path.join('checkpoints', 'step-000006'));
  });

  it('keeps the other fields of scores/<split>.json, and BLEU scoring keeps the perplexity', () => {
    // Translations that are the references: BLEU 100, and a report to keep.
    fs.mkdirSync(run.path('translations'), { recursive: true });
    fs.copyFileSync(run.path('data', 'valid.tgt'), run.path('translations', 'valid.hyp'));
    const bleu = runMt(['eval', '--run', run.root, '--split', 'valid', '-m', 'bleu']);
    assert.equal(bleu.code, 0, bleu.stderr);
    const file = run.path('scores', 'valid.json');
    const first = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.ok(first.perplexity, 'the perplexity written before is kept by mt eval --run');
    assert.ok(first.systems);

    const out = perplexity(['--split', 'valid', '--checkpoint', 'last']);
    assert.equal(out.checkpoint.step, 6);
    const after = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(after.systems, first.systems);
    assert.deepEqual(after.perplexity, { value: out.perplexity, nll: out.nll, tokens: out.tokens, checkpoint: path.join('checkpoints', 'step-000006'), step: 6 });
  });

  it('prints perplexity, NLL, tokens and the checkpoint (default: the best)', () => {
    const r = runMt(['eval', '--run', run.root, '--perplexity', '--split', 'valid', '--backend', 'wasm']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^valid perplexity: \d+\.\d{4} per target subword token\nNLL: +\d+\.\d+ nats per token/);
    assert.match(r.stdout, /\ntokens: +\d+ target subword tokens, eos included \(12 pairs\)\n/);
    assert.match(r.stdout, /\ncheckpoint: checkpoints\/step-00000\d, step \d \(the best on validation /);
  });

  it('exits 2 with one line naming the file: a split without data, a run without checkpoints', async () => {
    const missing = runMt(['eval', '--run', run.root, '--perplexity', '--backend', 'wasm']);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^mt: error: \S*data\/test\.src: missing; --split test needs data\/test\.src and data\/test\.tgt/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);

    const untrained = await tinyRun(tinyConfig(TINY_MODELS.seq2seq));
    const none = runMt(['eval', '--run', untrained.root, '--perplexity', '--split', 'valid', '--backend', 'wasm']);
    assert.equal(none.code, 2, none.stderr);
    assert.match(none.stderr, /^mt: error: \S*checkpoints: no checkpoints yet/);
    assert.equal(none.stderr.trim().split('\n').length, 1, none.stderr);

    const noRun = runMt(['eval', '--perplexity']);
    assert.equal(noRun.code, 2);
    assert.match(noRun.stderr, /--perplexity needs a run directory: --run DIR/);
  });
});
