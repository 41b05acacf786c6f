/**
 * Shared checks for the model families (test/models*.test.ts): a synthetic reversal task, a
 * plain cross-entropy + Adam loop, greedy decoding through the step interface, and the
 * properties every NmtModel must have (step = forward, padding invariance, row selection,
 * no tensor leaks, seeded init).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../src/config/schema.ts';
import { ModelSchema } from '../../src/config/sections/model.ts';
import { createModel } from '../../src/models/index.ts';
import type { Batch, NmtModel } from '../../src/models/types.ts';
import { mulberry32 } from '../../src/util/random.ts';

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const VOCAB = 12;

export function modelConfig(input: Record<string, unknown>): ModelConfig {
  return ModelSchema.parse(input);
}

/** Deterministic pseudo-random integers (mulberry32). */
export function makeRandom(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}

/** Random sentences of tokens 3..VOCAB-1 with lengths in [minLen, maxLen]. */
export function randomSentences(count: number, minLen: number, maxLen: number, seed: number): number[][] {
  const rand = makeRandom(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: minLen + rand(maxLen - minLen + 1) }, () => 3 + rand(VOCAB - 3)),
  );
}

function padRows(rows: number[][], width: number): number[][] {
  return rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(PAD)]);
}

function maskOf(rows: number[][], width: number): number[][] {
  return rows.map((r) => Array.from({ length: width }, (_, i) => (i < r.length ? 1 : 0)));
}

/** A teacher-forcing batch; `extraSrcPad` adds padded source columns. Caller disposes. */
export function makeBatch(src: number[][], tgt: number[][], extraSrcPad = 0): Batch {
  const S = Math.max(...src.map((s) => s.length)) + extraSrcPad;
  const tgtIn = tgt.map((t) => [BOS, ...t]);
  const tgtOut = tgt.map((t) => [...t, EOS]);
  const T = Math.max(...tgtIn.map((t) => t.length));
  return {
    src: tf.tensor2d(padRows(src, S), undefined, 'int32'),
    srcMask: tf.tensor2d(maskOf(src, S), undefined, 'float32'),
    tgtIn: tf.tensor2d(padRows(tgtIn, T), undefined, 'int32'),
    tgtOut: tf.tensor2d(padRows(tgtOut, T), undefined, 'int32'),
    tgtMask: tf.tensor2d(maskOf(tgtOut, T), undefined, 'float32'),
  };
}

export function disposeBatch(b: Batch): void {
  tf.dispose([b.src, b.srcMask, b.tgtIn, b.tgtOut, b.tgtMask]);
}

/** Mean token cross-entropy over real target positions. */
export function crossEntropy(logits: tf.Tensor3D, batch: Batch): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[2];
    const logProbs = tf.logSoftmax(logits);
    const gold = tf.cast(tf.oneHot(batch.tgtOut, V), 'float32');
    const nll = tf.neg(tf.sum(tf.mul(logProbs, gold), 2));
    return tf.div(tf.sum(tf.mul(nll, batch.tgtMask)), tf.sum(batch.tgtMask)) as tf.Scalar;
  });
}

/** Greedy decoding through encode / initDecoderState / decodeStep. */
export async function greedy(model: NmtModel, src: number[][], maxLen: number): Promise<number[][]> {
  const b = makeBatch(src, src.map(() => []));
  const enc = model.encode(b.src, b.srcMask);
  let state = model.initDecoderState(enc);
  let prev = tf.fill([src.length], BOS, 'int32') as tf.Tensor1D;
  const out: number[][] = src.map(() => []);
  const done = src.map(() => false);
  for (let t = 0; t < maxLen && done.some((d) => !d); t++) {
    const step = model.decodeStep(enc, state, prev);
    tf.dispose(Object.values(state.tensors));
    step.attention?.dispose();
    state = step.state;
    prev.dispose();
    prev = tf.argMax(step.logProbs, 1) as tf.Tensor1D;
    step.logProbs.dispose();
    const ids = await prev.data();
    ids.forEach((id, i) => {
      if (done[i]) return;
      if (id === EOS) done[i] = true;
      else out[i]!.push(id);
    });
  }
  prev.dispose();
  tf.dispose(Object.values(state.tensors));
  tf.dispose(Object.values(enc.tensors));
  disposeBatch(b);
  return out;
}

/**
 * Train on copying or reversing random sequences (length 3–8) with a plain Adam loop until
 * greedy exact match on held-out sequences reaches `target`, checking every `evalEvery` steps.
 * Returns the accuracy reached and the steps used.
 */
