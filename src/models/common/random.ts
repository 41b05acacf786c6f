/**
 * The model's own random stream for dropout masks and teacher-forcing coin flips. Its whole
 * state is one counter, so a checkpoint can save it and resume the exact same masks.
 */
import * as tf from '@tensorflow/tfjs';
import { deriveSeed } from './params.ts';

/**
 * An inverted-dropout mask: each element 1/(1 − rate) with probability 1 − rate, else 0, from
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32. tfjs's seeded randomUniform takes
 * ~23 ns per element in JS, which made dropout ~9% of a Transformer training step; this ~2 ns.
 */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  // All arithmetic stays in int32 (no `>>> 0`), which V8 keeps unboxed.
  let state = seed | 0;
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) | 0;
    let z = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return z ^ (z >>> 16);
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const scale = 1 / (1 - rate);
  // Keep an element when the top 24 bits of its number are ≥ rate · 2^24.
  const threshold = rate * 2 ** 24;
  const mask = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const m = Math.imul(b, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9) >>> 8;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    if (r >= threshold) mask[i] = scale;
  }
  return mask;
}

export class ModelRng {
  /** Number of draws so far. */
  state = 0;

  constructor(private readonly seed: number) {}

  /** A fresh nonzero seed for one random draw. */
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
    return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, this.nextSeed()), x.shape)) as T;
  }
}
