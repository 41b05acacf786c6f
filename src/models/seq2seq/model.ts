/**
 * seq2seq: an RNN encoder–decoder without attention (Sutskever et al. 2014; Cho et al. 2014).
 *
 * The encoder reads the source; its final state is the only thing the decoder ever sees of
 * it — the fixed context vector. It initialises the decoder's state and, with
 * `context_every_step`, is also fed to every decoder step and to the output layer (Cho et al.),
 * so the decoder cannot "forget" it over a long output.
 *
 *   src → embed → (bi)RNN encoder ─ final state ─┬→ decoder init state
 *                                                └→ context c (top layer)
 *   y_{t-1} → embed ─┬→ RNN decoder (input: [y_{t-1}; c]) → h_t
 *                    └──────────→ features [h_t; y_{t-1}; c] → output layer → logits
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { BaseModel } from '../common/base.ts';
import { Embedding, Linear, OutputLayer, RNN_EMBEDDING_STD } from '../common/layers.ts';
import { logSoftmax } from '../common/ops.ts';
import { RnnEncoder } from '../common/rnn-encoder.ts';
import { RnnStack, gateCount, sampledTokens, statesToTensors, tensorsToStates, type RnnState } from '../common/rnn.ts';
import type { Batch, DecoderState, EncoderState, StepOutput } from '../types.ts';

type Seq2SeqConfig = Extract<ModelConfig, { type: 'seq2seq' }>;

export class Seq2SeqModel extends BaseModel<Seq2SeqConfig> {
  private readonly encoder: RnnEncoder;
  private readonly embedding: Embedding;
  private readonly decoder: RnnStack;
  /** context_every_step: the context vector's contribution to the decoder's first-layer gates. */
  private readonly contextToGates: Linear | undefined;
  private readonly output: OutputLayer;
  /** With context_every_step: the output features' columns that change per step ([h; emb]); the context follows. */
  private readonly outputVaryingSize: number;

  constructor(config: Seq2SeqConfig, srcVocabSize: number, tgtVocabSize: number, seed: number) {
    super(config, srcVocabSize, tgtVocabSize, seed);
    const { cell, emb_size: E, hidden_size: H } = config;
    this.encoder = new RnnEncoder(this.params, config, srcVocabSize);
    this.embedding = new Embedding(this.params, 'decoder/embedding', tgtVocabSize, E, RNN_EMBEDDING_STD);
    this.decoder = new RnnStack(this.params, 'decoder', cell, E, H, config.layers);
    if (config.context_every_step) {
      this.contextToGates = new Linear(this.params, 'decoder/context', H, gateCount(cell) * H, false);
    }
    this.outputVaryingSize = H + E;
    const featureSize = config.context_every_step ? H + E + H : H;
    this.output = new OutputLayer(this.params, featureSize, tgtVocabSize, config.tie_embeddings ? this.embedding : undefined);
  }

  forward(batch: Batch, training: boolean, teacherForcing = 1): tf.Tensor3D {
    return tf.tidy(() => this.params.steps.pass(training, () => this.run(batch, training, teacherForcing)));
  }

  /** One forward pass; call it inside a pass of the model's StepMatMul. */
  private run(batch: Batch, training: boolean, teacherForcing: number): tf.Tensor3D {
    const dropout = (x: tf.Tensor) => this.rng.dropout(x, this.config.dropout, training);
    const { decoderInit } = this.encoder.encode(batch.src, batch.srcMask, training, this.rng);
    const context = decoderInit[decoderInit.length - 1]!.h;
    const contextGates = this.contextToGates?.apply(context);
    if (teacherForcing < 1) return this.forwardSampled(batch, training, teacherForcing, decoderInit, context, contextGates);

    // Full teacher forcing: no output feeds back, so each layer runs over the whole sequence.
    const emb = dropout(this.embedding.lookup(batch.tgtIn));
    let input0 = this.decoder.cells[0]!.projectInput(emb);
    if (contextGates) input0 = tf.add(input0, tf.expandDims(contextGates, 1));
    const h = this.decoder.run(input0, decoderInit, dropout);
    const T = batch.tgtIn.shape[1];
    const features = this.config.context_every_step
      ? tf.concat([h, emb, tf.tile(tf.expandDims(context, 1), [1, T, 1])], 2)
      : h;
    return this.output.apply(dropout(features)) as tf.Tensor3D;
  }

  /** Scheduled sampling: each step feeds the gold token with probability `teacherForcing`, else the model's argmax. */
  private forwardSampled(
    batch: Batch,
    training: boolean,
    teacherForcing: number,
    decoderInit: RnnState[],
    context: tf.Tensor2D,
    contextGates: tf.Tensor | undefined,
  ): tf.Tensor3D {
    const gold = tf.unstack(batch.tgtIn, 1);
    const logits: tf.Tensor[] = [];
    let states = decoderInit;
    for (let t = 0; t < gold.length; t++) {
      const useGold = t === 0 || this.rng.nextUniform() < teacherForcing;
      const prev = useGold ? gold[t]! : sampledTokens(logits[t - 1]!);
      const step = this.step(prev, states, contextGates, training);
      states = step.states;
      const features = this.config.context_every_step ? tf.concat([step.h, step.emb, context], 1) : step.h;
      logits.push(this.output.applyStep(this.rng.dropout(features, this.config.dropout, training)));
    }
    return tf.stack(logits, 1) as tf.Tensor3D;
  }

  /**
   * One decoder step for tokens prev [B]; shared by scheduled sampling and decoding. Returns the
   * top layer's h [B, H] and the (dropped-out) embedding [B, E]: with context_every_step the
   * output layer reads [h; emb; context].
   */
  private step(
    prev: tf.Tensor,
    states: RnnState[],
    contextGates: tf.Tensor | undefined,
    training: boolean,
  ): { h: tf.Tensor; emb: tf.Tensor; states: RnnState[] } {
    const dropout = (x: tf.Tensor) => this.rng.dropout(x, this.config.dropout, training);
    const emb = dropout(this.embedding.lookup(prev));
    let input0 = this.decoder.cells[0]!.projectStep(emb);
    if (contextGates) input0 = tf.add(input0, contextGates);
    const next = this.decoder.step(input0, states, dropout);
    return { h: next[next.length - 1]!.h, emb, states: next };
  }

  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): EncoderState {
    return tf.tidy(() => {
      const { decoderInit } = this.encoder.encode(src, srcMask, false, this.rng);
      const context = decoderInit[decoderInit.length - 1]!.h;
      // `context` is also the top layer's init state: clone it, since the caller disposes each tensor.
      const tensors: Record<string, tf.Tensor> = { ...statesToTensors(decoderInit, 'init_'), context: tf.clone(context) };
      if (this.contextToGates) tensors.contextGates = this.contextToGates.apply(context);
      // The context's share of the output projection is the same at every step: made once here.
      const outputConstant = this.config.context_every_step ? this.output.decodeConstant(context, this.outputVaryingSize) : undefined;
      if (outputConstant) tensors.outputConstant = outputConstant;
      return { tensors };
    });
  }

  initDecoderState(enc: EncoderState): DecoderState {
    const init = tensorsToStates(enc.tensors, 'init_', this.config.layers);
    return { tensors: tf.tidy(() => statesToTensors(init.map((s) => ({ h: tf.clone(s.h), c: s.c && tf.clone(s.c) })), '')), step: 0 };
  }

  decodeStep(enc: EncoderState, state: DecoderState, prev: tf.Tensor1D): StepOutput {
    return tf.tidy(() => {
      const states = tensorsToStates(state.tensors, '', this.config.layers);
      const { h, emb, states: next } = this.step(prev, states, enc.tensors.contextGates, false);
      const constant = enc.tensors.outputConstant as tf.Tensor2D | undefined;
      const logits = !this.config.context_every_step
        ? this.output.decode(h)
        : constant
          ? this.output.decodeWithConstant(tf.concat([h, emb], 1) as tf.Tensor2D, constant)
          : this.output.decode(tf.concat([h, emb, enc.tensors.context!], 1));
      const logProbs = logSoftmax(logits as tf.Tensor2D);
      return { logProbs, state: { tensors: statesToTensors(next, ''), step: state.step + 1 } };
    });
  }

  override dispose(): void {
    super.dispose();
    this.output.dispose();
  }
}
