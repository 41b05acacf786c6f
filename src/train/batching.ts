/**
 * Training data as batches: the prepared corpora encoded with the run's subword models, pairs
 * longer than `max_len` dropped, and token-based batches with length bucketing.
 *
 * Each epoch's batch order comes from a seeded generator: shuffle the pairs, sort pools of
 * them by length (so a batch holds similar lengths and little padding), cut the pools into
 * batches under the token budget, and shuffle the batches. The data position — epoch, batch
 * index, and the generator state at the start of the epoch — is enough to rebuild the order
 * after a restart and continue with the very next batch (exact resume).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataPosition } from '../checkpoint/training-state.ts';
import { readLinesSync } from '../data/lines.ts';
import { UserError } from '../errors.ts';
import type { Batch } from '../models/types.ts';
import type { SubwordPair } from '../subword/types.ts';
import { Sfc32, type Sfc32State } from '../util/random.ts';

/** One sentence pair as subword ids, without bos/eos. */
export interface Pair {
  src: number[];
  tgt: number[];
}

export interface EncodedCorpus {
  pairs: Pair[];
  /** Lines read from the files. */
  lines: number;
  /** Pairs dropped for being longer than max_len (or having an empty source). */
  dropped: number;
}

/** The ids batches are built with, taken from the subword models. */
export interface SpecialIds {
  srcPad: number;
  tgtPad: number;
  bos: number;
  eos: number;
}

export interface BatchingOptions {
  /** Budget of padded tokens per batch: sentences × the longer side (target counts its eos). */
  batchTokens: number;
  maxSentences: number;
}

export function specialIds(subwords: SubwordPair): SpecialIds {
  return { srcPad: subwords.src.padId, tgtPad: subwords.tgt.padId, bos: subwords.tgt.bosId, eos: subwords.tgt.eosId };
}

/**
 * Encode a line-aligned corpus. Pairs with a side longer than `maxLen` subword tokens, or an
 * empty source (nothing to attend to), are dropped; `maxLen` undefined keeps every pair.
 */
export function encodeCorpus(srcFile: string, tgtFile: string, subwords: SubwordPair, maxLen?: number): EncodedCorpus {
  const srcLines = readLinesSync(srcFile);
  const tgtLines = readLinesSync(tgtFile);
  if (srcLines.length !== tgtLines.length) {
    throw new UserError(`${tgtFile}: ${tgtLines.length} lines but ${srcFile} has ${srcLines.length}; the files must be line-aligned`);
  }
  const pairs: Pair[] = [];
  let dropped = 0;
  for (let i = 0; i < srcLines.length; i++) {
    const src = subwords.src.encodeIds(srcLines[i]!);
    const tgt = subwords.tgt.encodeIds(tgtLines[i]!);
    if (src.length === 0 || (maxLen !== undefined && (src.length > maxLen || tgt.length > maxLen))) {
      dropped += 1;
      continue;
    }
    pairs.push({ src, tgt });
  }
  return { pairs, lines: srcLines.length, dropped };
}

/** Padded cost of a pair in the token budget: its longer side, the target with its eos. */
function cost(p: Pair): number {
  return Math.max(p.src.length, p.tgt.length + 1);
}

/** Cut `order` (already sorted by length) into batches under the budget. */
function cutBatches(pairs: Pair[], order: number[], opts: BatchingOptions): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let longest = 0;
  for (const i of order) {
    const c = cost(pairs[i]!);
    const longer = Math.max(longest, c);
    if (current.length > 0 && (longer * (current.length + 1) > opts.batchTokens || current.length + 1 > opts.maxSentences)) {
      batches.push(current);
      current = [];
      longest = 0;
    }
    current.push(i);
    longest = Math.max(longest, c);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const byLength = (pairs: Pair[]) => (a: number, b: number) =>
  pairs[a]!.tgt.length - pairs[b]!.tgt.length || pairs[a]!.src.length - pairs[b]!.src.length;

/** Pools this many batches' worth of sentences before sorting: enough to bucket, still random. */
const POOL_BATCHES = 100;

/** One epoch's batches (pair indices), drawn with `rng`. */
export function planEpoch(pairs: Pair[], opts: BatchingOptions, rng: Sfc32): number[][] {
  const order = rng.shuffle(pairs.map((_, i) => i));
  const poolSize = POOL_BATCHES * opts.maxSentences;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += poolSize) {
    const pool = order.slice(start, start + poolSize).sort(byLength(pairs));
    batches.push(...cutBatches(pairs, pool, opts));
  }
  return rng.shuffle(batches);
}

