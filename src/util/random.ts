/**
 * mt's seeded pseudo-random generators, all in one place. Math.random cannot be seeded, and
 * library generators may change between versions; these give the same stream for the same seed
 * on every platform and Node version, which the tests, checkpoints and generated corpora pin:
 *
 *   mulberry32   floats in [0, 1) from one uint32 of state: corpus generation, held-out splits,
 *                subword sentence sampling
 *   splitmix32   spreads a seed over the state of the larger generators below
 *   Xoshiro128   xoshiro128** (Blackman & Vigna): bootstrap resampling and randomization tests
 *   Sfc32        sfc32, whose whole state (four uint32) can be saved and restored: training's
 *                batch shuffles, so that a resumed run continues exactly where it stopped
 *
 * Dropout masks (models/common/random.ts) run xoshiro128** inline over int32 for speed, seeded
 * through splitmix32 from here.
 */

/** mulberry32: a seeded generator of floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** splitmix32: a stream of uint32 from a seed, for seeding generators with a larger state. */
export function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** xoshiro128**, seeded through splitmix32. */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const next = splitmix32(seed);
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform integer in [0, n), without modulo bias (n ≤ 2^32). */
  int(n: number): number {
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const r = this.uint32();
      if (r < limit) return r % n;
    }
  }
}

/** The whole state of an Sfc32: four uint32, as a checkpoint stores it. */
export type Sfc32State = [number, number, number, number];

/** sfc32, whose state can be written into a checkpoint and restored. */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(state: Sfc32State) {
    [this.a, this.b, this.c, this.d] = state;
  }

  /** A generator seeded from an integer (splitmix32 spreads the seed over the state). */
  static fromSeed(seed: number): Sfc32 {
    const next = splitmix32(seed);
    const rng = new Sfc32([next(), next(), next(), next()]);
    // The first outputs of a freshly seeded sfc32 are weakly mixed; discard a few.
    for (let i = 0; i < 12; i++) rng.uint32();
    return rng;
  }

  static fromState(state: readonly number[]): Sfc32 {
    if (state.length !== 4 || !state.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) {
      throw new Error(`invalid RNG state ${JSON.stringify(state)}`);
    }
    return new Sfc32([state[0]!, state[1]!, state[2]!, state[3]!]);
  }

  state(): Sfc32State {
    return [this.a, this.b, this.c, this.d];
  }

  uint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = (this.b ^ (this.b >>> 9)) >>> 0;
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
