/**
 * transformer: encoder and decoder built from multi-head attention alone (Vaswani et al. 2017).
 *
 *   encoder layer:  x ← x + SelfAttention(x)            every source position looks at all others
 *                   x ← x + FeedForward(x)
 *   decoder layer:  y ← y + CausalSelfAttention(y)      each target position looks at earlier ones
 *                   y ← y + CrossAttention(y, memory)    … and at all encoder outputs
 *                   y ← y + FeedForward(y)
 *
 * With `norm: pre` each sublayer normalises its input (x + f(LN(x))) and a final LayerNorm
 * closes each stack; with `post` the sum is normalised (LN(x + f(x))), as in the original paper.
 * Embeddings are scaled by √d and get sinusoidal or learned positions added.
 *
 * Decoding is incremental: each step computes one position and keeps every decoder layer's
 * self-attention keys/values in a cache, so step t attends to the same keys as position t of
 * the teacher-forced forward pass (where a causal mask hides later positions).
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { BaseModel } from '../common/base.ts';
import { Embedding, LayerNorm, Linear, OutputLayer } from '../common/layers.ts';
import { logSoftmax } from '../common/ops.ts';
import type { ParamStore } from '../common/params.ts';
import type { Batch, DecoderState, EncoderState, StepOptions, StepOutput } from '../types.ts';
import { MultiHeadAttention, type KeysValues } from './multi-head-attention.ts';
import { sinusoidalTable } from './positions.ts';

type TransformerConfig = Extract<ModelConfig, { type: 'transformer' }>;

const MASKED_SCORE = -1e9;

class FeedForward {
  private readonly inner: Linear;
  private readonly outer: Linear;

  constructor(params: ParamStore, name: string, d: number, ff: number) {
    this.inner = new Linear(params, `${name}/inner`, d, ff);
    this.outer = new Linear(params, `${name}/outer`, ff, d);
  }

  apply(x: tf.Tensor, dropout: (t: tf.Tensor) => tf.Tensor): tf.Tensor {
    return this.outer.apply(dropout(tf.relu(this.inner.apply(x))));
  }
}

interface EncoderLayer {
  selfAttention: MultiHeadAttention;
  feedForward: FeedForward;
  norms: [LayerNorm, LayerNorm];
}

interface DecoderLayer {
  selfAttention: MultiHeadAttention;
  crossAttention: MultiHeadAttention;
  feedForward: FeedForward;
  norms: [LayerNorm, LayerNorm, LayerNorm];
}

interface DecoderResult {
  hidden: tf.Tensor3D;
  /** every layer's self-attention keys/values so far (the cache) */
  selfKeysValues: KeysValues[];
  /** every layer's cross-attention weights [B, h, T, S], first layer first (the last is what `attention` reports) */
  crossWeights: tf.Tensor4D[];
}

export class TransformerModel extends BaseModel<TransformerConfig> {
  private readonly srcEmbedding: Embedding;
  private readonly tgtEmbedding: Embedding;
  private readonly positions: tf.Tensor2D;
  private readonly encoderLayers: EncoderLayer[];
  private readonly decoderLayers: DecoderLayer[];
  private readonly encoderNorm: LayerNorm | undefined;
  private readonly decoderNorm: LayerNorm | undefined;
  private readonly output: OutputLayer;

  constructor(config: TransformerConfig, srcVocabSize: number, tgtVocabSize: number, seed: number) {
    super(config, srcVocabSize, tgtVocabSize, seed);
    const { d_model: d, heads, ff_size: ff, max_positions: P } = config;
    const p = this.params;
    this.srcEmbedding = new Embedding(p, 'encoder/embedding', srcVocabSize, d, 1 / Math.sqrt(d));
    this.tgtEmbedding = new Embedding(p, 'decoder/embedding', tgtVocabSize, d, 1 / Math.sqrt(d));
    this.positions =
      config.positions === 'learned' ? (p.normal('positions', [P, d], 1 / Math.sqrt(d)) as tf.Tensor2D) : sinusoidalTable(P, d);
    this.encoderLayers = Array.from({ length: config.encoder_layers }, (_, l) => {
      const name = `encoder/layer${l}`;
      return {
        selfAttention: new MultiHeadAttention(p, `${name}/self_attention`, d, heads, true),
        feedForward: new FeedForward(p, `${name}/feed_forward`, d, ff),
        norms: [new LayerNorm(p, `${name}/norm0`, d), new LayerNorm(p, `${name}/norm1`, d)],
      };
    });
    this.decoderLayers = Array.from({ length: config.decoder_layers }, (_, l) => {
      const name = `decoder/layer${l}`;
      return {
        selfAttention: new MultiHeadAttention(p, `${name}/self_attention`, d, heads, true),
        crossAttention: new MultiHeadAttention(p, `${name}/cross_attention`, d, heads, false),
        feedForward: new FeedForward(p, `${name}/feed_forward`, d, ff),
        norms: [new LayerNorm(p, `${name}/norm0`, d), new LayerNorm(p, `${name}/norm1`, d), new LayerNorm(p, `${name}/norm2`, d)],
      };
    });
    if (config.norm === 'pre') {
      this.encoderNorm = new LayerNorm(p, 'encoder/final_norm', d);
      this.decoderNorm = new LayerNorm(p, 'decoder/final_norm', d);
    }
    this.output = new OutputLayer(p, d, tgtVocabSize, config.tie_embeddings ? this.tgtEmbedding : undefined);
  }

