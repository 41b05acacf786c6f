/**
 * The committed sacreBLEU 2.6.0 vectors (test/fixtures/README.md) and the one comparison rule both
 * the library test and the command-line test apply: floats to 1e-6, the README's integer fields
 * exactly, signatures exactly except the version field.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './cli.ts';

export const VECTORS_FILE = path.join(REPO_ROOT, 'test', 'fixtures', 'sacrebleu-vectors.json');

/** The fixture, its cases typed as the caller needs them. */
export function readVectors<Case>(): { generator: { sacrebleu_version: string }; cases: Case[] } {
  return JSON.parse(fs.readFileSync(VECTORS_FILE, 'utf8')) as { generator: { sacrebleu_version: string }; cases: Case[] };
}

/** The README's integer fields; every other number is a float compared to 1e-6. */
const INTEGER_FIELD = /\.(counts\[\d\]|totals\[\d\]|sys_len|ref_len|num_edits)$/;

/** A signature without its `version:` / `v:` field. */
const withoutVersion = (sig: string): string =>
  sig
    .split('|')
    .filter((f) => !/^(version|v):/.test(f))
    .join('|');

/** Every field of `expected` compared with `actual`; the paths that differ. */
export function differences(actual: unknown, expected: unknown, where: string): string[] {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return [`${where}: expected ${expected}, got ${String(actual)}`];
    const ok = INTEGER_FIELD.test(where) ? actual === expected : Math.abs(actual - expected) <= 1e-6;
    return ok ? [] : [`${where}: expected ${expected}, got ${actual}`];
  }
  if (typeof expected === 'string') {
    const ok = /signature(_short)?$/.test(where)
      ? typeof actual === 'string' && withoutVersion(actual) === withoutVersion(expected)
      : actual === expected;
    return ok ? [] : [`${where}: expected ${expected}, got ${String(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${where}: expected ${expected.length} items`];
    return expected.flatMap((e, i) => differences(actual[i], e, `${where}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return [`${where}: expected an object, got ${String(actual)}`];
    return Object.entries(expected).flatMap(([k, e]) => differences((actual as Record<string, unknown>)[k], e, `${where}.${k}`));
  }
  return actual === expected ? [] : [`${where}: expected ${String(expected)}, got ${String(actual)}`];
}
