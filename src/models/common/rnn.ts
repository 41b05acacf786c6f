/**
 * GRU and LSTM cells and stacks of them, shared by the seq2seq and attention families.
 *
 * Speed (wasm): each cell has ONE input kernel and ONE recurrent kernel for all its gates, and
 * the input side is projected for a whole sequence at once outside the time loop
 * (`projectInput` on [B, T, In] is a single 2-D matmul), so a time step costs one small matmul
 * plus a handful of elementwise ops.
 */
import * as tf from '@tensorflow/tfjs';
import { matMulLast, tanh, tidyRecord, type StepMatMul } from './ops.ts';
import type { ParamStore } from './params.ts';

export type CellKind = 'gru' | 'lstm';

/** One layer's recurrent state: h, plus the memory cell c for LSTMs. */
export interface RnnState {
  h: tf.Tensor2D;
  c?: tf.Tensor2D;
}

/** Number of gate blocks per cell: GRU r, z, n; LSTM i, f, o, g. */
export function gateCount(kind: CellKind): number {
  return kind === 'gru' ? 3 : 4;
}

export class RnnCell {
  readonly inputKernel: tf.Variable;
  readonly recurrentKernel: tf.Variable;
  readonly bias: tf.Variable;
  /** GRU only: the candidate's recurrent bias sits inside r ⊙ (…), so it cannot merge into `bias`. */
  readonly recurrentBias: tf.Variable | undefined;
  /** The model's time-loop matmuls: every step multiplies by the recurrent kernel. */
  private readonly steps: StepMatMul;

  constructor(
    params: ParamStore,
    name: string,
    readonly kind: CellKind,
    inputSize: number,
    readonly hiddenSize: number,
  ) {
    const g = gateCount(kind) * hiddenSize;
    this.inputKernel = params.glorot(`${name}/${kind}/input_kernel`, inputSize, g);
    this.recurrentKernel = params.glorot(`${name}/${kind}/recurrent_kernel`, hiddenSize, g);
    this.bias = params.zeros(`${name}/${kind}/bias`, [g]);
    this.recurrentBias = kind === 'gru' ? params.zeros(`${name}/${kind}/recurrent_bias`, [g]) : undefined;
    this.steps = params.steps;
  }

  /** x [..., In] → [..., G·H]: the input's contribution to every gate. */
  projectInput(x: tf.Tensor): tf.Tensor {
    return tf.add(matMulLast(x, this.inputKernel as tf.Tensor2D), this.bias);
  }

  /** projectInput() of one time step's input x [B, In], inside a time loop (see StepMatMul). */
  projectStep(x: tf.Tensor): tf.Tensor {
    return tf.add(this.steps.apply(x, this.inputKernel as tf.Tensor2D), this.bias);
  }

  zeroState(batch: number): RnnState {
    const h = tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D;
    return this.kind === 'lstm' ? { h, c: tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D } : { h };
  }

  /** One step from the projected input xProj [B, G·H]. */
  step(xProj: tf.Tensor, state: RnnState): RnnState {
    const H = this.hiddenSize;
    const hProj = this.steps.apply(state.h, this.recurrentKernel as tf.Tensor2D);
    if (this.kind === 'gru') {
      const [xrz, xn] = tf.split(xProj, [2 * H, H], 1);
      const [hrz, hn] = tf.split(tf.add(hProj, this.recurrentBias!), [2 * H, H], 1);
      const [r, z] = tf.split(tf.sigmoid(tf.add(xrz!, hrz!)), 2, 1);
      const candidate = tanh(tf.add(xn!, tf.mul(r!, hn!)));
      // h' = (1 − z) ⊙ n + z ⊙ h, with one multiply fewer.
      return { h: tf.add(candidate, tf.mul(z!, tf.sub(state.h, candidate))) as tf.Tensor2D };
    }
    const [ifo, g] = tf.split(tf.add(xProj, hProj), [3 * H, H], 1);
    const [i, f, o] = tf.split(tf.sigmoid(ifo!), 3, 1);
    const c = tf.add(tf.mul(f!, state.c!), tf.mul(i!, tanh(g!))) as tf.Tensor2D;
    return { h: tf.mul(o!, tanh(c)) as tf.Tensor2D, c };
  }
}

/**
 * old + m ⊙ (next − old) with m [B, 1] 1/0: padded steps (m = 0) keep the old state exactly.
 * Cheaper than tf.where, which tiles the mask and has a heavier gradient.
 */
