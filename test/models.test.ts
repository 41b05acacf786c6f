import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { parse } from 'yaml';
import { initBackend } from '../src/backend/index.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { createModel } from '../src/models/index.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { VOCAB, disposeBatch, makeBatch, modelConfig } from './helpers/models.ts';

describe('models: common behaviour', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('builds each family from its config section', () => {
    for (const type of ['seq2seq', 'attention', 'transformer'] as const) {
      const model = createModel(modelConfig({ type }), 20, 30, 1);
      assert.equal(model.config.type, type);
      assert.equal(model.srcVocabSize, 20);
      assert.equal(model.tgtVocabSize, 30);
      assert.ok([...model.namedVariables.keys()].every((n) => !n.startsWith('model')), 'stable names carry no instance prefix');
      assert.ok(model.variables.every((v) => /^model\d+\//.test(v.name)));
      model.dispose();
    }
  });

  it('two live models with the same config do not clash, and dispose frees their weights', () => {
    const before = tf.memory().numTensors;
    const a = createModel(modelConfig({ type: 'transformer', d_model: 8, heads: 2, ff_size: 8 }), 10, 10, 1);
    const b = createModel(modelConfig({ type: 'transformer', d_model: 8, heads: 2, ff_size: 8 }), 10, 10, 1);
    assert.notEqual(a.variables[0]!.name, b.variables[0]!.name);
    a.dispose();
    b.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it('rngState replays the same dropout masks and teacher-forcing draws', async () => {
    for (const input of [
      { type: 'attention', emb_size: 8, hidden_size: 8, dropout: 0.5 },
      { type: 'transformer', d_model: 8, heads: 2, ff_size: 8, dropout: 0.5 },
    ]) {
      const model = createModel(modelConfig(input), 15, VOCAB, 1);
      const batch = makeBatch([[3, 4, 5], [6, 7]], [[5, 4, 3], [7, 6]]);
      const saved = model.rngState;
      const first = await model.forward(batch, true, 0.5).data();
      const second = await model.forward(batch, true, 0.5).data();
      assert.notDeepEqual(Array.from(second), Array.from(first), 'masks differ from call to call');
      assert.ok(model.rngState > saved);
      model.rngState = saved;
      const replay = await model.forward(batch, true, 0.5).data();
      assert.deepEqual(Array.from(replay), Array.from(first));
      disposeBatch(batch);
      model.dispose();
    }
  });

  it('rejects an odd hidden_size with a bidirectional encoder', () => {
    const r = ModelSchema.safeParse({ type: 'attention', hidden_size: 511, bidirectional: true });
    assert.ok(!r.success);
    assert.deepEqual(r.error.issues[0]!.path, ['hidden_size']);
    assert.match(r.error.issues[0]!.message, /even with a bidirectional encoder/);
    assert.ok(ModelSchema.safeParse({ type: 'attention', hidden_size: 511, bidirectional: false }).success);
  });

  it('parameter counts of the example configs match docs/models.md', () => {
    const docs = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'models.md'), 'utf8');
    for (const family of ['seq2seq', 'attention', 'transformer']) {
      const file = `configs/multi30k-${family}.yaml`;
      const config = ModelSchema.parse(parse(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')).model);
      const model = createModel(config, 8000, 8000, 1);
      const row = docs.split('\n').find((l) => l.startsWith(`| \`${file}\``));
      assert.ok(row, `docs/models.md has a row for ${file}`);
      assert.equal(row.split('|')[2]!.trim(), model.parameterCount().toLocaleString('en-US'), file);
      model.dispose();
    }
  });
});
