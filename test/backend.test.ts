import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_LOADERS, initBackend } from '../src/backend/index.ts';
import { runMt } from './helpers/cli.ts';

const missing = (pkg: string) => async () => {
  throw new Error(`${pkg} is not installed`);
};

describe('backend selection', () => {
  it('falls back from missing native backends to wasm', async () => {
    const info = await initBackend('auto', {
      ...DEFAULT_LOADERS,
      gpu: missing('@tensorflow/tfjs-node-gpu'),
      node: missing('@tensorflow/tfjs-node'),
    });
    assert.equal(info.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.simd, true);
    assert.deepEqual(info.skipped.map((s) => s.name), ['gpu', 'node']);
    assert.match(info.skipped[0]!.reason, /tfjs-node-gpu is not installed/);
  });

  it('refuses to switch backends once one is in use', async () => {
    await assert.rejects(initBackend('cpu'), /backend 'cpu' requested but 'wasm' is already in use/);
    assert.equal((await initBackend('wasm')).name, 'wasm');
  });

  it('trains through the overridden gradients on wasm (embedding gather + matmul)', () => {
    const table = tf.variable(tf.tensor2d([[1, 2], [3, 4], [5, 6]]));
    const ids = tf.tensor1d([2, 0, 2], 'int32');
    const w = tf.tensor2d([[1, 0, 0], [0, 1, 1]]);
    const f = (): tf.Scalar => tf.sum(tf.matMul(tf.gather(table, ids), w, false, false));
    const { grads } = tf.variableGrads(f, [table]);
    // d/dtable: rows gathered twice (id 2) get twice the row-sum of w's rows.
    assert.deepEqual(Array.from(grads[table.name]!.dataSync()), [1, 2, 0, 0, 2, 4]);
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6], [7, 8]]);
    const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y, true, true)))([a, b]);
    // sum(AᵀBᵀ) = sum(BA): dA[k][j] = column sum k of B, dB[i][k] = row sum k of A.
    assert.deepEqual(Array.from(ga!.dataSync()), [12, 12, 14, 14]);
    assert.deepEqual(Array.from(gb!.dataSync()), [3, 7, 3, 7]);
  });
});

describe('mt info and --backend', () => {
  it('prints the backend in use', () => {
    const r = runMt(['info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { name: string; threads: number; tfjsVersion: string };
    assert.ok(['wasm', 'gpu', 'node'].includes(info.name));
    assert.ok(info.threads >= 1);
    assert.equal(info.tfjsVersion, tf.version.tfjs);
  });

  it('fails with exit 2 and one line when the asked-for backend cannot load', () => {
    const r = runMt(['--backend', 'gpu', 'info']);
    if (r.code === 0) return; // a machine that really has tfjs-node-gpu installed
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mt: error: backend 'gpu' cannot be used: @tensorflow\/tfjs-node-gpu (is not installed|failed to load)/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('uses the pure-JS cpu backend when asked', () => {
    const r = runMt(['--backend', 'cpu', 'info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { name: string }).name, 'cpu');
  });
});
