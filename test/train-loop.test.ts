/**
 * The training loop end to end on tiny real models and data: learning, validation,
 * checkpoints, metrics log, flat tensor count, divergence handling, missing inputs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { listCheckpoints, loadCheckpoint } from '../src/checkpoint/index.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { translateLines } from '../src/decode/translate.ts';
import { UserError } from '../src/errors.ts';
import { corpusBleu, corpusChrf } from '../src/metrics/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { loadSubwords } from '../src/subword/index.ts';
import { train } from '../src/train/trainer.ts';
import { tempDir } from './helpers/cli.ts';
import { quietLog, readMetrics, TINY_MODELS, tinyConfig, tinyRun, type MetricsRecord } from './train-fixture.ts';

before(async () => {
  await initBackend('wasm');
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('train', () => {
  it('lowers the loss, validates, checkpoints and logs, with a flat tensor count', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 40, valid_every: 20, keep_last: 1, learning_rate: 1e-2 }));
    const tensors: number[] = [];
    const summary = await train(run, { log: quietLog(), onStep: () => tensors.push(tf.memory().numTensors) });

    assert.equal(summary.stopped, 'max_steps');
    assert.equal(summary.step, 40);
    const losses = readMetrics(run).filter((r) => r.kind === 'train').map((r) => r.loss!);
    assert.equal(losses.length, 40);
    assert.ok(mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)), `loss ${mean(losses.slice(0, 5))} → ${mean(losses.slice(-5))}`);

    const valid = readMetrics(run).filter((r) => r.kind === 'valid');
    assert.deepEqual(valid.map((r) => r.step), [20, 40]);
    assert.ok(valid.every((r) => Number.isFinite(r.valid_loss) && typeof r.bleu === 'number'));
    for (const r of valid as (MetricsRecord & { chrf?: number })[]) {
      for (const [name, v] of [['bleu', r.bleu], ['chrf', r.chrf]] as const) {
        assert.ok(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100, `step ${r.step}: ${name} ${v}`);
      }
    }
    assert.ok(valid[1]!.valid_loss! < valid[0]!.valid_loss!);

    // Tensors live after each step: the same at every step (validation included).
    assert.deepEqual(new Set(tensors).size, 1, `tensor counts ${[...new Set(tensors)].join(', ')}`);

    // keep_last 1 keeps the newest plus the best (which may be the same).
    const kept = listCheckpoints(run).map((c) => c.step);
    assert.ok(kept.includes(40) && kept.length <= 2, `kept ${kept}`);
    const loaded = await loadCheckpoint(run, 'best');
    assert.equal(loaded.step, summary.best!.step);
    loaded.model.dispose();

    // The BLEU and chrF logged at step 40 are those of the step-40 model's greedy translations of
    // the validation source, rescored here with mt's metrics library against the validation target.
    const last = await loadCheckpoint(run, 'last');
    assert.equal(last.step, 40);
    const lines = (name: string) => fs.readFileSync(run.path('data', name), 'utf8').replace(/\n$/, '').split('\n');
    const greedy = { ...run.config.decode, beam_size: 1, nbest: 1 };
    const hyps = translateLines(last.model, await loadSubwords(run), lines('valid.src'), greedy).map((t) => t.text);
    last.model.dispose();
    const refs = [lines('valid.tgt')];
    assert.equal(hyps.length, refs[0]!.length);
    const { tokenize, lowercase } = run.config.eval;
    const logged = valid[1] as MetricsRecord & { chrf?: number };
    const bleu = corpusBleu(hyps, refs, { tokenize, lowercase }).score;
    const chrf = corpusChrf(hyps, refs).score;
    assert.ok(Math.abs(logged.bleu! - bleu) < 1e-4, `logged BLEU ${logged.bleu} vs rescored ${bleu}`);
    assert.ok(Math.abs(logged.chrf! - chrf) < 1e-4, `logged chrF ${logged.chrf} vs rescored ${chrf}`);
    assert.equal(run.readManifest().stages.train?.stopped, 'max_steps');

    // Run again: nothing left to do.
    const again = await train(run, { log: quietLog() });
    assert.equal(again.step, 40);
    assert.equal(again.resumedFrom, 40);
  });

  it('stops at a NaN/Inf loss before updating, keeping the last good checkpoint', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.seq2seq, { max_steps: 2, valid_every: 2 }));
    await train(run, { log: quietLog() });
    // Adam moves every weight by about the learning rate: 1e30 overflows the next forward pass.
    const diverging = ConfigSchema.parse(tinyConfig(TINY_MODELS.seq2seq, { max_steps: 8, valid_every: 2, learning_rate: 1e30, clip_norm: 0 }));
    await assert.rejects(train(RunDir.create(run.root, diverging, { force: true }), { log: quietLog() }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^step [34]: (validation loss|loss|gradient norm) is (NaN|Infinity|-Infinity); training stopped \(the last good checkpoint is .*step-000002\)/);
      return true;
    });
    assert.deepEqual(listCheckpoints(run).map((c) => c.step), [2]);
    const last = await loadCheckpoint(run, 'last');
    assert.equal(last.step, 2);
    last.model.dispose();
  });

  it('names the stage to run first when prepared data or subword models are missing', async () => {
    const config = ConfigSchema.parse(tinyConfig(TINY_MODELS.seq2seq));
    const bare = RunDir.create(tempDir('mt-train-'), config);
    await assert.rejects(train(bare, { log: quietLog() }), /data\/train\.src: missing; run `mt prepare`/);
    fs.mkdirSync(bare.path('data'));
    for (const f of ['train.src', 'train.tgt', 'valid.src', 'valid.tgt']) fs.writeFileSync(bare.path('data', f), 'ka lo\n');
    await assert.rejects(train(bare, { log: quietLog() }), /subword\/joint\.model: missing; run `mt vocab`/);
  });

  it('refuses to resume with a changed schedule type unless --reset-schedule', async () => {
    const config = tinyConfig(TINY_MODELS.seq2seq, { max_steps: 2, valid_every: 2 });
    const run = await tinyRun(config);
    await train(run, { log: quietLog() });
    const changed = ConfigSchema.parse(tinyConfig(TINY_MODELS.seq2seq, { max_steps: 3, valid_every: 2, schedule: { type: 'inverse_sqrt', warmup_steps: 2 } }));
    const again = RunDir.create(run.root, changed, { force: true });
    await assert.rejects(train(again, { log: quietLog() }), /schedule\.type changed from constant to inverse_sqrt since step-000002; pass --reset-schedule/);
    const warnings: string[] = [];
    const log = quietLog();
    log.warn = (m: string) => warnings.push(m);
    const summary = await train(again, { log, resetSchedule: true });
    assert.equal(summary.step, 3);
    assert.match(warnings.join('\n'), /train settings changed since step-000002: train\.max_steps, train\.schedule/);
  });
});
