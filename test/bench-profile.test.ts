/**
 * bench/profile.ts, the pure parts of `bench:train --profile`: matmul FLOPs from the recorded
 * shapes, which matmuls are the output projection, the grouping of kernel names, self times of
 * nested records, and the per-step breakdown. No timing and no backend: the records are made up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  breakdown,
  ceilingMs,
  formatBreakdown,
  GROUPS,
  isOutputProjection,
  kernelGroup,
  matMulFlops,
  meanBreakdown,
  selfTimes,
  topKernels,
  type KernelRecord,
} from '../bench/profile.ts';

const V = 8000;
const rec = (name: string, inputShapes: number[][], outputShapes: number[][], kernelTimeMs = 1, parent = -1, container = false): KernelRecord => ({
  name,
  inputShapes,
  outputShapes,
  kernelTimeMs,
  parent,
  container,
});
const phases = { forward: 0, loss: 0, backward: 0, update: 0 };

describe('bench profile: matmul FLOPs from shapes', () => {
  it('2·m·n·k for a plain matmul', () => {
    assert.equal(matMulFlops([448, 256], [448, 8000]), 2 * 448 * 8000 * 256);
    assert.equal(matMulFlops([512, 512], [512, 512]), 2 * 512 ** 3);
  });

  it('k from the first input whichever way it is transposed', () => {
    // a [k, m] used transposed: out [m, n]
    assert.equal(matMulFlops([256, 448], [448, 8000]), 2 * 448 * 8000 * 256);
    // the gradient of the weights: xᵀ [d, N] × dy [N, V] → [d, V], k = N
    assert.equal(matMulFlops([256, 448], [256, 8000]), 2 * 256 * 8000 * 448);
  });

  it('batched: the output batch axes multiply', () => {
    // attention scores: [B·h, T, d_k] × [B·h, d_k, S] → [B·h, T, S]
    assert.equal(matMulFlops([128, 14, 64], [128, 14, 16]), 2 * 128 * 14 * 16 * 64);
    assert.equal(matMulFlops([4, 2, 3, 5], [4, 2, 3, 7]), 2 * 8 * 3 * 7 * 5);
  });

  it('empty matrices cost nothing; rank < 2 is refused', () => {
    assert.equal(matMulFlops([0, 5], [0, 7]), 0);
    assert.equal(matMulFlops([3, 5], [3, 0]), 0);
    assert.throws(() => matMulFlops([5], [5, 5]), /rank/);
  });

  it('the ceiling is FLOPs over GFLOP/s, in ms', () => {
    assert.equal(ceilingMs(30e9, 30), 1000);
    assert.equal(ceilingMs(1.5e9, 50), 30);
  });
});

describe('bench profile: grouping kernels', () => {
  it('the output projection is a matmul with a vocabulary-sized axis, forward or gradient', () => {
    assert.ok(isOutputProjection(rec('BatchMatMul', [[448, 512], [512, V]], [[448, V]]), V)); // logits
    assert.ok(isOutputProjection(rec('BatchMatMul', [[448, V], [V, 512]], [[448, 512]]), V)); // d input
    assert.ok(isOutputProjection(rec('BatchMatMul', [[512, 448], [448, V]], [[512, V]]), V)); // d weight
    assert.ok(!isOutputProjection(rec('BatchMatMul', [[448, 512], [512, 1536]], [[448, 1536]]), V));
    // the embedding table [V, d] is gathered, not multiplied; a batch axis of V does not count
    assert.ok(!isOutputProjection(rec('BatchMatMul', [[V, 2, 3], [V, 3, 4]], [[V, 2, 4]]), V));
  });

  it('matmuls split by the output projection, even inside the loss span', () => {
    assert.equal(kernelGroup(rec('BatchMatMul', [[4, 512], [512, V]], [[4, V]]), V, false), 'matmul-output');
    assert.equal(kernelGroup(rec('_FusedMatMul', [[4, 512], [512, 64], [64]], [[4, 64]]), V, false), 'matmul-rest');
    assert.equal(kernelGroup(rec('BatchMatMul', [[4, 512], [512, 64]], [[4, 64]]), V, true), 'matmul-rest');
  });

  it('everything else between the logits and the loss is the loss group', () => {
    for (const name of ['Softmax', 'Max', 'Sub', 'GatherV2', 'ScatterNd', 'Multiply']) assert.equal(kernelGroup(rec(name, [[4, V]], [[4, V]]), V, true), 'loss');
  });

  it('by name outside the loss span', () => {
    const group = (name: string) => kernelGroup(rec(name, [[4, 4]], [[4, 4]]), V, false);
    assert.equal(group('Softmax'), 'softmax');
    assert.equal(group('LogSoftmax'), 'softmax');
    assert.equal(group('Transpose'), 'transpose');
    for (const name of ['Slice', 'Concat', 'GatherV2', 'Identity', 'Reshape', 'Pack', 'Unpack', 'SplitV', 'Tile', 'ScatterNd']) assert.equal(group(name), 'copy', name);
    for (const name of ['Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Square', 'Maximum', 'Cast', 'Select']) assert.equal(group(name), 'elementwise', name);
    for (const name of ['Sum', 'Max', 'Mean', 'Fill', 'Range', 'ArgMax', 'SomethingNew']) assert.equal(group(name), 'other', name);
  });
});

describe('bench profile: self times and the breakdown', () => {
  it('a record loses its direct children’s time, once', () => {
    // 0: Identity (inside 1), 1: Add, 2: Mul (inside 4), 3: Sub (inside 4), 4: customGrad container (inside nothing)
    const records = [rec('Identity', [], [], 0.5, 1), rec('Add', [], [], 3), rec('Multiply', [], [], 2, 4), rec('Sub', [], [], 1, 4), rec('', [], [], 4.5, -1, true)];
    assert.deepEqual(selfTimes(records), [0.5, 2.5, 2, 1, 1.5]);
  });

  it('nested containers: the grandchild is subtracted from its parent only', () => {
    const records = [rec('Multiply', [], [], 1, 1), rec('', [], [], 3, 2, true), rec('', [], [], 5, -1, true)];
    assert.deepEqual(selfTimes(records), [1, 2, 2]);
  });

  it('timer jitter never makes a self time negative', () => {
    assert.deepEqual(selfTimes([rec('Identity', [], [], 1.2, 1), rec('Add', [], [], 1)]), [1.2, 0]);
  });

  it('groups self times, skips containers, counts matmul FLOPs, leaves the rest outside', () => {
    const records = [
      rec('BatchMatMul', [[4, 8], [8, 16]], [[4, 16]], 10), // 0 forward, rest
      rec('BatchMatMul', [[4, 16], [16, V]], [[4, V]], 20), // 1 output projection
      rec('Softmax', [[4, V]], [[4, V]], 5), // 2 loss
      rec('Identity', [[4, V]], [[4, V]], 1, 4), // 3 loss, inside 4
      rec('Sub', [[4]], [[4]], 3), // 4 loss
      rec('', [[4, V]], [[4, V]], 2, -1, true), // 5 container: outside
      rec('BatchMatMul', [[4, V], [V, 16]], [[4, 16]], 20), // 6 output projection gradient
      rec('Transpose', [[8, 16]], [[16, 8]], 4), // 7
      rec('Multiply', [[8, 16]], [[8, 16]], 6), // 8
      rec('Sum', [[4, 16]], [[16]], 2), // 9
    ];
    const b = breakdown(records, { lossStart: 2, lossEnd: 6 }, V, 100, phases);
    assert.equal(b.groups['matmul-rest'].ms, 10);
    assert.equal(b.groups['matmul-output'].ms, 40);
    assert.equal(b.groups.loss.ms, 5 + 1 + 2);
    assert.deepEqual(b.groups.loss.kernels, { Softmax: 5, Identity: 1, Sub: 2 });
    assert.equal(b.groups.softmax.ms, 0);
    assert.equal(b.groups.transpose.ms, 4);
    assert.equal(b.groups.elementwise.ms, 6);
    assert.equal(b.groups.other.ms, 2);
    assert.equal(b.outsideMs, 100 - 10 - 40 - 8 - 4 - 6 - 2);
    assert.equal(b.flops, 2 * 4 * 16 * 8 + 2 * (2 * 4 * V * 16));
    assert.equal(b.kernels, records.length);
  });

  it('the mean of steps averages groups, kernels, phases and FLOPs', () => {
    const one = breakdown([rec('Add', [[2]], [[2]], 2), rec('BatchMatMul', [[2, 2], [2, 2]], [[2, 2]], 4)], { lossStart: 2, lossEnd: 2 }, V, 10, { forward: 1, loss: 2, backward: 3, update: 4 });
    const two = breakdown([rec('Add', [[2]], [[2]], 4), rec('Multiply', [[2]], [[2]], 2)], { lossStart: 2, lossEnd: 2 }, V, 20, { forward: 3, loss: 2, backward: 1, update: 0 });
    const m = meanBreakdown([one, two]);
    assert.equal(m.stepMs, 15);
    assert.equal(m.groups.elementwise.ms, 4);
    assert.deepEqual(m.groups.elementwise.kernels, { Add: 3, Multiply: 1 });
    assert.equal(m.groups['matmul-rest'].ms, 2);
    assert.equal(m.flops, 8);
    assert.deepEqual(m.phases, { forward: 2, loss: 2, backward: 2, update: 2 });
    assert.equal(m.outsideMs, (4 + 14) / 2);
    assert.throws(() => meanBreakdown([]), /no steps/);
  });

  it('the table has a row per group, the outside row and the step, shares of the step', () => {
    const b = breakdown([rec('BatchMatMul', [[4, 16], [16, V]], [[4, V]], 25), rec('Add', [[2]], [[2]], 25)], { lossStart: 2, lossEnd: 2 }, V, 100, phases);
    const rows = formatBreakdown(b, V);
    assert.equal(rows.length, 2 + GROUPS.length + 2);
    assert.match(rows[2]!, /output projection \[\*, 8000\].*\| 25 \| 25\.0% \| BatchMatMul 25 \|/);
    assert.match(rows.at(-2)!, /outside kernels.*\| 50 \| 50\.0% \|/);
    assert.match(rows.at(-1)!, /\| 100 \| 100% \| 2 kernel records \|/);
    assert.equal(topKernels({ ms: 6, kernels: { A: 1, B: 3, C: 2, D: 0.5 } }, 2), 'B 3.0, C 2.0');
  });
});
