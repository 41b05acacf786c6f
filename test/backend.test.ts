import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_LOADERS, initBackend, type BackendInfo } from '../src/backend/index.ts';
import { REPO_ROOT, runMt } from './helpers/cli.ts';

const missing = (pkg: string) => async () => {
  throw new Error(`${pkg} is not installed`);
};

/** Whether `pkg` resolves from src/backend, where mt imports it (an optional dependency). */
function installed(pkg: string): boolean {
  try {
    createRequire(path.join(REPO_ROOT, 'src', 'backend', 'index.ts')).resolve(`${pkg}/package.json`);
    return true;
  } catch {
    return false;
  }
}

describe('backend selection', () => {
  // The backend is chosen once per process, so it is chosen here, before any test, not by
  // whichever test happens to run first: each test below holds whatever order they run in.
  let fallback: BackendInfo;
  before(async () => {
    fallback = await initBackend('auto', {
      ...DEFAULT_LOADERS,
      gpu: missing('@tensorflow/tfjs-node-gpu'),
      node: missing('@tensorflow/tfjs-node'),
    });
  });

  it('falls back from missing native backends to wasm', async () => {
    const info = fallback;
    assert.equal(info.requested, 'auto');
    assert.equal(info.name, 'wasm');
    assert.equal(info.tfjsBackend, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(info.simd, true);
    assert.deepEqual(info.skipped.map((s) => s.name), ['gpu', 'node']);
    assert.match(info.skipped[0]!.reason, /tfjs-node-gpu is not installed/);
    assert.match(info.skipped[1]!.reason, /tfjs-node is not installed/);
    // Asking again (auto or the same name) returns the backend already chosen, without reloading.
    assert.equal(await initBackend('auto'), info);
    assert.equal(await initBackend('wasm'), info);
  });

  it('refuses to switch backends once one is in use', async () => {
    assert.equal(tf.getBackend(), 'wasm');
    await assert.rejects(initBackend('cpu'), /backend 'cpu' requested but 'wasm' is already in use/);
    await assert.rejects(initBackend('node'), /backend 'node' requested but 'wasm' is already in use/);
    // Refusing left the backend as it was.
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal((await initBackend('wasm')).name, 'wasm');
  });

  it('trains through the overridden gradients on wasm (embedding gather + matmul)', () => {
    assert.equal(tf.getBackend(), 'wasm');
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
    const r = runMt(['--backend', 'gpu', 'info', '--json']);
    if (!installed('@tensorflow/tfjs-node-gpu')) {
      // Not installed: it must fail, and say so.
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /^mt: error: backend 'gpu' cannot be used: @tensorflow\/tfjs-node-gpu is not installed/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.equal(r.stdout, '');
    } else if (r.code === 0) {
      // A machine that really has tfjs-node-gpu: the backend in use must be the one asked for.
      const info = JSON.parse(r.stdout) as { name: string; requested: string; tfjsBackend: string; skipped: unknown[]; cudaDevices: string[] };
      assert.equal(info.name, 'gpu');
      assert.equal(info.requested, 'gpu');
      assert.equal(info.tfjsBackend, 'tensorflow');
      assert.deepEqual(info.skipped, []);
      assert.ok(info.cudaDevices.length > 0);
    } else {
      // Installed but unusable (no CUDA libraries): the same one-line failure.
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^mt: error: backend 'gpu' cannot be used: @tensorflow\/tfjs-node-gpu (is not installed|failed to load)/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('uses the pure-JS cpu backend when asked', () => {
    const r = runMt(['--backend', 'cpu', 'info', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { name: string }).name, 'cpu');
  });
});
