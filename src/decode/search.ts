/**
 * What greedy and beam search share: options, the hypothesis type, length limits and penalty,
 * and `StepRunner`, which runs the model one step at a time over a changing set of rows
 * (one row per live hypothesis), keeping every tensor on the backend. Per step it returns only
 * the top-k log-probabilities and token ids of each row (one small read); the search loops do
 * their bookkeeping on those few numbers.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecoderState, EncoderState, NmtModel } from '../models/types.ts';

export interface SearchOptions {
  bosId: number;
  eosId: number;
  /** Source padding id. */
  padId: number;
  /** Output length limit (eos not counted): floor(a · source length + b). */
  maxLenA: number;
  maxLenB: number;
  /** Hard cap on that limit (a Transformer's positions), if any. */
  maxLenCap?: number;
  /** eos is not allowed before this many tokens. */
  minLen: number;
  /** Collect the attention weights of every step (attention and Transformer models). */
  attention?: boolean;
  /**
   * Also collect every decoder layer's attention per head, where the model has heads (Transformer):
   * Hypothesis.attentionHeads. Off, nothing of it is computed or read.
   */
  attentionHeads?: boolean;
}

export interface BeamOptions extends SearchOptions {
  beamSize: number;
  /** GNMT length penalty α: a finished hypothesis scores logProb / ((5 + len) / 6)^α. */
  lengthPenalty: number;
  /** Hypotheses returned per sentence (≤ beamSize). */
  nbest: number;
}

export interface Hypothesis {
  /** Target ids, without bos and eos. */
  ids: number[];
  /** Sum of the token log-probabilities, the final eos included. */
  logProb: number;
  /** What the search ranks by: logProb for greedy, logProb / length penalty for beam search. */
  score: number;
  /** Attention weights [ids.length + 1 (the eos step)][source length], when asked for. */
  attention?: number[][];
  /** Per-head attention of every step, when asked for and the model has heads: [ids.length + 1][layer][head][source length]. */
  attentionHeads?: number[][][][];
}

/**
 * GNMT length penalty ((5 + len) / 6)^α (Wu et al. 2016), len counting the eos.
 * Every hypothesis ends with eos (it is forced at the length limit), so len = ids.length + 1.
 */
export function lengthPenalty(len: number, alpha: number): number {
  return alpha === 0 ? 1 : ((5 + len) / 6) ** alpha;
}

/** The longest output (eos not counted) for a source of `srcLen` tokens. */
export function maxOutputLength(srcLen: number, opts: SearchOptions): number {
  const len = Math.floor(opts.maxLenA * srcLen + opts.maxLenB);
  return opts.maxLenCap === undefined ? len : Math.min(len, opts.maxLenCap);
}

/** Added to log-probabilities to rule a token out; candidates below NEG / 2 are never used. */
export const NEG = -1e9;

/** What one step returns for each row: its k best next tokens, best first. */
export interface StepResult {
  /** [rows × k] log-probabilities (masked ones are ≤ NEG / 2). */
  values: Float32Array;
  /** [rows × k] token ids. */
  ids: Int32Array;
  /** [rows × padded source length] attention weights, when asked for. */
  attention?: Float32Array;
  /** [rows × layers × heads × padded source length] per-head attention, when asked for and the model has heads. */
  attentionHeads?: Float32Array;
  k: number;
}

/** Dispose the tensors of `old` that none of `keep` still holds (models may pass tensors through). */
function release(old: Record<string, tf.Tensor>, keep: Record<string, tf.Tensor>[]): void {
  const kept = new Set<tf.Tensor>(keep.flatMap((k) => Object.values(k)));
  for (const t of Object.values(old)) if (!kept.has(t) && !t.isDisposed) t.dispose();
}

/**
 * The model's decoder run over rows that come and go: the search tells it, after each step,
 * which previous row every new row continues (`reorder`). Rows of one sentence are contiguous.
 */