export async function learnTask(
  model: NmtModel,
  opts: { task: 'copy' | 'reverse'; maxSteps: number; lr: number; batchSize?: number; evalEvery?: number; target?: number },
): Promise<{ accuracy: number; steps: number }> {
  const { maxSteps, lr, batchSize = 32, evalEvery = 50, target = 0.95 } = opts;
  const expected = (s: number[]) => (opts.task === 'copy' ? s : [...s].reverse());
  const optimizer = tf.train.adam(lr);
  const heldOut = randomSentences(100, 3, 8, 999);
  let accuracy = 0;
  let step = 0;
  while (step < maxSteps) {
    const src = randomSentences(batchSize, 3, 8, 1000 + step);
    const batch = makeBatch(src, src.map(expected));
    const loss = optimizer.minimize(() => crossEntropy(model.forward(batch, true), batch), true, model.variables);
    loss?.dispose();
    disposeBatch(batch);
    step++;
    if (step % evalEvery === 0) {
      const hyps = await greedy(model, heldOut, 10);
      accuracy = hyps.filter((h, i) => h.join(' ') === expected(heldOut[i]!).join(' ')).length / heldOut.length;
      if (accuracy >= target) break;
    }
  }
  optimizer.dispose();
  return { accuracy, steps: step };
}

async function read(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

export function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  assert.ok(worst <= tol, `${what}: max abs difference ${worst} > ${tol}`);
}

const SRC = [
  [3, 4, 5, 6, 7],
  [8, 9, 10],
  [11, 3, 5, 7, 9, 4, 6],
];
const TGT = [
  [7, 6, 5, 4],
  [10, 9, 8, 3, 3],
  [4, 5],
];

/** forward output [B, T, V] and log-softmax of it; stepwise decoding with gold tokens matches it. */
async function checkShapesAndStepEqualsForward(model: NmtModel): Promise<void> {
  const batch = makeBatch(SRC, TGT);
  const [B, T] = batch.tgtIn.shape;
  const logits = model.forward(batch, false);
  assert.deepEqual(logits.shape, [B, T, model.tgtVocabSize]);
  const expected = tf.logSoftmax(logits);
  const enc = model.encode(batch.src, batch.srcMask);
  let state = model.initDecoderState(enc);
  const gold = tf.unstack(batch.tgtIn, 1);
  const S = batch.src.shape[1];
  for (let t = 0; t < T; t++) {
    const step = model.decodeStep(enc, state, gold[t] as tf.Tensor1D);
    assert.deepEqual(step.logProbs.shape, [B, model.tgtVocabSize]);
    assert.equal(step.state.step, t + 1);
    if (model.config.type !== 'seq2seq') {
      assert.ok(step.attention, 'attention weights per step');
      assert.deepEqual(step.attention.shape, [B, S]);
      const sums = await read(tf.sum(step.attention, 1));
      assertClose(sums, [1, 1, 1], 1e-4, 'attention sums to 1');
      const att = await step.attention.array();
      // padded source positions get (numerically) zero weight
      SRC.forEach((s, i) => {
        for (let j = s.length; j < S; j++) assert.ok(att[i]![j]! < 1e-6, `weight on padding ${att[i]![j]}`);
      });
      step.attention.dispose();
    }
    const want = tf.squeeze(tf.slice(expected, [0, t, 0], [B, 1, -1]), [1]);
    assertClose(await read(step.logProbs), await read(want), 1e-4, `step ${t}`);
    want.dispose();
    step.logProbs.dispose();
    tf.dispose(Object.values(state.tensors));
    state = step.state;
  }
  tf.dispose([logits, expected, ...gold, ...Object.values(state.tensors), ...Object.values(enc.tensors)]);
  disposeBatch(batch);
}

/** Extra padded source columns change nothing. */
async function checkPaddingInvariance(model: NmtModel): Promise<void> {
  const tight = makeBatch(SRC, TGT);
  const padded = makeBatch(SRC, TGT, 3);
  const a = model.forward(tight, false);
  const b = model.forward(padded, false);
  assertClose(await read(b), await read(a), 1e-5, 'logits with extra source padding');
  tf.dispose([a, b]);
  disposeBatch(tight);
  disposeBatch(padded);
}

/** selectEncoder/selectState pick batch rows: decoding the selection equals selecting the decoding. */
async function checkRowSelection(model: NmtModel): Promise<void> {
  const batch = makeBatch(SRC, TGT);
  const enc = model.encode(batch.src, batch.srcMask);
  const state0 = model.initDecoderState(enc);
  const first = tf.tensor1d([5, 6, 7], 'int32');
  const s1 = model.decodeStep(enc, state0, first);
  const indices = tf.tensor1d([2, 0, 0, 1], 'int32');
  const encSel = model.selectEncoder(enc, indices);
  const stateSel = model.selectState(s1.state, indices);
  assert.equal(stateSel.step, 1);
  const next = tf.tensor1d([3, 4, 8, 9], 'int32');
  const onSelected = model.decodeStep(encSel, stateSel, next);
  // the same rows, stepped from the unselected state
  const nextFull = tf.tensor1d([4, 9, 3], 'int32');
  const onFull = model.decodeStep(enc, s1.state, nextFull);
  const rows = await onFull.logProbs.array();
  const sel = await onSelected.logProbs.array();
  assertClose(sel[0]!, rows[2]!, 1e-5, 'row 2');
  assertClose(sel[1]!, rows[0]!, 1e-5, 'row 0');
  assertClose(sel[3]!, rows[1]!, 1e-5, 'row 1');
  const nextFull2 = tf.tensor1d([8, 9, 3], 'int32');
  const onFull2 = model.decodeStep(enc, s1.state, nextFull2);
  assertClose(sel[2]!, (await onFull2.logProbs.array())[0]!, 1e-5, 'row 0 again');
  for (const s of [s1, onSelected, onFull, onFull2]) tf.dispose([s.logProbs, ...Object.values(s.state.tensors), ...(s.attention ? [s.attention] : [])]);
  tf.dispose([first, indices, next, nextFull, nextFull2, ...Object.values(enc.tensors), ...Object.values(state0.tensors), ...Object.values(encSel.tensors), ...Object.values(stateSel.tensors)]);
  disposeBatch(batch);
}

