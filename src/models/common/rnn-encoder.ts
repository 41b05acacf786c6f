/**
 * The RNN encoder shared by the seq2seq and attention families: source embedding, n layers,
 * optionally bidirectional. A bidirectional layer runs hidden_size/2 units per direction, so
 * the memory (encoder states) is always [B, S, hidden_size] and every attention score works;
 * the final states of both directions are combined by a projection (tanh) into the decoder's
 * initial state for that layer.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { Embedding, Linear, RNN_EMBEDDING_STD } from './layers.ts';
import { tanh } from './ops.ts';
import type { ParamStore } from './params.ts';
import type { ModelRng } from './random.ts';
import { RnnCell, runCell, type RnnState } from './rnn.ts';

export type RnnConfig = Extract<ModelConfig, { type: 'seq2seq' | 'attention' }>;

export interface EncodedSource {
  /** Top layer's states at every source position [B, S, H] (padded positions: don't care). */
  memory: tf.Tensor3D;
  /** The decoder's initial state, one per layer. */
  decoderInit: RnnState[];
}

interface EncoderLayer {
  forward: RnnCell;
  backward?: RnnCell;
  /** bidirectional: [h_fw; h_bw] → decoder init h (and c for LSTMs). */
  bridgeH?: Linear;
  bridgeC?: Linear;
}

export class RnnEncoder {
  readonly embedding: Embedding;
  private readonly layers: EncoderLayer[];

  constructor(params: ParamStore, private readonly config: RnnConfig, vocabSize: number) {
    const { cell, emb_size: E, hidden_size: H, bidirectional } = config;
    this.embedding = new Embedding(params, 'encoder/embedding', vocabSize, E, RNN_EMBEDDING_STD);
    const dirSize = bidirectional ? H / 2 : H;
    this.layers = Array.from({ length: config.layers }, (_, l) => {
      const name = `encoder/layer${l}`;
      const inSize = l === 0 ? E : H;
      if (!bidirectional) return { forward: new RnnCell(params, `${name}/forward`, cell, inSize, H) };
      return {
        forward: new RnnCell(params, `${name}/forward`, cell, inSize, dirSize),
        backward: new RnnCell(params, `${name}/backward`, cell, inSize, dirSize),
        bridgeH: new Linear(params, `${name}/bridge_h`, H, H),
        bridgeC: cell === 'lstm' ? new Linear(params, `${name}/bridge_c`, H, H) : undefined,
      };
    });
  }

  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D, training: boolean, rng: ModelRng): EncodedSource {
    const batch = src.shape[0];
    const dropout = (x: tf.Tensor) => rng.dropout(x, this.config.dropout, training);
    let input = dropout(this.embedding.lookup(src));
    const decoderInit: RnnState[] = [];
    this.layers.forEach((layer, l) => {
      if (l > 0) input = dropout(input);
      const fw = runCell(layer.forward, layer.forward.projectInput(input), layer.forward.zeroState(batch), srcMask);
      if (!layer.backward) {
        input = fw.outputs;
        decoderInit.push(fw.final);
        return;
      }
      const bw = runCell(layer.backward, layer.backward.projectInput(input), layer.backward.zeroState(batch), srcMask, true);
      input = tf.concat([fw.outputs, bw.outputs], 2);
      const h = tanh(layer.bridgeH!.apply(tf.concat([fw.final.h, bw.final.h], 1))) as tf.Tensor2D;
      const c = layer.bridgeC && (tanh(layer.bridgeC.apply(tf.concat([fw.final.c!, bw.final.c!], 1))) as tf.Tensor2D);
      decoderInit.push(c ? { h, c } : { h });
    });
    return { memory: input as tf.Tensor3D, decoderInit };
  }
}
