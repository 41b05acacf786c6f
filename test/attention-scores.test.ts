/**
 * Expected values for each attention score function of src/models/attention/attention.ts, on one
 * example small enough to work out by hand: hidden size H = 2, two queries over three source
 * positions, with the layer weights set explicitly.
 *
 * Layers compute y = x W (+ b) with W stored [in, out] and x a row vector; the matrices below are
 * written in that layout, row by row.
 *
 *   memory (keys and values)  m1 = (1, 0), m2 = (0, 1), m3 = (1, 1)
 *   queries                   q1 = (1, 2), q2 = (2, −1)
 *
 * Each example runs as a batch of two copies of the same input: row 0 with all three positions
 * real, row 1 with position 3 padded (source mask [1, 1, 0]). The padded position must get
 * weight 0 and the other two the softmax of their own scores.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { Attention, maskBias, type AttentionKind } from '../src/models/attention/attention.ts';
import { ParamStore } from '../src/models/common/params.ts';

before(async () => {
  await initBackend('wasm');
});

const H = 2;
const MEMORY = [[1, 0], [0, 1], [1, 1]];
const QUERIES = [[1, 2], [2, -1]];
const SQRT2 = Math.SQRT2;
const { tanh } = Math;

/**
 * Hand-computed alignment scores [query][position] of each kind, and the weights each kind's
 * layers are given (by variable name, [in, out] layout).
 */
const CASES: Record<AttentionKind, { weights: Record<string, number[][] | number[]>; scores: number[][] }> = {
  // score(q, m) = q · m
  //   q1 = (1, 2):  m1 → 1·1 + 2·0 = 1    m2 → 1·0 + 2·1 = 2    m3 → 1·1 + 2·1 = 3
  //   q2 = (2, −1): m1 → 2·1 − 1·0 = 2    m2 → 2·0 − 1·1 = −1   m3 → 2·1 − 1·1 = 1
  luong_dot: {
    weights: {},
    scores: [
      [1, 2, 3],
      [2, -1, 1],
    ],
  },
  // score(q, m) = q · (m W), W = [[0, 1], [2, 0]] (not symmetric, so using Wᵀ would show):
  //   m1 W = (1·0 + 0·2, 1·1 + 0·0) = (0, 1)
  //   m2 W = (0·0 + 1·2, 0·1 + 1·0) = (2, 0)
  //   m3 W = (1·0 + 1·2, 1·1 + 1·0) = (2, 1)
  //   q1 = (1, 2):  (0, 1) → 2     (2, 0) → 2    (2, 1) → 1·2 + 2·1 = 4
  //   q2 = (2, −1): (0, 1) → −1    (2, 0) → 4    (2, 1) → 2·2 − 1·1 = 3
  luong_general: {
    weights: { 'attention/key/weight': [[0, 1], [2, 0]] },
    scores: [
      [2, 2, 4],
      [-1, 4, 3],
    ],
  },
  // score(q, m) = q · m / √H = the dot scores divided by √2.
  luong_scaled_dot: {
    weights: {},
    scores: [
      [1 / SQRT2, 2 / SQRT2, 3 / SQRT2],
      [2 / SQRT2, -1 / SQRT2, 1 / SQRT2],
    ],
  },
  // score(q, m) = tanh(q W_q + m W_k + b_k) · v with
  //   W_q = [[1, 0], [0, −1]], W_k = [[1, 1], [0, 1]], b_k = (0, −1), v = (1, 2) (stored [[1], [2]]).
  //   q1 W_q = (1·1 + 2·0, 1·0 + 2·(−1)) = (1, −2)      q2 W_q = (2·1 − 1·0, 2·0 + (−1)·(−1)) = (2, 1)
  //   m1 W_k + b_k = (1, 1) + (0, −1) = (1, 0)
  //   m2 W_k + b_k = (0, 1) + (0, −1) = (0, 0)
  //   m3 W_k + b_k = (1, 2) + (0, −1) = (1, 1)
  //   sums (before tanh):  q1: (2, −2) (1, −2) (2, −1)      q2: (3, 1) (2, 1) (3, 2)
  //   score = tanh(a) + 2·tanh(b):
  //   q1: tanh 2 − 2 tanh 2 = −tanh 2,  tanh 1 − 2 tanh 2,  tanh 2 − 2 tanh 1
  //   q2: tanh 3 + 2 tanh 1,  tanh 2 + 2 tanh 1,  tanh 3 + 2 tanh 2
  bahdanau: {
    weights: {
      'attention/query/weight': [[1, 0], [0, -1]],
      'attention/key/weight': [[1, 1], [0, 1]],
      'attention/key/bias': [0, -1],
      'attention/score/weight': [[1], [2]],
    },
    scores: [
      [-tanh(2), tanh(1) - 2 * tanh(2), tanh(2) - 2 * tanh(1)],
      [tanh(3) + 2 * tanh(1), tanh(2) + 2 * tanh(1), tanh(3) + 2 * tanh(2)],
    ],
  },
};

