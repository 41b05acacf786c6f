/**
 * The model's own random stream for dropout masks and teacher-forcing coin flips. Its whole
 * state is one counter, so a checkpoint can save it and resume the exact same masks.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from './params.ts';

export class ModelRng {
  /** Number of draws so far. */
  state = 0;

  constructor(private readonly seed: number) {}

  /** A fresh nonzero seed for one tfjs random op. */
  nextSeed(): number {
    return deriveSeed(this.seed, `rng${this.state++}`);
  }

  /** A uniform number in [0, 1). */
  nextUniform(): number {
    return (this.nextSeed() - 1) / 2147483646;
  }

  /** Inverted dropout (scaled at training time); the identity when not training or rate 0. */
  dropout<T extends tf.Tensor>(x: T, rate: number, training: boolean): T {
    if (!training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, this.nextSeed()) as T;
  }
}