  forward(batch: Batch, training: boolean): tf.Tensor3D {
    return tf.tidy(() => this.run(batch, training).logits);
  }

  forwardWithAttention(batch: Batch): { logits: tf.Tensor3D; attention: tf.Tensor3D } {
    return tf.tidy(() => this.run(batch, false));
  }

  private run(batch: Batch, training: boolean): { logits: tf.Tensor3D; attention: tf.Tensor3D } {
    const memory = this.encodeSource(batch.src, batch.srcMask, training);
    const cross = this.decoderLayers.map((layer) => layer.crossAttention.projectMemory(memory));
    const T = batch.tgtIn.shape[1];
    const decoded = this.decode(this.embed(this.tgtEmbedding, batch.tgtIn, 0, training), cross, paddingBias(batch.srcMask), causalBias(T), undefined, training);
    return {
      logits: this.output.apply(decoded.hidden) as tf.Tensor3D,
      attention: tf.mean(decoded.crossWeights.at(-1)!, 1) as tf.Tensor3D,
    };
  }

  /** ids [B, T] → √d · embedding + positions [offset, offset + T), with dropout. */
  private embed(embedding: Embedding, ids: tf.Tensor2D, offset: number, training: boolean): tf.Tensor3D {
    const [, T] = ids.shape;
    const maxPositions = this.config.max_positions;
    if (offset + T > maxPositions) {
      throw new UserError(`a sequence of ${offset + T} tokens is longer than model.max_positions (${maxPositions})`);
    }
    const scaled = tf.mul(embedding.lookup(ids), Math.sqrt(this.config.d_model));
    const x = tf.add(scaled, tf.slice(this.positions, [offset, 0], [T, -1]));
    return this.rng.dropout(x, this.config.dropout, training) as tf.Tensor3D;
  }

  /**
   * A residual sublayer, pre-norm x + f(LN(x)) or post-norm LN(x + f(x)). It runs in its own
   * tidy, so that what it computes and the backward does not save is freed here rather than at
   * the end of the whole forward pass (that raised a training step's peak memory by a third);
   * `f` returns its output and what the caller keeps of it.
   */
  private sublayer<K extends tf.TensorContainer>(
    x: tf.Tensor3D,
    norm: LayerNorm,
    f: (y: tf.Tensor3D) => { output: tf.Tensor; kept: K },
    training: boolean,
  ): { x: tf.Tensor3D; kept: K } {
    return tf.tidy(() => {
      const pre = this.config.norm === 'pre';
      const { output, kept } = f(pre ? (norm.apply(x) as tf.Tensor3D) : x);
      const sum = tf.add(x, this.rng.dropout(output, this.config.dropout, training));
      return { x: (pre ? sum : norm.apply(sum)) as tf.Tensor3D, kept };
    });
  }

  private encodeSource(src: tf.Tensor2D, srcMask: tf.Tensor2D, training: boolean): tf.Tensor3D {
    const dropout = (t: tf.Tensor) => this.rng.dropout(t, this.config.dropout, training);
    const bias = paddingBias(srcMask);
    let x = this.embed(this.srcEmbedding, src, 0, training);
    for (const layer of this.encoderLayers) {
      x = this.sublayer(x, layer.norms[0], (y) => {
        const { queries, ...kv } = layer.selfAttention.projectSelf(y);
        return { output: layer.selfAttention.attend(queries, kv, bias).output, kept: [] };
      }, training).x;
      x = this.sublayer(x, layer.norms[1], (y) => ({ output: layer.feedForward.apply(y, dropout), kept: [] }), training).x;
    }
    return (this.encoderNorm ? this.encoderNorm.apply(x) : x) as tf.Tensor3D;
  }