const KINDS = Object.keys(CASES) as AttentionKind[];

/** softmax(s)_i = e^{s_i} / Σ_j e^{s_j} */
function softmax(scores: number[]): number[] {
  const e = scores.map((s) => Math.exp(s));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** Expected weights [batch row][query][position]: row 1 has position 3 padded. */
function expectedWeights(scores: number[][]): number[][][] {
  return [scores.map(softmax), scores.map((s) => [...softmax(s.slice(0, 2)), 0])];
}

/** context = Σ_s w_s m_s = (w1 + w3, w2 + w3) for m1 = (1, 0), m2 = (0, 1), m3 = (1, 1). */
function expectedContext(weights: number[][][]): number[][][] {
  return weights.map((row) => row.map(([w1, w2, w3]) => [w1! + w3!, w2! + w3!]));
}

function assertClose(actual: number[][][], expected: number[][][], tol: number, what: string): void {
  const a = actual.flat(2);
  const e = expected.flat(2);
  assert.equal(a.length, e.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - e[i]!) <= tol, `${what}[${i}]: ${x} vs ${e[i]} (all: ${a.join(', ')} vs ${e.join(', ')})`));
}

/** Build an Attention of `kind` with the case's weights, attend, and read back weights and context. */
function run(kind: AttentionKind): { weights: number[][][]; context: number[][][]; paramNames: string[] } {
  const params = new ParamStore(1);
  try {
    const attention = new Attention(params, kind, H);
    const paramNames = [...params.named.keys()].sort();
    for (const [name, value] of Object.entries(CASES[kind].weights)) {
      const variable = params.named.get(name);
      assert.ok(variable, `${kind}: no variable ${name} (has ${paramNames.join(', ')})`);
      const t = tf.tensor(value);
      assert.deepEqual(t.shape, variable.shape, `${kind}: shape of ${name}`);
      variable.assign(t);
      t.dispose();
    }
    let out!: { weights: number[][][]; context: number[][][] };
    tf.tidy(() => {
      const memory = tf.tensor3d([MEMORY, MEMORY]);
      const query = tf.tensor3d([QUERIES, QUERIES]);
      const bias = maskBias(tf.tensor2d([[1, 1, 1], [1, 1, 0]]));
      const { weights, context } = attention.attend(query, attention.prepareKeys(memory), memory, bias);
      assert.deepEqual(weights.shape, [2, 2, 3]);
      assert.deepEqual(context.shape, [2, 2, 2]);
      out = { weights: weights.arraySync(), context: context.arraySync() };
    });
    return { ...out, paramNames };
  } finally {
    params.dispose();
  }
}

describe('attention score functions (hand-computed 2 queries × 3 positions)', () => {
  for (const kind of KINDS) {
    it(`${kind}: softmax weights and context vectors, with and without a padded position`, () => {
      const tensorsBefore = tf.memory().numTensors;
      const { weights, context } = run(kind);
      const expected = expectedWeights(CASES[kind].scores);
      assertClose(weights, expected, 1e-5, `${kind} weights`);
      assertClose(context, expectedContext(expected), 1e-5, `${kind} context`);
      // The weights pin the scores themselves up to a shift: ln(w_s / w_1) = score_s − score_1.
      CASES[kind].scores.forEach((scores, t) => {
        for (const s of [1, 2]) {
          const got = Math.log(weights[0]![t]![s]! / weights[0]![t]![0]!);
          assert.ok(Math.abs(got - (scores[s]! - scores[0]!)) < 1e-4, `${kind} q${t + 1}: score${s + 1} − score1 = ${got}, expected ${scores[s]! - scores[0]!}`);
        }
      });
      // The padded position gets exactly nothing.
      for (const t of [0, 1]) assert.equal(weights[1]![t]![2], 0, `${kind} q${t + 1}: weight of the padded position`);
      assert.equal(tf.memory().numTensors, tensorsBefore, `${kind}: tensors leaked`);
    });
  }

  it('each kind has the weights its formula needs, and no others', () => {
    assert.deepEqual(run('luong_dot').paramNames, []);
    assert.deepEqual(run('luong_scaled_dot').paramNames, []);
    assert.deepEqual(run('luong_general').paramNames, ['attention/key/weight']);
    assert.deepEqual(run('bahdanau').paramNames, [
      'attention/key/bias',
      'attention/key/weight',
      'attention/query/weight',
      'attention/score/weight',
    ]);
  });

  it('the examples tell every pair of kinds apart (a swapped or unscaled score could not pass)', () => {
    for (const a of KINDS) {
      for (const b of KINDS) {
        if (a >= b) continue;
        const wa = expectedWeights(CASES[a].scores).flat(2);
        const wb = expectedWeights(CASES[b].scores).flat(2);
        const gap = Math.max(...wa.map((x, i) => Math.abs(x - wb[i]!)));
        assert.ok(gap > 0.05, `${a} vs ${b}: expected weights differ by at most ${gap}`);
      }
    }
  });
});
