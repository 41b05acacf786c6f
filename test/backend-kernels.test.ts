import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/backend/index.ts';
import { makeRandom } from './helpers/models.ts';

// The stock tfjs-wasm kernels, captured before initBackend replaces them (src/backend/wasm-kernels.ts).
const REPLACED = ['Slice', 'SplitV', 'Unpack', 'Concat', 'Identity', 'Cast', 'Transpose', 'Sum', 'GatherV2', 'BatchMatMul', 'TopK', 'Max'] as const;
const stock = new Map(REPLACED.map((name) => [name, tf.getKernel(name, 'wasm')!]));

/** Run the stock kernel on tensors and wrap its outputs as tensors. */
function runStock(name: (typeof REPLACED)[number], inputs: tf.NamedTensorInfoMap, attrs: object): tf.Tensor[] {
  const out = stock.get(name)!.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: tf.backend() });
  return (Array.isArray(out) ? out : [out]).map((info) => tf.engine().makeTensorFromTensorInfo(info));
}

const DTYPES = ['float32', 'int32', 'bool'] as const;

function randomTensor(shape: number[], dtype: (typeof DTYPES)[number], rand: (n: number) => number): tf.Tensor {
  const n = tf.util.sizeFromShape(shape);
  const values = Array.from({ length: n }, () => (dtype === 'float32' ? rand(2001) / 7 - 140 : dtype === 'int32' ? rand(100000) - 50000 : rand(2)));
  return tf.tensor(values, shape, dtype);
}

/** Ranks 1–5; mostly small dims, sometimes a long last axis (the subarray copy path). */
function randomShape(rand: (n: number) => number): number[] {
  const rank = 1 + rand(5);
  return Array.from({ length: rank }, (_, i) => (i === rank - 1 && rand(3) === 0 ? 60 + rand(80) : 1 + rand(5)));
}

function assertSame(mine: tf.Tensor[], theirs: tf.Tensor[], what: string): void {
  assert.equal(mine.length, theirs.length, what);
  mine.forEach((m, i) => {
    const t = theirs[i]!;
    assert.deepEqual(m.shape, t.shape, `${what}: output ${i} shape`);
    assert.equal(m.dtype, t.dtype, `${what}: output ${i} dtype`);
    assert.deepEqual(m.dataSync(), t.dataSync(), `${what}: output ${i} values`);
  });
}