function keepOnPadding(next: RnnState, old: RnnState, m: tf.Tensor): RnnState {
  const blend = (n: tf.Tensor2D, o: tf.Tensor2D) => tf.add(o, tf.mul(m, tf.sub(n, o))) as tf.Tensor2D;
  return next.c ? { h: blend(next.h, old.h), c: blend(next.c, old.c!) } : { h: blend(next.h, old.h) };
}

/**
 * Run one cell over a sequence whose input projections xProj [B, T, G·H] are precomputed.
 * With `mask` [B, T], padded steps keep the previous state, so the final state is the one after
 * the last real token in either direction and padding never changes the result.
 */
export function runCell(
  cell: RnnCell,
  xProj: tf.Tensor,
  init: RnnState,
  mask?: tf.Tensor2D,
  reverse = false,
): { outputs: tf.Tensor3D; final: RnnState } {
  const inputs = tf.unstack(xProj, 1);
  const valid = mask ? tf.unstack(tf.expandDims(mask, 2), 1) : undefined;
  const outputs: tf.Tensor[] = new Array(inputs.length);
  let state = init;
  for (let k = 0; k < inputs.length; k++) {
    const t = reverse ? inputs.length - 1 - k : k;
    const previous = state;
    // Each step in its own tidy: its intermediates that the backward does not save are freed now,
    // not at the end of the whole forward pass.
    state = tidyRecord(() => {
      const next = cell.step(inputs[t]!, previous);
      return valid ? keepOnPadding(next, previous, valid[t]!) : next;
    });
    outputs[t] = state.h;
  }
  return { outputs: tf.stack(outputs, 1) as tf.Tensor3D, final: state };
}

/** A stack of cells; layer l > 0 takes layer l − 1's output (after dropout) as input. */
export class RnnStack {
  readonly cells: RnnCell[];

  constructor(params: ParamStore, name: string, kind: CellKind, inputSize: number, hiddenSize: number, layers: number) {
    this.cells = Array.from(
      { length: layers },
      (_, l) => new RnnCell(params, `${name}/layer${l}`, kind, l === 0 ? inputSize : hiddenSize, hiddenSize),
    );
  }

  /** One time step through all layers; `input0` is layer 0's projected input [B, G·H]. */
  step(input0: tf.Tensor, states: RnnState[], dropout: (x: tf.Tensor) => tf.Tensor): RnnState[] {
    const next: RnnState[] = [];
    let input = input0;
    this.cells.forEach((cell, l) => {
      next.push(cell.step(input, states[l]!));
      if (l + 1 < this.cells.length) input = this.cells[l + 1]!.projectStep(dropout(next[l]!.h));
    });
    return next;
  }

  /**
   * A whole sequence, layer after layer (valid whenever no output feeds back into the input).
   * Same maths as calling `step` T times. Returns the top layer's outputs [B, T, H].
   */
  run(input0: tf.Tensor, states: RnnState[], dropout: (x: tf.Tensor) => tf.Tensor): tf.Tensor3D {
    let outputs: tf.Tensor3D | undefined;
    this.cells.forEach((cell, l) => {
      const xProj = l === 0 ? input0 : cell.projectInput(dropout(outputs!));
      outputs = runCell(cell, xProj, states[l]!).outputs;
    });
    return outputs!;
  }
}

/** RNN states ⇄ the flat tensor records that encoder/decoder states are made of. */
export function statesToTensors(states: RnnState[], prefix: string): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  states.forEach((s, l) => {
    out[`${prefix}h${l}`] = s.h;
    if (s.c) out[`${prefix}c${l}`] = s.c;
  });
  return out;
}

export function tensorsToStates(tensors: Record<string, tf.Tensor>, prefix: string, layers: number): RnnState[] {
  return Array.from({ length: layers }, (_, l) => {
    const h = tensors[`${prefix}h${l}`] as tf.Tensor2D;
    const c = tensors[`${prefix}c${l}`] as tf.Tensor2D | undefined;
    return c ? { h, c } : { h };
  });
}

/**
 * The model's own prediction for the next input (teacher forcing < 1). It stays on the backend:
 * the gather gradient gives integer ids a zero gradient (src/backend/gradients.ts).
 */
export function sampledTokens(logits: tf.Tensor): tf.Tensor1D {
  return tf.argMax(logits, 1) as tf.Tensor1D;
}
