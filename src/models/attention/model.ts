/**
 * attention: an RNN encoder–decoder where every decoder step looks at all encoder states
 * through attention (see attention.ts) instead of one fixed context vector.
 *
 * One decoder step (Luong et al. 2015, with input feeding):
 *   x_t   = [embed(y_{t-1}); h̃_{t-1}]              input feeding: the previous attentional state
 *   s_t   = RNN(x_t, s_{t-1})                        n layers; the top layer's h_t is the query
 *   c_t, α_t = attention(query h_t, keys/values = encoder states, padding masked)
 *   h̃_t  = tanh(W_c [h_t; c_t])                     the attentional hidden state
 *   logits_t = output(h̃_t)
 * The attention type only changes how the alignment scores are computed (bahdanau = additive).
 * Without input feeding no step depends on the previous one's output, so teacher-forced
 * training runs the RNN over the whole sequence and attends for all steps at once.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { BaseModel } from '../common/base.ts';
import { Embedding, Linear, OutputLayer, RNN_EMBEDDING_STD } from '../common/layers.ts';
import { logSoftmax, tanh, tidyRecord } from '../common/ops.ts';
import { RnnEncoder } from '../common/rnn-encoder.ts';
import { RnnStack, gateCount, sampledTokens, statesToTensors, tensorsToStates, type RnnState } from '../common/rnn.ts';
import type { Batch, DecoderState, EncoderState, StepOutput } from '../types.ts';
import { Attention, maskBias } from './attention.ts';

type AttentionConfig = Extract<ModelConfig, { type: 'attention' }>;

/** What the decoder attends over, computed once per batch. */
interface Source {
  /** values: encoder states [B, S, H] */
  memory: tf.Tensor3D;
  keys: tf.Tensor3D;
  /** [B, 1, S]: 0 for real tokens, −1e9 for padding */
  bias: tf.Tensor3D;
}

interface StepResult {
  /** h̃_t [B, H] */
  attentional: tf.Tensor2D;
  /** α_t [B, S] */
  weights: tf.Tensor2D;
  states: RnnState[];
}

export class AttentionModel extends BaseModel<AttentionConfig> {
  private readonly encoder: RnnEncoder;
  private readonly embedding: Embedding;
  private readonly decoder: RnnStack;
  /** input feeding: h̃_{t-1}'s contribution to the first layer's gates */
  private readonly feedToGates: Linear | undefined;
  private readonly attention: Attention;
  private readonly attentional: Linear;
  private readonly output: OutputLayer;

  constructor(config: AttentionConfig, srcVocabSize: number, tgtVocabSize: number, seed: number) {
    super(config, srcVocabSize, tgtVocabSize, seed);
    const { cell, emb_size: E, hidden_size: H } = config;
    this.encoder = new RnnEncoder(this.params, config, srcVocabSize);
    this.embedding = new Embedding(this.params, 'decoder/embedding', tgtVocabSize, E, RNN_EMBEDDING_STD);
    this.decoder = new RnnStack(this.params, 'decoder', cell, E, H, config.layers);
    if (config.input_feeding) this.feedToGates = new Linear(this.params, 'decoder/input_feed', H, gateCount(cell) * H, false);
    this.attention = new Attention(this.params, config.attention, H);
    this.attentional = new Linear(this.params, 'decoder/attentional', 2 * H, H);
    this.output = new OutputLayer(this.params, H, tgtVocabSize, config.tie_embeddings ? this.embedding : undefined);
  }

  forward(batch: Batch, training: boolean, teacherForcing = 1): tf.Tensor3D {
    return tf.tidy(() => this.params.steps.pass(training, () => this.run(batch, training, teacherForcing).logits));
  }

  forwardWithAttention(batch: Batch): { logits: tf.Tensor3D; attention: tf.Tensor3D } {
    return tf.tidy(() => this.params.steps.pass(false, () => this.run(batch, false, 1)));
  }