export class StepRunner {
  private readonly model: NmtModel;
  private readonly opts: SearchOptions;
  /** Encoder output, one row per sentence: encoded once, kept for the whole search. */
  private readonly encoded: EncoderState;
  /** Encoder output for the current rows (`encoded` itself while rows = sentences). */
  private enc: EncoderState;
  private state: DecoderState;
  /** [3, V] additive masks: none, eos banned, everything but eos banned. */
  private readonly masks: tf.Tensor2D;
  /** Sentence of each current row (set by `reorder`). */
  rowSentences: number[];
  readonly srcLens: number[];
  readonly maxLens: number[];
  /** Padded source length of the batch. */
  readonly srcWidth: number;
  /** Steps taken = tokens generated so far by every live row. */
  step = 0;
  /** [layers, heads] of the model's per-head attention, once a step has returned it. */
  private headShape: [number, number] | undefined;

  constructor(model: NmtModel, srcIds: number[][], opts: SearchOptions) {
    if (srcIds.length === 0) throw new Error('decode: no sentences');
    srcIds.forEach((s, i) => {
      if (s.length === 0) throw new Error(`decode: sentence ${i} is empty (the caller skips empty lines)`);
    });
    this.model = model;
    this.opts = opts;
    this.srcLens = srcIds.map((s) => s.length);
    this.maxLens = this.srcLens.map((n) => maxOutputLength(n, opts));
    this.srcWidth = Math.max(...this.srcLens);
    const b = srcIds.length;
    const w = this.srcWidth;
    const ids = new Int32Array(b * w).fill(opts.padId);
    const mask = new Float32Array(b * w);
    srcIds.forEach((s, r) => {
      ids.set(s, r * w);
      mask.fill(1, r * w, r * w + s.length);
    });
    const src = tf.tensor2d(ids, [b, w], 'int32');
    const srcMask = tf.tensor2d(mask, [b, w], 'float32');
    this.encoded = { tensors: tf.tidy(() => model.encode(src, srcMask).tensors) };
    release({ src, srcMask }, [this.encoded.tensors]);
    this.enc = this.encoded;
    this.state = tf.tidy(() => {
      const s = model.initDecoderState(this.encoded);
      return { tensors: s.tensors, step: s.step };
    });
    this.rowSentences = srcIds.map((_, i) => i);
    const v = model.tgtVocabSize;
    const rows = new Float32Array(3 * v);
    rows[v + opts.eosId] = NEG;
    rows.fill(NEG, 2 * v, 3 * v);
    rows[2 * v + opts.eosId] = 0;
    this.masks = tf.tensor2d(rows, [3, v]);
  }

  /**
   * Feed `prev` (one token per row) and return each row's k best next tokens. eos is banned
   * below the minimum length and is the only choice at a sentence's length limit.
   */
  next(prev: number[], k: number): StepResult {
    const rows = this.rowSentences.length;
    const maskKind = new Int32Array(rows);
    let masked = false;
    this.rowSentences.forEach((s, r) => {
      const limit = this.maxLens[s]!;
      maskKind[r] = this.step >= limit ? 2 : this.step < this.opts.minLen ? 1 : 0;
      masked ||= maskKind[r] !== 0;
    });
    const prevT = tf.tensor1d(prev, 'int32');
    const kindT = masked ? tf.tensor1d(maskKind, 'int32') : undefined;
    const kk = Math.min(k, this.model.tgtVocabSize);
    const out = tf.tidy(() => {
      const o = this.model.decodeStep(this.enc, this.state, prevT, this.opts.attentionHeads ? { attentionHeads: true } : undefined);
      const logProbs = kindT ? tf.add(o.logProbs, tf.gather(this.masks, kindT)) : o.logProbs;
      const top = tf.topk(logProbs, kk);
      // One read per step: values, ids (exact in float32 below 2^24) and attention side by side.
      const parts: tf.Tensor[] = [top.values, tf.cast(top.indices, 'float32')];
      if (this.opts.attention) {
        if (!o.attention) throw new Error(`${this.model.config.type} models give no attention weights`);
        parts.push(o.attention);
      }
      let headShape: [number, number] | undefined;
      if (o.attentionHeads) {
        const [b, layers, heads, s] = o.attentionHeads.shape;
        headShape = [layers, heads];
        parts.push(tf.reshape(o.attentionHeads, [b, layers * heads * s]));
      }
      return { packed: tf.concat(parts, 1), headShape, state: { tensors: o.state.tensors, step: o.state.step } };
    });
    tf.dispose(kindT ? [prevT, kindT] : [prevT]);
    const packed = out.packed.dataSync();
    out.packed.dispose();
    release(this.state.tensors, [out.state.tensors, this.enc.tensors, this.encoded.tensors]);
    this.state = out.state;
    this.step += 1;

    this.headShape = out.headShape;
    const attWidth = this.opts.attention ? this.srcWidth : 0;
    const headsWidth = out.headShape ? out.headShape[0] * out.headShape[1] * this.srcWidth : 0;
    const width = 2 * kk + attWidth + headsWidth;
    const values = new Float32Array(rows * kk);
    const ids = new Int32Array(rows * kk);
    const attention = this.opts.attention ? new Float32Array(rows * this.srcWidth) : undefined;
    const attentionHeads = out.headShape ? new Float32Array(rows * headsWidth) : undefined;
    for (let r = 0; r < rows; r++) {
      const base = r * width;
      values.set(packed.subarray(base, base + kk), r * kk);
      for (let j = 0; j < kk; j++) ids[r * kk + j] = packed[base + kk + j]!;
      attention?.set(packed.subarray(base + 2 * kk, base + 2 * kk + attWidth), r * this.srcWidth);
      attentionHeads?.set(packed.subarray(base + 2 * kk + attWidth, base + width), r * headsWidth);
    }
    return { values, ids, attention, ...(attentionHeads ? { attentionHeads } : {}), k: kk };
  }

