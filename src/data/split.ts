/**
 * The seeded held-out split: which lines of the cleaned training data become valid and test pairs.
 * Only the chosen line indices are held in memory (Floyd's sampling), never the corpus.
 */
import { mulberry32 } from '../util/random.ts';

/** `k` distinct indices drawn uniformly from [0, n) (Floyd's algorithm: O(k) memory, any n). */
export function sampleIndices(n: number, k: number, rand: () => number): Set<number> {
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(rand() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return chosen;
}

export type HeldOut = 'valid' | 'test';

/**
 * Assign `validSize` + `testSize` of `n` lines to valid and test, at random but reproducibly:
 * the same n, sizes and seed always give the same lines. Lines not in the map stay in train.
 */
export function heldOutLines(n: number, validSize: number, testSize: number, seed: number): Map<number, HeldOut> {
  const rand = mulberry32(seed);
  const picked = [...sampleIndices(n, validSize + testSize, rand)].sort((a, b) => a - b);
  // Shuffle (Fisher–Yates) so that which picked line goes to valid and which to test is random too.
  for (let i = picked.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [picked[i], picked[j]] = [picked[j]!, picked[i]!];
  }
  return new Map(picked.map((line, i) => [line, i < validSize ? 'valid' : 'test']));
}
