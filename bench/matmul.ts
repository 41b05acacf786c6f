/**
 * mt's wasm matmul kernel (src/backend/wasm-gemm.ts) against tfjs-wasm's stock BatchMatMul
 * (XNNPACK), on the shapes mt's models multiply, one thread, both sides in the same process:
 *
 *   node --import tsx bench/matmul.ts [--shapes 32x512x8000,128x20x64x20,...] [--trials 5] [--min-seconds 1] [--json FILE]
 *
 * A shape is MxKxN, or BxMxKxN for a batched matmul [B, M, K] · [B, K, N].
 *
 * Each trial runs one side, then the other (stock, mt, stock, mt, …), each for ≥ --min-seconds of
 * calls on the same operands; per shape it prints GFLOP/s per side (median, min–max), the ratio
 * of medians, the range of per-trial ratios, and the largest difference between the two outputs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../src/backend/index.ts';
import { TRIAL_OPTIONS, compare, formatComparison, formatSummary, interleave, loadAverage, loadLines, machine, secondsFlag, summarize, wholeNumber } from './trials.ts';

// Decoding (batch 32, beam 5 × 32) and training (2,048 target tokens) shapes of the Multi30k
// configs: output projection, its two gradients, the Transformer's feed-forward and attention
// projections, a GRU's gates; N = 1024 and 256 are the power-of-two strides; then the batched
// attention matmuls of a Transformer training step (batch 64 × 4 heads, 20 positions, d_k 64).
const DEFAULT_SHAPES = '32x256x256,32x256x1024,32x1024x256,32x512x8000,160x256x8000,2048x256x768,2048x512x8000,2048x8000x512,512x2048x8000,256x20x64x20,256x20x20x64';

const { values: args } = parseArgs({
  options: {
    shapes: { type: 'string', default: DEFAULT_SHAPES },
    trials: TRIAL_OPTIONS.trials,
    // Single calls take microseconds to milliseconds: a second of them is stable, where the other
    // benches' 20 s (TRIAL_OPTIONS) would make 11 shapes × 10 trials take 37 minutes.
    'min-seconds': { type: 'string', default: '1' },
    json: TRIAL_OPTIONS.json,
  },
});
const trials = wholeNumber('--trials', args.trials, 1);
const minSeconds = secondsFlag('--min-seconds', args['min-seconds']);
const shapes = args.shapes.split(',').map((s) => {
  const dims = s.split('x').map(Number);
  if (dims.length < 3 || dims.length > 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`--shapes: expected MxKxN or BxMxKxN, got ${s}`);
  return (dims.length === 3 ? [1, ...dims] : dims) as [number, number, number, number];
});

// The stock kernel, captured before initBackend replaces it.
const stock = tf.getKernel('BatchMatMul', 'wasm')!;
await initBackend('wasm');
const before = loadAverage();
console.log(`matmul: tfjs-wasm's stock BatchMatMul (XNNPACK) against mt's (src/backend/wasm-gemm.ts), 1 thread, node ${process.version}, ${os.cpus()[0]?.model ?? ''}`);
console.log(`${trials} interleaved trial(s) a side, each ≥ ${minSeconds} s of calls; GFLOP/s median (min–max)\n`);

function stockMatMul(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const out = stock.kernelFunc({ inputs: { a, b }, attrs: { transposeA: false, transposeB: false }, backend: tf.backend() }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(out);
}

/** GFLOP/s of `f` over ≥ minSeconds of calls (at least 3). */
function rate(f: () => tf.Tensor, flop: number): number {
  let calls = 0;
  const t0 = performance.now();
  while (calls < 3 || performance.now() - t0 < minSeconds * 1000) {
    f().dispose();
    calls++;
  }
  return (flop * calls) / ((performance.now() - t0) * 1e6);
}

const records = [];
for (const [B, M, K, N] of shapes) {
  const batch = B === 1 ? [] : [B];
  const a = tf.randomUniform([...batch, M, K], -1, 1);
  const b = tf.randomUniform([...batch, K, N], -1, 1);
  const flop = 2 * B * M * K * N;
  const mine = tf.matMul(a, b);
  const theirs = stockMatMul(a, b);
  const maxDiff = tf.max(tf.abs(tf.sub(mine, theirs))).dataSync()[0]!;
  tf.dispose([mine, theirs]);
  const results = await interleave(trials, [
    { name: 'stock', run: () => rate(() => stockMatMul(a, b), flop) },
    { name: 'mt', run: () => rate(() => tf.matMul(a, b), flop) },
  ]);
  const s = summarize(results.get('stock')!);
  const m = summarize(results.get('mt')!);
  const c = compare(results.get('mt')!, results.get('stock')!);
  console.log(`${B === 1 ? '' : `${B}× `}${M}×${K}×${N}: stock ${formatSummary(s, 1)}, mt ${formatSummary(m, 1)}, mt / stock ${formatComparison(c)}, largest difference ${maxDiff}`);
  records.push({ shape: [B, M, K, N], stock: results.get('stock'), mt: results.get('mt'), ratio: c, maxDiff });
  tf.dispose([a, b]);
}
const after = loadAverage(1);
console.log(`\n${loadLines(before, after, os.availableParallelism()).join('\n')}`);
if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ machine: machine(), trials, minSeconds, load: { before, after }, records }, null, 2)}\n`);