  /**
   * The decoder stack over x [B, T, d]. `cache` holds the keys/values of earlier positions
   * (incremental decoding); `selfBias` masks later positions (teacher forcing, no cache).
   */
  private decode(
    x: tf.Tensor3D,
    cross: KeysValues[],
    crossBias: tf.Tensor,
    selfBias: tf.Tensor | undefined,
    cache: KeysValues[] | undefined,
    training: boolean,
  ): DecoderResult {
    const dropout = (t: tf.Tensor) => this.rng.dropout(t, this.config.dropout, training);
    const selfKeysValues: KeysValues[] = [];
    const crossWeights: tf.Tensor4D[] = [];
    this.decoderLayers.forEach((layer, l) => {
      const self = this.sublayer(x, layer.norms[0], (y) => {
        const { queries, keys, values } = layer.selfAttention.projectSelf(y);
        const past = cache?.[l];
        const kv = past
          ? { keys: tf.concat([past.keys, keys], 3) as tf.Tensor4D, values: tf.concat([past.values, values], 2) as tf.Tensor4D }
          : { keys, values };
        return { output: layer.selfAttention.attend(queries, kv, selfBias).output, kept: kv };
      }, training);
      selfKeysValues.push(self.kept);
      const crossed = this.sublayer(self.x, layer.norms[1], (y) => {
        const r = layer.crossAttention.attend(layer.crossAttention.projectQueries(y), cross[l]!, crossBias);
        return { output: r.output, kept: r.weights };
      }, training);
      crossWeights.push(crossed.kept);
      x = this.sublayer(crossed.x, layer.norms[2], (y) => ({ output: layer.feedForward.apply(y, dropout), kept: [] }), training).x;
    });
    const hidden = (this.decoderNorm ? this.decoderNorm.apply(x) : x) as tf.Tensor3D;
    return { hidden, selfKeysValues, crossWeights };
  }

  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): EncoderState {
    return tf.tidy(() => {
      const memory = this.encodeSource(src, srcMask, false);
      const tensors: Record<string, tf.Tensor> = { crossBias: paddingBias(srcMask) };
      this.decoderLayers.forEach((layer, l) => {
        const { keys, values } = layer.crossAttention.projectMemory(memory);
        tensors[`cross${l}_keys`] = keys;
        tensors[`cross${l}_values`] = values;
      });
      return { tensors };
    });
  }

  /** The cache starts empty: the first step attends to itself only. */
  initDecoderState(): DecoderState {
    return { tensors: {}, step: 0 };
  }

  /** With `opts.attentionHeads`, also every layer's cross-attention per head (stacked only then: no cost otherwise). */
  decodeStep(enc: EncoderState, state: DecoderState, prev: tf.Tensor1D, opts: StepOptions = {}): StepOutput {
    return tf.tidy(() => {
      const layers = this.decoderLayers.map((_, l) => l);
      const cross = layers.map((l) => keysValues(enc.tensors, `cross${l}`));
      const cache = state.step === 0 ? undefined : layers.map((l) => keysValues(state.tensors, `self${l}`));
      const x = this.embed(this.tgtEmbedding, tf.expandDims(prev, 1) as tf.Tensor2D, state.step, false);
      const decoded = this.decode(x, cross, enc.tensors.crossBias!, undefined, cache, false);
      const tensors: Record<string, tf.Tensor> = {};
      decoded.selfKeysValues.forEach((kv, l) => {
        tensors[`self${l}_keys`] = kv.keys;
        tensors[`self${l}_values`] = kv.values;
      });
      const logProbs = logSoftmax(tf.squeeze(this.output.decode(decoded.hidden), [1]) as tf.Tensor2D);
      const attention = tf.squeeze(tf.mean(decoded.crossWeights.at(-1)!, 1), [1]) as tf.Tensor2D;
      // [B, h, 1, S] per layer → [B, layers, h, S]
      const attentionHeads = opts.attentionHeads ? (tf.squeeze(tf.stack(decoded.crossWeights, 1), [3]) as tf.Tensor4D) : undefined;
      return { logProbs, attention, ...(attentionHeads ? { attentionHeads } : {}), state: { tensors, step: state.step + 1 } };
    });
  }

  override dispose(): void {
    super.dispose();
    this.output.dispose();
    this.positions.dispose();
  }
}

function keysValues(tensors: Record<string, tf.Tensor>, prefix: string): KeysValues {
  return { keys: tensors[`${prefix}_keys`] as tf.Tensor4D, values: tensors[`${prefix}_values`] as tf.Tensor4D };
}

/** [B, S] 1/0 mask → [B, 1, 1, S]: −1e9 on padded keys, for every head and query. */
function paddingBias(mask: tf.Tensor2D): tf.Tensor4D {
  const [B, S] = mask.shape;
  return tf.reshape(tf.mul(tf.sub(1, mask), MASKED_SCORE), [B, 1, 1, S]);
}

/** [1, 1, T, T]: −1e9 where the key position is after the query position. */
function causalBias(T: number): tf.Tensor4D {
  const allowed = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
  return tf.reshape(tf.mul(tf.sub(1, allowed), MASKED_SCORE), [1, 1, T, T]);
}