describe('wasm kernels (src/backend/wasm-kernels.ts) match the stock tfjs-wasm kernels', () => {
  before(async () => {
    await initBackend('wasm');
    for (const name of REPLACED) assert.notEqual(tf.getKernel(name, 'wasm')!.kernelFunc, stock.get(name)!.kernelFunc, `${name} is replaced`);
  });

  it('Slice: random boxes (contiguous or not) of random shapes and dtypes', () => {
    const rand = makeRandom(11);
    for (let trial = 0; trial < 300; trial++) {
      const shape = randomShape(rand);
      const dtype = DTYPES[trial % 3]!;
      tf.tidy(() => {
        const x = randomTensor(shape, dtype, rand);
        const begin = shape.map((d) => rand(d));
        // -1 (to the end) sometimes, else 0 … the rest of the axis
        const size = shape.map((d, i) => (rand(4) === 0 ? -1 : rand(d - begin[i]! + 1)));
        assertSame([tf.slice(x, begin, size)], runStock('Slice', { x }, { begin, size }), `slice [${shape}] ${dtype} at [${begin}] size [${size}]`);
      });
    }
  });

  it('SplitV and Unpack along every axis', () => {
    const rand = makeRandom(12);
    for (let trial = 0; trial < 150; trial++) {
      const shape = randomShape(rand);
      const dtype = DTYPES[trial % 3]!;
      const axis = rand(shape.length);
      tf.tidy(() => {
        const x = randomTensor(shape, dtype, rand);
        const parts: number[] = [];
        for (let left = shape[axis]!; left > 0; ) {
          const s = Math.min(left, 1 + rand(3));
          parts.push(s);
          left -= s;
        }
        if (rand(3) === 0) parts.splice(rand(parts.length + 1), 0, 0); // an empty part
        const what = `[${shape}] ${dtype} axis ${axis}`;
        assertSame(tf.split(x, parts, axis), runStock('SplitV', { x }, { numOrSizeSplits: parts, axis }), `split ${what} into [${parts}]`);
        assertSame(tf.unstack(x, axis), runStock('Unpack', { value: x }, { axis }), `unstack ${what}`);
      });
    }
  });

  it('Concat of 1–4 inputs (some empty) along every axis', () => {
    const rand = makeRandom(13);
    for (let trial = 0; trial < 150; trial++) {
      const shape = randomShape(rand);
      const dtype = DTYPES[trial % 3]!;
      const axis = rand(shape.length);
      tf.tidy(() => {
        const xs = Array.from({ length: 1 + rand(4) }, () => {
          const s = [...shape];
          s[axis] = rand(4) === 0 ? 0 : 1 + rand(4);
          return randomTensor(s, dtype, rand);
        });
        const what = `concat of [${xs.map((x) => `[${x.shape}]`)}] ${dtype} axis ${axis}`;
        assertSame([tf.concat(xs, axis)], runStock('Concat', xs as unknown as tf.NamedTensorInfoMap, { axis }), what);
      });
    }
  });

  it('Sum over leading (and other) axes, bit for bit', () => {
    const rand = makeRandom(17);
    for (let trial = 0; trial < 120; trial++) {
      const shape = randomShape(rand);
      if (trial % 10 === 0) shape[rand(shape.length)] = 0;
      const k = rand(shape.length + 1);
      // mostly the leading k axes, sometimes any subset
      const axis = rand(4) === 0 ? shape.map((_, i) => i).filter(() => rand(2) === 0) : shape.map((_, i) => i).slice(0, k);
      const keepDims = rand(2) === 0;
      const dtype = trial % 5 === 0 ? 'int32' : 'float32';
      tf.tidy(() => {
        const x = randomTensor(shape, dtype, rand);
        const what = `sum [${shape}] ${dtype} over [${axis}] keepDims ${keepDims}`;
        const mine = tf.sum(x, axis, keepDims);
        if (x.size > 0) assertSame([mine], runStock('Sum', { x }, { axis, keepDims }), what);
        // The stock kernel leaves the sum over nothing uninitialised.
        else assert.ok(mine.dataSync().every((v) => v === 0), `${what}: zeros`);
      });
    }
  });

  it('GatherV2 along every axis, with repeated indices of any shape; out-of-range indices throw', () => {
    const rand = makeRandom(18);
    for (let trial = 0; trial < 150; trial++) {
      const shape = randomShape(rand);
      const dtype = DTYPES[trial % 3]!;
      const axis = rand(shape.length);
      tf.tidy(() => {
        const x = randomTensor(shape, dtype, rand);
        const idShape = Array.from({ length: rand(3) }, () => rand(4));
        const indices = tf.tensor(Array.from({ length: tf.util.sizeFromShape(idShape) }, () => rand(shape[axis]!)), idShape, 'int32');
        const what = `gather [${shape}] ${dtype} axis ${axis} by [${idShape}]`;
        assertSame([tf.gather(x, indices, axis)], runStock('GatherV2', { x, indices }, { axis, batchDims: 0 }), what);
      });
    }
    tf.tidy(() => {
      assert.throws(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([1, 3], 'int32')), /GatherV2: the index value 3 is not in \[0, 2\]/);
      assert.throws(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([-1], 'int32')), /index value -1/);
    });
  });

  it('Transpose by every permutation of random shapes (some with size-1 axes)', () => {
    const rand = makeRandom(15);
    const permutations = (n: number): number[][] =>
      n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    for (let trial = 0; trial < 40; trial++) {
      const shape = Array.from({ length: 1 + rand(4) }, () => (rand(3) === 0 ? 1 : 1 + rand(5)));
      const dtype = DTYPES[trial % 3]!;
      tf.tidy(() => {
        const x = randomTensor(shape, dtype, rand);
        for (const perm of permutations(shape.length)) {
          assertSame([tf.transpose(x, perm)], runStock('Transpose', { x }, { perm }), `transpose [${shape}] ${dtype} by [${perm}]`);
        }
      });
    }
  });

  it('Identity, same-dtype Cast and identity Transpose share the buffer and outlive their input', () => {
    for (const dtype of DTYPES) {
      const x = randomTensor([2, 1, 3], dtype, makeRandom(16));
      const values = x.dataSync().slice();
      const copies = [tf.clone(x), tf.cast(x, dtype), tf.transpose(x, [0, 1, 2]), tf.transpose(x, [1, 0, 2])];
      assertSame(copies.slice(0, 2), runStock('Identity', { x }, {}).concat(runStock('Cast', { x }, { dtype })), `${dtype} clone/cast`);
      x.dispose();
      assert.deepEqual(copies.map((c) => c.shape), [[2, 1, 3], [2, 1, 3], [2, 1, 3], [1, 2, 3]]);
      for (const c of copies) assert.deepEqual(c.dataSync(), values, `${dtype} after the input is gone`);
      tf.dispose(copies);
    }
  });

  it('Cast converts between dtypes; to bool it means ≠ 0 (the stock kernel wraps modulo 256)', () => {
    tf.tidy(() => {
      const f = tf.tensor1d([1.7, -2.2, 0, 256, 0.25]);
      const i = tf.tensor1d([3, -1, 0, 256, 512], 'int32');
      const b = tf.tensor1d([1, 0, 1], 'bool');
      assert.deepEqual(Array.from(tf.cast(f, 'int32').dataSync()), [1, -2, 0, 256, 0]);
      assert.deepEqual(Array.from(tf.cast(f, 'bool').dataSync()), [1, 1, 0, 1, 1]);
      assert.deepEqual(Array.from(tf.cast(i, 'bool').dataSync()), [1, 1, 0, 1, 1]);
      assert.deepEqual(Array.from(tf.cast(i, 'float32').dataSync()), [3, -1, 0, 256, 512]);
      assert.deepEqual(Array.from(tf.cast(b, 'float32').dataSync()), [1, 0, 1]);
      assert.deepEqual(Array.from(tf.cast(b, 'int32').dataSync()), [1, 0, 1]);
      assert.deepEqual(runStock('Cast', { x: f }, { dtype: 'int32' })[0]!.dataSync(), tf.cast(f, 'int32').dataSync());
    });
  });

  it('a weight matmul-ed as [n, 1] and then transposed to [1, n] uses the right packing', () => {
    // XNNPACK caches packed weights per buffer; a shared buffer with a new shape would reuse them.
    tf.tidy(() => {
      const v = tf.tensor2d([[1], [2], [3]]);
      const x = tf.tensor2d([[1, 1, 1], [0, 1, 0]]);
      assert.deepEqual(Array.from(tf.matMul(x, v).dataSync()), [6, 2]);
      const dy = tf.tensor2d([[1], [10]]);
      assert.deepEqual(Array.from(tf.matMul(dy, tf.transpose(v)).dataSync()), [1, 2, 3, 10, 20, 30]);
    });
  });

  it('TopK: rows with many ties and -Infinity, every k; same values and indices as the stock kernel', () => {
    const rand = makeRandom(17);
    for (let trial = 0; trial < 200; trial++) {
      const width = 1 + rand(trial % 4 === 0 ? 300 : 40);
      const rows = 1 + rand(6);
      const distinct = 1 + rand(12); // few distinct values: many ties
      const values = Array.from({ length: rows * width }, () => (rand(10) === 0 ? -Infinity : rand(distinct) - distinct / 2));
      const k = 1 + rand(Math.min(width, 70));
      tf.tidy(() => {
        const x = tf.tensor2d(values, [rows, width]);
        const { values: v, indices: i } = tf.topk(x, k);
        assertSame([v, i], runStock('TopK', { x }, { k, sorted: true }), `topk k=${k} of [${rows}, ${width}]`);
      });
    }
    tf.tidy(() => {
      const x = tf.tensor3d([3, NaN, 5, 1, 2, 2, 7, 0], [2, 1, 4]);
      const { values: v, indices: i } = tf.topk(x, 2);
      assertSame([v, i], runStock('TopK', { x }, { k: 2, sorted: true }), 'topk of rows with NaN');
      assert.deepEqual(Array.from(i.dataSync()).slice(2), [2, 0], 'a row without NaN: 7 at 2, then 2 at 0 (lower index first)');
    });
  });

  it('Max over the last axis and TopK with k = 1 (the SIMD pass): ties, ±0, ±Infinity, NaN; bit for bit the stock kernels', () => {
    const rand = makeRandom(18);
    const kinds = [0, -0, Infinity, -Infinity, NaN];
    // Widths around the pass's 16-element step (below 16 is the fallback), and a vocabulary.
    const widths = [1, 3, 15, 16, 17, 31, 32, 33, 47, 64, 100, 8000];
    for (let trial = 0; trial < 240; trial++) {
      const width = widths[trial % widths.length]!;
      const rows = 1 + rand(5);
      const distinct = 1 + rand(6); // few distinct values: many ties, across lanes too
      const special = trial % 3 === 0 ? kinds[rand(trial % 2 === 0 ? 4 : 5)]! : undefined; // NaN in every sixth trial
      const values = Array.from({ length: rows * width }, () => (special !== undefined && rand(8) === 0 ? special : rand(distinct) - distinct + 1));
      if (trial % 4 === 1) values.fill(0).forEach((_, i) => (values[i] = rand(2) === 0 ? -0 : 0)); // all zeros, both signs
      tf.tidy(() => {
        const x = tf.tensor2d(values, [rows, width]);
        const what = `[${rows}, ${width}] with ${String(special)}`;
        assertSame([tf.max(x, 1)], runStock('Max', { x }, { reductionIndices: [1], keepDims: false }), `max ${what}`);
        assertSame([tf.max(x, -1, true)], runStock('Max', { x }, { reductionIndices: [-1], keepDims: true }), `max keepDims ${what}`);
        const { values: v, indices: i } = tf.topk(x, 1);
        assertSame([v, i], runStock('TopK', { x }, { k: 1, sorted: true }), `topk 1 ${what}`);
      });
    }
    tf.tidy(() => {
      // The first maximum wins, whichever lane it falls in: 5 at 3 (lane 3) and at 16 (lane 0).
      const row = Array.from({ length: 40 }, (_, j) => (j === 3 || j === 16 ? 5 : j === 39 ? 5 : 1));
      assert.deepEqual(Array.from(tf.topk(tf.tensor2d(row, [1, 40]), 1).indices.dataSync()), [3]);
      // Other axes still reduce (the stock kernel).
      const x = tf.tensor3d([1, 9, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
      assert.deepEqual(Array.from(tf.max(x, 1).dataSync()), [3, 9, 7, 8]);
      assert.deepEqual(Array.from(tf.max(x, [1, 2]).dataSync()), [9, 8]);
    });
  });

  it('BatchMatMul by a right-hand side met again (packed once, kept): bit for bit at every use; a freed one is never reused', () => {
    const rand = makeRandom(19);
    for (const [M, K, N] of [[4, 300, 77], [32, 512, 1000], [3, 8, 16], [130, 260, 24]] as const) {
      const b = randomTensor([K, N], 'float32', rand);
      const reference = tf.tidy(() => runStock('BatchMatMul', { a: tf.ones([M, K]), b }, { transposeA: false, transposeB: false })[0]!);
      // First use: packed per block as usual; second: packed whole; third and later: the kept copy.
      for (let use = 0; use < 4; use++) {
        tf.tidy(() => {
          const a = randomTensor([M, K], 'float32', rand);
          assertSame([tf.matMul(a, b)], runStock('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }), `[${M}, ${K}] · [${K}, ${N}], use ${use + 1}`);
          assertSame([tf.matMul(tf.ones([M, K]), b)], [reference], `ones · b, use ${use + 1}`);
        });
      }
      // A new tensor of the same shape, likely in the freed one's heap block: its own values count.
      b.dispose();
      const b2 = randomTensor([K, N], 'float32', rand);
      for (let use = 0; use < 3; use++) {
        tf.tidy(() => {
          const a = randomTensor([M, K], 'float32', rand);
          assertSame([tf.matMul(a, b2)], runStock('BatchMatMul', { a, b: b2 }, { transposeA: false, transposeB: false }), `after disposal, use ${use + 1}`);
        });
      }
      tf.dispose([b2, reference]);
    }
  });

  it('BatchMatMul with a batch of one: bit for bit the stock kernel (XNNPACK), edges and K blocks included', () => {
    const rand = makeRandom(15);
    // Rows around the 4-row tile and the 128-row block, columns around the 8- and 4-wide tiles,
    // shared sizes across the 256 block; N = 1024 is the packed-panel case.
    const Ms = [1, 3, 4, 5, 32, 130];
    const Ks = [1, 7, 256, 257, 600];
    const Ns = [1, 3, 4, 8, 13, 1024];
    for (const M of Ms) for (const K of Ks) for (const N of Ns) {
      if (M * K * N > 2e6 && !(M === 32 && N === 1024)) continue;
      tf.tidy(() => {
        const a = randomTensor([M, K], 'float32', rand);
        const b = randomTensor([K, N], 'float32', rand);
        assertSame([tf.matMul(a, b)], runStock('BatchMatMul', { a, b }, { transposeA: false, transposeB: false }), `[${M}, ${K}] · [${K}, ${N}]`);
      });
    }
  });

  it('BatchMatMul over batches (one side broadcast or not) equals float64 sums; transposed inputs still work', () => {
    const rand = makeRandom(16);
    const cases: [number[], number[]][] = [
      [[3, 5, 9], [3, 9, 10]],
      [[2, 4, 1, 64], [2, 4, 64, 15]],
      [[2, 4, 1, 15], [2, 4, 15, 64]],
      [[1, 6, 7], [4, 7, 16]],
      [[4, 6, 7], [7, 16]],
    ];
    for (const [sa, sb] of cases) {
      tf.tidy(() => {
        const a = randomTensor(sa, 'float32', rand);
        const b = randomTensor(sb, 'float32', rand);
        const got = tf.matMul(a, b);
        const [M, K] = sa.slice(-2) as [number, number];
        const N = sb.at(-1)!;
        const batch = got.size / (M * N);
        const av = a.dataSync(), bv = b.dataSync(), cv = got.dataSync();
        const aBatch = a.size / (M * K), bBatch = b.size / (K * N);
        for (let t = 0; t < batch; t++) {
          const ta = aBatch === 1 ? 0 : t;
          const tb = bBatch === 1 ? 0 : t;
          for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
            let sum = 0;
            for (let k = 0; k < K; k++) sum += av[ta * M * K + i * K + k]! * bv[tb * K * N + k * N + j]!;
            assert.ok(Math.abs(cv[t * M * N + i * N + j]! - sum) <= 1e-5 * Math.max(1, Math.abs(sum)) * K, `[${sa}] · [${sb}] at ${t},${i},${j}: ${cv[t * M * N + i * N + j]} vs ${sum}`);
          }
        }
      });
    }
    tf.tidy(() => {
      const a = randomTensor([6, 5], 'float32', rand);
      const b = randomTensor([7, 5], 'float32', rand);
      assertSame([tf.matMul(a, b, false, true)], [tf.matMul(a, tf.transpose(b))], 'transposeB');
      assertSame([tf.matMul(tf.transpose(a), b, true, true)], [tf.matMul(a, tf.transpose(b))], 'transposeA and B');
    });
  });

  it('reads inputs correctly when the output allocation grows the wasm memory', () => {
    const backend = tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } };
    const heapBefore = backend.wasm.HEAPU8.buffer.byteLength;
    // Two inputs whose concatenation is larger than the whole heap now.
    const n = Math.ceil(heapBefore / 8) + 1024;
    const a = tf.range(0, n, 1, 'float32');
    const b = tf.add(a, n);
    const joined = tf.concat([a, b]);
    assert.ok(backend.wasm.HEAPU8.buffer.byteLength > heapBefore, 'the heap grew');
    const picked = tf.slice(joined, [n - 2], [4]);
    assert.deepEqual(Array.from(picked.dataSync()), [n - 2, n - 1, n, n + 1]);
    tf.dispose([a, b, joined, picked]);
  });

  it('gradients through split, unstack and concat equal those of slicing by hand', () => {
    const rand = makeRandom(14);
    const x = randomTensor([3, 5, 70], 'float32', rand);
    const w = randomTensor([3, 5, 70], 'float32', rand);
    const viaKernels = tf.grad((v: tf.Tensor) => {
      const [p, q] = tf.split(v, [2, 3], 1);
      const rows = tf.unstack(q!, 1);
      return tf.sum(tf.mul(tf.concat([p!, tf.stack(rows, 1)], 1), w));
    })(x);
    // d/dx sum(x ⊙ w) = w: split/unstack/stack/concat only move elements.
    assert.deepEqual(viaKernels.dataSync(), w.dataSync());
    tf.dispose([x, w, viaKernels]);
  });

  it('leaves no tensors or wasm buffers behind', () => {
    const x = tf.ones([4, 6, 8]);
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    tf.tidy(() => {
      tf.split(x, [2, 4], 1);
      tf.unstack(x, 2);
      tf.concat([x, x], 2);
      tf.slice(x, [1, 2, 3], [2, 2, 2]);
      tf.transpose(tf.clone(tf.cast(x, 'float32')), [0, 2, 1]);
      tf.matMul(x, tf.ones([4, 8, 3]));
      tf.max(x, 2);
      tf.topk(x, 1);
    });
    assert.equal(tf.memory().numTensors, tensors);
    assert.equal(tf.backend().numDataIds(), buffers);
    x.dispose();
  });
});