  /** One forward pass; call it inside a pass of the model's StepMatMul. */
  private run(batch: Batch, training: boolean, teacherForcing: number): { logits: tf.Tensor3D; attention: tf.Tensor3D } {
    const dropout = (x: tf.Tensor) => this.rng.dropout(x, this.config.dropout, training);
    const { memory, decoderInit } = this.encoder.encode(batch.src, batch.srcMask, training, this.rng);
    const source: Source = { memory, keys: this.attention.prepareKeys(memory), bias: maskBias(batch.srcMask) };
    const input0 = this.decoder.cells[0]!.projectInput(dropout(this.embedding.lookup(batch.tgtIn)));

    if (!this.feedToGates && teacherForcing >= 1) {
      // No step feeds the next: the whole sequence at once.
      const h = this.decoder.run(input0, decoderInit, dropout);
      const { context, weights } = this.attention.attend(h, source.keys, memory, source.bias);
      const attentional = tanh(this.attentional.apply(dropout(tf.concat([h, context], 2))));
      return { logits: this.output.apply(dropout(attentional)) as tf.Tensor3D, attention: weights };
    }

    const goldInputs = tf.unstack(input0, 1);
    const B = batch.tgtIn.shape[0];
    let states = decoderInit;
    let feed = this.feedToGates && (tf.zeros([B, this.config.hidden_size]) as tf.Tensor2D);
    const outputs: tf.Tensor[] = [];
    const logits: tf.Tensor[] = [];
    const weights: tf.Tensor[] = [];
    for (let t = 0; t < goldInputs.length; t++) {
      const useGold = teacherForcing >= 1 || t === 0 || this.rng.nextUniform() < teacherForcing;
      const x = useGold ? goldInputs[t]! : this.embedInput(sampledTokens(logits[t - 1]!), training);
      // One tidy per step (see runCell).
      const step = tidyRecord(() => this.step(x, states, feed, source, training));
      states = step.states;
      feed = step.attentional;
      weights.push(step.weights);
      if (teacherForcing < 1) logits.push(this.output.applyStep(dropout(step.attentional)));
      else outputs.push(step.attentional);
    }
    const all = teacherForcing < 1 ? tf.stack(logits, 1) : this.output.apply(dropout(tf.stack(outputs, 1)));
    return { logits: all as tf.Tensor3D, attention: tf.stack(weights, 1) as tf.Tensor3D };
  }

  /** tokens [B] → the first decoder layer's projected input [B, G·H]. */
  private embedInput(tokens: tf.Tensor, training: boolean): tf.Tensor {
    return this.decoder.cells[0]!.projectStep(this.rng.dropout(this.embedding.lookup(tokens), this.config.dropout, training));
  }

  /** One decoder step from the projected token input x [B, G·H]. */
  private step(x: tf.Tensor, states: RnnState[], feed: tf.Tensor | undefined, source: Source, training: boolean): StepResult {
    const dropout = (t: tf.Tensor) => this.rng.dropout(t, this.config.dropout, training);
    const input0 = this.feedToGates ? tf.add(x, this.feedToGates.applyStep(feed!)) : x;
    const next = this.decoder.step(input0, states, dropout);
    const query = tf.expandDims(next[next.length - 1]!.h, 1) as tf.Tensor3D;
    const { context, weights } = this.attention.attendStep(query, source.keys, source.memory, source.bias);
    const features = tf.squeeze(tf.concat([query, context], 2), [1]);
    const attentional = tanh(this.attentional.applyStep(dropout(features))) as tf.Tensor2D;
    return { attentional, weights: tf.squeeze(weights, [1]) as tf.Tensor2D, states: next };
  }

  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): EncoderState {
    return tf.tidy(() => {
      const { memory, decoderInit } = this.encoder.encode(src, srcMask, false, this.rng);
      const tensors = {
        ...statesToTensors(decoderInit, 'init_'),
        memory,
        keys: this.attention.prepareKeys(memory),
        bias: maskBias(srcMask),
      };
      return { tensors };
    });
  }

  initDecoderState(enc: EncoderState): DecoderState {
    return tf.tidy(() => {
      const init = tensorsToStates(enc.tensors, 'init_', this.config.layers);
      const tensors = statesToTensors(init.map((s) => (s.c ? { h: tf.clone(s.h), c: tf.clone(s.c) } : { h: tf.clone(s.h) })), '');
      if (this.feedToGates) tensors.feed = tf.zerosLike(init[0]!.h);
      return { tensors, step: 0 };
    });
  }

  decodeStep(enc: EncoderState, state: DecoderState, prev: tf.Tensor1D): StepOutput {
    return tf.tidy(() => {
      const source: Source = {
        memory: enc.tensors.memory as tf.Tensor3D,
        keys: enc.tensors.keys as tf.Tensor3D,
        bias: enc.tensors.bias as tf.Tensor3D,
      };
      const states = tensorsToStates(state.tensors, '', this.config.layers);
      const step = this.step(this.embedInput(prev, false), states, state.tensors.feed, source, false);
      const tensors = statesToTensors(step.states, '');
      if (this.feedToGates) tensors.feed = step.attentional;
      const logProbs = logSoftmax(this.output.decode(step.attentional) as tf.Tensor2D);
      return { logProbs, attention: step.weights, state: { tensors, step: state.step + 1 } };
    });
  }

  override dispose(): void {
    super.dispose();
    this.output.dispose();
  }
}
