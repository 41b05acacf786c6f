/**
 * Checkpoints on disk: the safetensors format, checksums, best/last pointers, pruning, and
 * loading back into a freshly built model (a real tiny seq2seq model, no mocks).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { listCheckpoints, loadCheckpoint, saveCheckpoint } from '../src/checkpoint/index.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/checkpoint/safetensors.ts';
import { ConfigSchema, type Config } from '../src/config/schema.ts';
import { UserError } from '../src/errors.ts';
import { createModel } from '../src/models/index.ts';
import type { NmtModel } from '../src/models/types.ts';
import { RunDir } from '../src/run/rundir.ts';
import { Adam } from '../src/train/optimizer.ts';
import { LrSchedule } from '../src/train/schedule.ts';
import type { TrainingState } from '../src/checkpoint/training-state.ts';
import { tempDir } from './helpers/cli.ts';

before(async () => {
  await initBackend('wasm');
});

function tinyRun(): RunDir {
  const config: Config = ConfigSchema.parse({
    data: { src_lang: 'de', tgt_lang: 'en', train: [{ src: 'a', tgt: 'b' }] },
    model: { type: 'seq2seq', emb_size: 8, hidden_size: 8, bidirectional: false },
    train: { keep_last: 2 },
  });
  const run = RunDir.create(path.join(tempDir('mt-ckpt-'), 'run'), config);
  fs.mkdirSync(run.path('subword'), { recursive: true });
  fs.writeFileSync(run.path('subword', 'joint.model'), 'stand-in bytes: only hashed and copied here');
  return run;
}

function trainingState(run: RunDir, step: number): TrainingState {
  const cfg = run.config.train;
  return {
    step,
    epoch: 1,
    data: { epoch: 1, batch: step, rng: [1, 2, 3, 4] },
    model_rng: step * 10,
    schedule: new LrSchedule(cfg.schedule, cfg.learning_rate, 8).state(),
    optimizer: { type: 'adam', updates: step },
    best: null,
    bad_validations: 0,
    tokens: 100 * step,
    elapsed_s: step,
    cpu_s: 2 * step,
    train_config: cfg,
  };
}

/** Save a checkpoint at `step` after nudging the weights, so every checkpoint differs. */
function save(run: RunDir, model: NmtModel, adam: Adam, step: number, isBest: boolean): string {
  for (const v of model.variables) tf.tidy(() => v.assign(tf.add(v, 0.01)));
  return saveCheckpoint(run, {
    model,
    optimizer: adam.stateTensors(),
    training: trainingState(run, step),
    validation: { step, loss: 3 - step / 10, ppl: Math.exp(3 - step / 10), bleu: step, chrf: step },
    subwordFiles: [run.path('subword', 'joint.model')],
    isBest,
    keepLast: run.config.train.keep_last,
  });
}

function weightsOf(model: NmtModel): Record<string, number[]> {
  return Object.fromEntries([...model.namedVariables].map(([n, v]) => [n, Array.from(v.dataSync())]));
}

describe('safetensors', () => {
  it('round-trips tensors and metadata, with an 8-byte aligned header', () => {
    const bytes = encodeSafetensors(
      {
        'b/w': { dtype: 'F32', shape: [2, 2], data: new Float32Array([1.5, -2, 3, 4]) },
        a: { dtype: 'I32', shape: [3], data: new Int32Array([7, 8, -9]) },
      },
      { step: '5' },
    );
    const headerLength = Number(Buffer.from(bytes).readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const header = JSON.parse(Buffer.from(bytes).subarray(8, 8 + headerLength).toString()) as Record<string, { data_offsets: number[] }>;
    assert.deepEqual(header.a!.data_offsets, [0, 12]);
    const { tensors, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { step: '5' });
    assert.deepEqual(Array.from(tensors['b/w']!.data), [1.5, -2, 3, 4]);
    assert.deepEqual(tensors['b/w']!.shape, [2, 2]);
    assert.deepEqual(Array.from(tensors.a!.data), [7, 8, -9]);
    assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4)), /do not fit/);
  });
});

