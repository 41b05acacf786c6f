/**
 * Every case of test/fixtures/sacrebleu-vectors.json (scores computed by sacreBLEU 2.6.0, see
 * test/fixtures/README.md):
 * each field of `expected` must match — floats to 1e-6, integers exactly, signatures exactly
 * except the version field.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runVectorsCase, VectorsCaseSchema } from '../src/metrics/vectors.ts';
import { REPO_ROOT } from './helpers/cli.ts';

interface VectorsFile {
  generator: { sacrebleu_version: string };
  cases: (Record<string, unknown> & { name: string; expected: Record<string, unknown> })[];
}

const VECTORS = path.join(REPO_ROOT, 'test', 'fixtures', 'sacrebleu-vectors.json');
const vectors = JSON.parse(fs.readFileSync(VECTORS, 'utf8')) as VectorsFile;

/** The README's integer fields; every other number is a float compared to 1e-6. */
const INTEGER_FIELD = /\.(counts\[\d\]|totals\[\d\]|sys_len|ref_len|num_edits)$/;

/** A signature without its `version:` / `v:` field. */
const withoutVersion = (sig: string): string =>
  sig
    .split('|')
    .filter((f) => !/^(version|v):/.test(f))
    .join('|');

/** Compare `actual` with `expected` field by field; returns the paths that differ. */
function differences(actual: unknown, expected: unknown, where: string): string[] {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return [`${where}: expected ${expected}, got ${String(actual)}`];
    const ok = INTEGER_FIELD.test(where) ? actual === expected : Math.abs(actual - expected) <= 1e-6;
    return ok ? [] : [`${where}: expected ${expected}, got ${actual}`];
  }
  if (typeof expected === 'string') {
    const ok = where.endsWith('signature') || where.endsWith('signature_short')
      ? typeof actual === 'string' && withoutVersion(actual) === withoutVersion(expected)
      : actual === expected;
    return ok ? [] : [`${where}: expected ${expected}, got ${String(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${where}: expected ${expected.length} items`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${where}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${where}: expected an object`];
    return Object.entries(expected).flatMap(([k, e]) => differences((actual as Record<string, unknown>)[k], e, `${where}.${k}`));
  }
  return actual === expected ? [] : [`${where}: expected ${String(expected)}, got ${String(actual)}`];
}

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
