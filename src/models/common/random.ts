/**
 * The model's own random stream for dropout masks and teacher-forcing coin flips. Its whole
 * state is one counter, so a checkpoint can save it and resume the exact same masks.
 */
import * as tf from '@tensorflow/tfjs';
import { splitmix32 } from '../../util/random.ts';
import { maskedMul } from './ops.ts';
import { deriveSeed } from './params.ts';

/**
 * An inverted-dropout mask: each element 1/(1 − rate) with probability 1 − rate, else 0, from
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32. tfjs's seeded randomUniform takes
 * ~23 ns per element in JS, which made dropout ~9% of a Transformer training step; this ~2 ns.
 *
 * The generator's step is written out here rather than calling util/random.ts's Xoshiro128: this
 * loop runs once per activation of every training step, and kept in local int32 variables (no
 * `>>> 0`, no object fields) V8 keeps the state unboxed in registers. It is the same algorithm
 * and the same stream as Xoshiro128 (its bits, read as int32); only the seeding is shared.
 */
export function dropoutMask(size: number, rate: number, seed: number): Float32Array {
  // `| 0` reads splitmix32's uint32 as int32 (the same bits), which V8 keeps unboxed.
  const splitmix = splitmix32(seed);
  let a = splitmix() | 0;
  let b = splitmix() | 0;
  let c = splitmix() | 0;
  let d = splitmix() | 0;
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
    return maskedMul(x, tf.tensor(dropoutMask(x.size, rate, this.nextSeed()), x.shape)) as T;
  }
}
