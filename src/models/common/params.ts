/**
 * The variable registry every model builds its weights through: stable names, deterministic
 * seeded initialisation, parameter counting and disposal in one place. It also hands the
 * layers their model's StepMatMul (the per-pass transposes of these weights in time loops).
 */
import * as tf from '@tensorflow/tfjs';
import { StepMatMul } from './ops.ts';

let instances = 0;

/**
 * A seed for one variable from the model seed and the variable's name (FNV-1a), so that each
 * variable's initial values depend only on (seed, name), not on creation order. Never 0:
 * tfjs treats a zero seed as "unseeded".
 */
export function deriveSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // murmur3's finaliser, so that names differing in one character give unrelated seeds.
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return (h % 2147483646) + 1;
}

export class ParamStore {
  readonly named = new Map<string, tf.Variable>();
  /** The model's matmuls in time loops: layers use it at every step, the model opens a pass around each forward. */
  readonly steps = new StepMatMul();
  /** tfjs requires globally unique variable names; the prefix keeps two live models apart. */
  private readonly prefix = `model${++instances}/`;

  constructor(private readonly seed: number) {}

  /** Glorot/Xavier uniform: the default for weight matrices [fanIn, fanOut]. */
  glorot(name: string, fanIn: number, fanOut: number): tf.Variable {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return this.add(name, tf.randomUniform([fanIn, fanOut], -limit, limit, 'float32', deriveSeed(this.seed, name)));
  }

  /** Truncated normal with the given standard deviation (embeddings, learned positions). */
  normal(name: string, shape: number[], std: number): tf.Variable {
    return this.add(name, tf.truncatedNormal(shape, 0, std, 'float32', deriveSeed(this.seed, name)));
  }

  zeros(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.zeros(shape));
  }

  ones(name: string, shape: number[]): tf.Variable {
    return this.add(name, tf.ones(shape));
  }

  get variables(): tf.Variable[] {
    return [...this.named.values()];
  }

  count(): number {
    let n = 0;
    for (const v of this.named.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.named.values()) v.dispose();
    this.named.clear();
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    if (this.named.has(name)) throw new Error(`mt: variable ${name} defined twice`);
    const v = tf.variable(init, true, this.prefix + name);
    init.dispose();
    this.named.set(name, v);
    return v;
  }
}