describe('checkpoints', () => {
  it('save and load back the same weights; best and last pointers; old ones pruned', async () => {
    const run = tinyRun();
    const model = createModel(run.config.model, 30, 30, 1);
    const adam = new Adam(model.namedVariables, { decoupled: false, beta1: 0.9, beta2: 0.98, weightDecay: 0 });
    save(run, model, adam, 100, true);
    const bestWeights = weightsOf(model);
    save(run, model, adam, 200, false);
    save(run, model, adam, 300, false);
    const dir = save(run, model, adam, 400, false);
    const lastWeights = weightsOf(model);

    // keep_last 2, plus the best.
    assert.deepEqual(listCheckpoints(run).map((c) => c.step), [100, 300, 400]);
    for (const f of ['model.safetensors', 'optimizer.safetensors', 'state.json', 'manifest.json', 'subword/joint.model']) {
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    }
    const stored = decodeSafetensors(fs.readFileSync(path.join(dir, 'model.safetensors'))).tensors;
    assert.deepEqual(Object.keys(stored).sort(), [...model.namedVariables.keys()].sort());
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8')) as { step: number; training: TrainingState };
    assert.equal(state.step, 400);
    assert.equal(state.training.model_rng, 4000);
    assert.equal(JSON.parse(fs.readFileSync(run.path('checkpoints', 'last.json'), 'utf8')).checkpoint, 'step-000400');
    assert.equal(JSON.parse(fs.readFileSync(run.path('checkpoints', 'best.json'), 'utf8')).checkpoint, 'step-000100');

    const last = await loadCheckpoint(run, 'last');
    assert.equal(last.step, 400);
    assert.deepEqual(weightsOf(last.model), lastWeights);
    const best = await loadCheckpoint(run, 'best');
    assert.equal(best.step, 100);
    assert.deepEqual(weightsOf(best.model), bestWeights);
    const byName = await loadCheckpoint(run, 'step-000300');
    assert.equal(byName.step, 300);
    for (const m of [last.model, best.model, byName.model]) m.dispose();
    adam.dispose();
    model.dispose();
  });

  it('a corrupted file is named at load; `last` falls back to the newest intact checkpoint with a warning', async () => {
    const run = tinyRun();
    const model = createModel(run.config.model, 30, 30, 1);
    const adam = new Adam(model.namedVariables, { decoupled: false, beta1: 0.9, beta2: 0.98, weightDecay: 0 });
    save(run, model, adam, 1, true);
    const newest = save(run, model, adam, 2, false);
    const file = path.join(newest, 'model.safetensors');
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 3]! ^= 0x40; // one flipped bit in the last weight
    fs.writeFileSync(file, bytes);

    await assert.rejects(loadCheckpoint(run, newest), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /step-000002\/model\.safetensors: corrupted \(sha256/);
      return true;
    });
    const warnings: string[] = [];
    const loaded = await loadCheckpoint(run, 'last', { warn: (m) => warnings.push(m) });
    assert.equal(loaded.step, 1);
    assert.match(warnings.join('\n'), /step-000002\/model\.safetensors: corrupted.*skipping step-000002/);
    assert.match(warnings.join('\n'), /using step-000001/);

    // Truncation is caught by the size check.
    bytes[bytes.length - 3]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    fs.truncateSync(path.join(newest, 'optimizer.safetensors'), 10);
    await assert.rejects(loadCheckpoint(run, 'step-000002'), /optimizer\.safetensors: corrupted \(10 bytes, expected \d+\)/);
    fs.rmSync(path.join(newest, 'manifest.json'));
    await assert.rejects(loadCheckpoint(run, 'step-000002'), /manifest\.json: checkpoint manifest is missing/);

    // Subword models other than the ones the weights were trained with are refused.
    fs.writeFileSync(run.path('subword', 'joint.model'), 'another model');
    await assert.rejects(loadCheckpoint(run, 'best'), /joint\.model: differs from the subword model/);
    loaded.model.dispose();
    adam.dispose();
    model.dispose();
  });

  it('names what is missing when there is nothing to load', async () => {
    const run = tinyRun();
    await assert.rejects(loadCheckpoint(run, 'last'), /no checkpoints yet \(run mt train first\)/);
    await assert.rejects(loadCheckpoint(run, 'best'), /no best checkpoint yet/);
    await assert.rejects(loadCheckpoint(run, 'step-000123'), /step-000123: no such checkpoint/);
  });
});