/** forward + backward + a few decode steps leave the live tensor count unchanged. */
function checkNoLeak(model: NmtModel): void {
  const batch = makeBatch(SRC, TGT);
  const before = tf.memory().numTensors;
  for (const tfRatio of [1, 0.5]) {
    const { value, grads } = tf.variableGrads(() => crossEntropy(model.forward(batch, true, tfRatio), batch), model.variables);
    assert.equal(Object.keys(grads).length, model.variables.length, 'every variable gets a gradient');
    value.dispose();
    tf.dispose(grads);
  }
  const enc = model.encode(batch.src, batch.srcMask);
  let state = model.initDecoderState(enc);
  let prev = tf.tensor1d([BOS, BOS, BOS], 'int32');
  for (let t = 0; t < 3; t++) {
    const step = model.decodeStep(enc, state, prev);
    tf.dispose([prev, step.logProbs, ...(step.attention ? [step.attention] : []), ...Object.values(state.tensors)]);
    state = step.state;
    prev = tf.tensor1d([4, 5, 6], 'int32');
  }
  tf.dispose([prev, ...Object.values(state.tensors), ...Object.values(enc.tensors)]);
  assert.equal(tf.memory().numTensors, before, 'live tensors after forward/backward/decoding');
  disposeBatch(batch);
}

/** Same seed → same weights and the same names; another seed → different weights. */
async function checkSeededInit(config: ModelConfig): Promise<void> {
  const a = createModel(config, 15, VOCAB, 7);
  const b = createModel(config, 15, VOCAB, 7);
  const c = createModel(config, 15, VOCAB, 8);
  assert.deepEqual([...a.namedVariables.keys()], [...b.namedVariables.keys()]);
  assert.equal(a.variables.length, a.namedVariables.size);
  assert.equal(a.parameterCount(), a.variables.reduce((n, v) => n + v.size, 0));
  let differs = false;
  for (const [name, v] of a.namedVariables) {
    const va = await read(v);
    assert.deepEqual(va, await read(b.namedVariables.get(name)!), name);
    if ((await read(c.namedVariables.get(name)!)).some((x, i) => x !== va[i])) differs = true;
  }
  assert.ok(differs, 'another seed gives other weights');
  for (const m of [a, b, c]) m.dispose();
}

/**
 * forwardWithAttention on a two-sentence batch gives forward's logits and weights [B, T, S] with
 * none on the first sentence's source padding. Returns the first sentence's weight rows.
 */
export async function checkForwardWithAttention(model: NmtModel): Promise<number[][]> {
  const batch = makeBatch([[3, 4, 5], [6, 7, 8, 9, 10]], [[5, 4], [10, 9, 8]]);
  const { logits, attention } = model.forwardWithAttention!(batch);
  const plain = model.forward(batch, false);
  assertClose(await read(logits), await read(plain), 1e-6, 'logits');
  assert.deepEqual(attention.shape, [2, 4, 5]);
  const rows = ((await attention.array()) as number[][][])[0]!;
  for (const row of rows) assert.ok(row[3]! < 1e-6 && row[4]! < 1e-6, 'padding gets no weight');
  tf.dispose([logits, attention, plain]);
  disposeBatch(batch);
  return rows;
}

/**
 * One test per variant (name → model config section) checking the properties above. Call it
 * inside a describe whose `before` has initialized the backend.
 */
export function checkEachVariant(variants: Record<string, Record<string, unknown>>): void {
  for (const [name, input] of Object.entries(variants)) {
    it(`${name}: step-by-step decoding equals forward; padding, row selection, memory, seeded init`, async () => {
      const config = modelConfig(input);
      const model = createModel(config, 15, VOCAB, 3);
      await checkShapesAndStepEqualsForward(model);
      await checkPaddingInvariance(model);
      await checkRowSelection(model);
      checkNoLeak(model);
      await checkSeededInit(config);
      model.dispose();
    });
  }
}
