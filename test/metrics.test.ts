/**
 * Every case of test/fixtures/sacrebleu-vectors.json (scores computed by sacreBLEU 2.6.0, see
 * test/fixtures/README.md):
 * each field of `expected` must match — floats to 1e-6, integers exactly, signatures exactly
 * except the version field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runVectorsCase, VectorsCaseSchema } from '../src/metrics/vectors.ts';
import { differences, readVectors } from './helpers/sacrebleu-vectors.ts';

type VectorsCase = Record<string, unknown> & { name: string; expected: Record<string, unknown> };

const vectors = readVectors<VectorsCase>();

describe('sacreBLEU vectors', () => {
  it('the file is the expected one (sacreBLEU 2.6.0, 30 cases)', () => {
    assert.equal(vectors.generator.sacrebleu_version, '2.6.0');
    assert.ok(vectors.cases.length >= 30);
  });

  for (const c of vectors.cases) {
    it(c.name, () => {
      const { expected, ...input } = c;
      const actual = runVectorsCase(VectorsCaseSchema.parse(input));
      assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
      assert.deepEqual(differences(actual, expected, c.name), []);
    });
  }

  it('the comparison catches a wrong value (the harness can fail)', () => {
    const c = vectors.cases[0]!;
    const { expected, ...input } = c;
    const actual = runVectorsCase(VectorsCaseSchema.parse(input)) as Record<string, { score: number }>;
    const metric = Object.keys(actual)[0]!;
    actual[metric]!.score += 1e-5;
    assert.notDeepEqual(differences(actual, expected, c.name), []);
  });
});