/** Fixed batches for validation: sorted by length, not shuffled. */
export function planInOrder(pairs: Pair[], opts: BatchingOptions): number[][] {
  return cutBatches(pairs, pairs.map((_, i) => i).sort(byLength(pairs)), opts);
}

/** An endless stream of training batches (pair indices), epoch after epoch, resumable. */
export class BatchStream {
  private readonly pairs: Pair[];
  private readonly opts: BatchingOptions;
  private epoch: number;
  private batch: number;
  private epochStart: Sfc32State;
  private batches: number[][];
  /** Generator state after planning the current epoch: the next epoch starts from it. */
  private afterPlan: Sfc32State;

  constructor(pairs: Pair[], opts: BatchingOptions, position: DataPosition) {
    if (pairs.length === 0) throw new UserError('no training pairs left after filtering (check train.max_len and the prepared data)');
    this.pairs = pairs;
    this.opts = opts;
    this.epoch = position.epoch;
    this.epochStart = position.rng;
    const rng = Sfc32.fromState(position.rng);
    this.batches = planEpoch(pairs, opts, rng);
    this.afterPlan = rng.state();
    // A changed batching config can leave the saved index past the end: go on with the next epoch.
    this.batch = Math.min(position.batch, this.batches.length);
  }

  static fromSeed(pairs: Pair[], opts: BatchingOptions, seed: number): BatchStream {
    return new BatchStream(pairs, opts, { epoch: 1, batch: 0, rng: Sfc32.fromSeed(seed).state() });
  }

  /** The position of the next batch (what a checkpoint stores). */
  position(): DataPosition {
    if (this.batch >= this.batches.length) return { epoch: this.epoch + 1, batch: 0, rng: this.afterPlan };
    return { epoch: this.epoch, batch: this.batch, rng: this.epochStart };
  }

  /** Batches in the current epoch. */
  get batchesPerEpoch(): number {
    return this.batches.length;
  }

  /** The next batch's pair indices and the epoch it belongs to. */
  next(): { indices: number[]; epoch: number } {
    if (this.batch >= this.batches.length) {
      this.epoch += 1;
      this.batch = 0;
      this.epochStart = this.afterPlan;
      const rng = Sfc32.fromState(this.epochStart);
      this.batches = planEpoch(this.pairs, this.opts, rng);
      this.afterPlan = rng.state();
    }
    const indices = this.batches[this.batch]!;
    this.batch += 1;
    return { indices, epoch: this.epoch };
  }
}

/** Target tokens a batch predicts (each target plus its eos): the unit of tok/s. */
export function targetTokens(pairs: Pair[], indices: number[]): number {
  return indices.reduce((n, i) => n + pairs[i]!.tgt.length + 1, 0);
}

/**
 * Tensors for the pairs `indices`: source padded with the pad id, decoder input bos+target,
 * expected output target+eos, and float 1/0 masks. The caller disposes them (disposeBatch).
 */
export function makeBatch(pairs: Pair[], indices: number[], ids: SpecialIds): Batch {
  const rows = indices.map((i) => pairs[i]!);
  const b = rows.length;
  const s = Math.max(...rows.map((p) => p.src.length));
  const t = Math.max(...rows.map((p) => p.tgt.length)) + 1;
  const src = new Int32Array(b * s).fill(ids.srcPad);
  const srcMask = new Float32Array(b * s);
  const tgtIn = new Int32Array(b * t).fill(ids.tgtPad);
  const tgtOut = new Int32Array(b * t).fill(ids.tgtPad);
  const tgtMask = new Float32Array(b * t);
  rows.forEach((p, r) => {
    p.src.forEach((id, j) => {
      src[r * s + j] = id;
      srcMask[r * s + j] = 1;
    });
    tgtIn[r * t] = ids.bos;
    p.tgt.forEach((id, j) => {
      tgtIn[r * t + j + 1] = id;
      tgtOut[r * t + j] = id;
    });
    tgtOut[r * t + p.tgt.length] = ids.eos;
    for (let j = 0; j <= p.tgt.length; j++) tgtMask[r * t + j] = 1;
  });
  return {
    src: tf.tensor2d(src, [b, s], 'int32'),
    srcMask: tf.tensor2d(srcMask, [b, s], 'float32'),
    tgtIn: tf.tensor2d(tgtIn, [b, t], 'int32'),
    tgtOut: tf.tensor2d(tgtOut, [b, t], 'int32'),
    tgtMask: tf.tensor2d(tgtMask, [b, t], 'float32'),
  };
}

export function disposeBatch(batch: Batch): void {
  tf.dispose([batch.src, batch.srcMask, batch.tgtIn, batch.tgtOut, batch.tgtMask]);
}
