/** What every family shares: the weight registry, the random stream and batch-row selection. */
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../config/schema.ts';
import { modelFacts } from '../facts.ts';
import type { Batch, DecoderState, EncoderState, NmtModel, StepOutput } from '../types.ts';
import { ParamStore } from './params.ts';
import { ModelRng } from './random.ts';

/** Every tensor's first (batch) axis indexed by `indices`. */
function gatherRows(tensors: Record<string, tf.Tensor>, indices: tf.Tensor1D): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = tf.gather(t, indices);
  return out;
}

export abstract class BaseModel<C extends ModelConfig> implements NmtModel {
  readonly maxPositions: number;
  readonly hasAttention: boolean;
  readonly width: number;
  protected readonly params: ParamStore;
  protected readonly rng: ModelRng;

  constructor(
    readonly config: C,
    readonly srcVocabSize: number,
    readonly tgtVocabSize: number,
    seed: number,
  ) {
    ({ maxPositions: this.maxPositions, hasAttention: this.hasAttention, width: this.width } = modelFacts(config));
    this.params = new ParamStore(seed);
    this.rng = new ModelRng(seed);
  }

  get variables(): tf.Variable[] {
    return this.params.variables;
  }

  get namedVariables(): ReadonlyMap<string, tf.Variable> {
    return this.params.named;
  }

  get rngState(): number {
    return this.rng.state;
  }

  set rngState(state: number) {
    this.rng.state = state;
  }

  abstract forward(batch: Batch, training: boolean, teacherForcing?: number): tf.Tensor3D;
  abstract encode(src: tf.Tensor2D, srcMask: tf.Tensor2D): EncoderState;
  abstract initDecoderState(enc: EncoderState): DecoderState;
  abstract decodeStep(enc: EncoderState, state: DecoderState, prev: tf.Tensor1D): StepOutput;

  selectEncoder(enc: EncoderState, indices: tf.Tensor1D): EncoderState {
    return { tensors: gatherRows(enc.tensors, indices) };
  }

  selectState(state: DecoderState, indices: tf.Tensor1D): DecoderState {
    return { tensors: gatherRows(state.tensors, indices), step: state.step };
  }

  parameterCount(): number {
    return this.params.count();
  }

  dispose(): void {
    this.params.dispose();
  }
}