  /**
   * Continue with new rows: row i carries on from previous row `origins[i]`, for sentence
   * `sentences[i]`. The encoder output is regathered only when the rows' sentences change.
   */
  reorder(origins: number[], sentences: number[]): void {
    const identity = origins.length === this.rowSentences.length && origins.every((o, i) => o === i);
    if (!identity) {
      const idx = tf.tensor1d(origins, 'int32');
      const selected = tf.tidy(() => this.model.selectState(this.state, idx).tensors);
      idx.dispose();
      release(this.state.tensors, [selected, this.enc.tensors, this.encoded.tensors]);
      this.state = { tensors: selected, step: this.state.step };
    }
    const sameSentences = sentences.length === this.rowSentences.length && sentences.every((s, i) => s === this.rowSentences[i]);
    if (!sameSentences) {
      const oneRowPerSentence = sentences.length === this.srcLens.length && sentences.every((s, i) => s === i);
      let enc = this.encoded;
      if (!oneRowPerSentence) {
        const idx = tf.tensor1d(sentences, 'int32');
        enc = { tensors: tf.tidy(() => this.model.selectEncoder(this.encoded, idx).tensors) };
        idx.dispose();
      }
      if (this.enc !== this.encoded) release(this.enc.tensors, [enc.tensors, this.encoded.tensors, this.state.tensors]);
      this.enc = enc;
      this.rowSentences = sentences;
    }
  }

  /** Attention row `r` of the last step, cut to its sentence's real source length. */
  attentionRow(step: StepResult, r: number): number[] {
    const s = this.rowSentences[r]!;
    return Array.from(step.attention!.subarray(r * this.srcWidth, r * this.srcWidth + this.srcLens[s]!));
  }

  /** Per-head attention of row `r` of the last step, [layer][head][its sentence's real source length]; undefined without heads. */
  attentionHeadsRow(step: StepResult, r: number): number[][][] | undefined {
    if (!step.attentionHeads || !this.headShape) return undefined;
    const [layers, heads] = this.headShape;
    const w = this.srcWidth;
    const len = this.srcLens[this.rowSentences[r]!]!;
    const base = r * layers * heads * w;
    return Array.from({ length: layers }, (_, l) =>
      Array.from({ length: heads }, (_, h) => {
        const at = base + (l * heads + h) * w;
        return Array.from(step.attentionHeads!.subarray(at, at + len));
      }),
    );
  }

  dispose(): void {
    const all = new Set([this.state.tensors, this.enc.tensors, this.encoded.tensors].flatMap((t) => Object.values(t)));
    for (const t of all) if (!t.isDisposed) t.dispose();
    this.masks.dispose();
  }
}
