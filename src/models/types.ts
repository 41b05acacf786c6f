/**
 * The interface every model family implements, used by training (teacher forcing) and by
 * decoding (encode once, then one step at a time with a cache). Shapes: B batch, S source
 * length, T target length, V target vocabulary. Token ids are int32. Masks are float32 1/0.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.ts';

export interface Batch {
  /** [B, S] source ids, padded with the pad id. */
  src: tf.Tensor2D;
  /** [B, S] 1 for real source tokens, 0 for padding. */
  srcMask: tf.Tensor2D;
  /** [B, T] decoder input: bos + target (teacher forcing). */
  tgtIn: tf.Tensor2D;
  /** [B, T] expected output: target + eos. */
  tgtOut: tf.Tensor2D;
  /** [B, T] 1 for real target positions. */
  tgtMask: tf.Tensor2D;
}

/** Encoder results kept for the whole decode; the tensors are owned by the caller (dispose). */
export interface EncoderState {
  /** Named tensors, e.g. `memory` [B, S, H], `mask` [B, S], RNN final states. */
  tensors: Record<string, tf.Tensor>;
}

/** Decoder state between steps (RNN hidden states, Transformer key/value cache …). */
export interface DecoderState {
  tensors: Record<string, tf.Tensor>;
  /** Decoding position (number of tokens already fed). */
  step: number;
}

export interface StepOutput {
  /** [B, V] log-probabilities of the next token. */
  logProbs: tf.Tensor2D;
  state: DecoderState;
  /** [B, S] attention weights over the source for this step (attention/transformer only). */
  attention?: tf.Tensor2D;
  /** [B, layers, heads, S] every decoder layer's cross-attention per head, when asked for (StepOptions) and the model has heads (transformer). */
  attentionHeads?: tf.Tensor4D;
}

/** What a decode step computes beyond the next token's log-probabilities. */
export interface StepOptions {
  /** Also return every layer's per-head attention (StepOutput.attentionHeads), where the model has heads. */
  attentionHeads?: boolean;
}

/** Facts about a family (src/models/facts.ts), so that no code outside models/ switches on its type. */
export interface ModelFacts {
  /** Longest sequence the model can take, source or target: a Transformer's position table; Infinity for the RNNs. */
  readonly maxPositions: number;
  /** Whether the model has attention weights over the source (forwardWithAttention, StepOutput.attention). */
  readonly hasAttention: boolean;
  /** The model's width: a Transformer's d_model, an RNN's hidden size (what noam's learning rate scales by). */
  readonly width: number;
}

export interface NmtModel extends ModelFacts {
  readonly config: ModelConfig;
  readonly srcVocabSize: number;
  readonly tgtVocabSize: number;
  /** All trainable weights (for optimizers). Their tfjs names carry a per-instance prefix
   * (`model3/…`) so that several models can live in one process; use `namedVariables` for
   * checkpoints. */
  readonly variables: tf.Variable[];
  /** The same weights keyed by stable names (`encoder/embedding`, `decoder/layer0/gru/kernel` …),
   * identical for every model built from the same config and vocabulary sizes. */
  readonly namedVariables: ReadonlyMap<string, tf.Variable>;
  /**
   * Position in the model's own random stream (dropout masks, teacher-forcing coin flips):
   * a plain integer. Save it with a checkpoint and set it back to resume exactly.
   */
  rngState: number;
  /**
   * Teacher-forced logits [B, T, V]. `training` turns dropout on.
   * `teacherForcing` < 1 (RNNs only) feeds the model's own argmax with probability 1 − ratio.
   */
  forward(batch: Batch, training: boolean, teacherForcing?: number): tf.Tensor3D;
  /** forward() plus the attention weights [B, T, S] over the source for every target position
   * (attention: the alignment; transformer: last decoder layer's cross-attention, mean over heads).
   * Absent for seq2seq. No dropout. */
  forwardWithAttention?(batch: Batch): { logits: tf.Tensor3D; attention: tf.Tensor3D };
  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): EncoderState;
  initDecoderState(enc: EncoderState): DecoderState;
  /** One decoder step for tokens `prev` [B] (int32). Does not dispose its inputs. */
  decodeStep(enc: EncoderState, state: DecoderState, prev: tf.Tensor1D, opts?: StepOptions): StepOutput;
  /** Gather batch rows (for beam search): every tensor's first axis indexed by `indices` [B']. */
  selectEncoder(enc: EncoderState, indices: tf.Tensor1D): EncoderState;
  selectState(state: DecoderState, indices: tf.Tensor1D): DecoderState;
  /** Number of trainable parameters. */
  parameterCount(): number;
  dispose(): void;
}
