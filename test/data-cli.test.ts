import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { DataReport } from '../src/data/report.ts';
import { runMt, SHARED, tempDir, type CliResult } from './helpers/cli.ts';
import { missingShared } from './helpers/requirements.ts';

/** A folder with the given files and exp.yaml whose data section trains on a.de/a.en. */
function project(files: Record<string, string | Buffer>, clean = ''): string {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  const yaml = [
    'data:',
    '  src_lang: de',
    '  tgt_lang: en',
    '  train: [{ src: a.de, tgt: a.en }]',
    '  split: { valid_size: 1, test_size: 1 }',
    `  clean: { ${clean} }`,
    'model: { type: attention }',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'exp.yaml'), yaml);
  return dir;
}

function prepare(dir: string, ...extra: string[]): CliResult {
  return runMt(['prepare', '-c', 'exp.yaml', '--run', 'run', ...extra], { cwd: dir });
}

function assertOneLineError(r: CliResult, message: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /^mt: error: /);
  assert.match(r.stderr, message);
}

describe('mt prepare (CLI)', () => {
  it('line counts that differ: exit 2, both files and counts named', () => {
    const dir = project({ 'a.de': 'eins\nzwei\ndrei\n', 'a.en': 'one\ntwo\n' });
    assertOneLineError(prepare(dir), /a\.de has 3 lines but \S*a\.en has 2/);
    assert.equal(fs.existsSync(path.join(dir, 'run', 'data')), false, 'nothing written');
  });

  it('invalid UTF-8 in fail mode: exit 2 with file:line', () => {
    const dir = project({ 'a.de': Buffer.from('gut\nschl\xe9cht\n', 'latin1'), 'a.en': 'good\nbad\n' });
    assertOneLineError(prepare(dir), /a\.de:2: invalid UTF-8/);
  });

  it('a corpus that cleaning empties: exit 2, and no data/', () => {
    const dir = project({ 'a.de': 'same\nsame\nalso\n', 'a.en': 'same\nsame\nalso\n' });
    assertOneLineError(prepare(dir), /train: cleaning kept 0 of 3 pairs \(0\.0%\) \(most dropped by drop_src_equals_tgt: 3\)/);
    assert.equal(fs.existsSync(path.join(dir, 'run', 'data')), false);
  });

  it('skip mode drops, counts and names invalid lines', () => {
    const lines = Array.from({ length: 10 }, (_, i) => `satz ${i}`);
    const de = Buffer.concat([Buffer.from(lines.slice(0, 5).join('\n') + '\n'), Buffer.from([0x80, 0x0a]), Buffer.from(lines.slice(6).join('\n') + '\n')]);
    const en = lines.map((l) => l.replace('satz', 'sentence')).join('\n') + '\n';
    const dir = project({ 'a.de': de, 'a.en': en }, 'on_invalid_utf8: skip');
    const r = prepare(dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DataReport;
    assert.equal(report.train.skipped_invalid, 1);
    assert.deepEqual(report.train.skipped_places, [`${path.join(dir, 'a.de')}:6: invalid UTF-8`]);
    assert.deepEqual(report.output, { train: 7, valid: 1, test: 1 });
    assert.match(r.stderr, /warning: skipped \S*a\.de:6: invalid UTF-8/);
    assert.match(r.stderr, /invalid lines \(skipped\) +-1/);
  });

  it('prepares Multi30k: 28,995 / 1,014 / 1,000 aligned pairs', { skip: missingShared('data/multi30k') }, () => {
    const m = path.join(SHARED, 'data', 'multi30k');
    const dir = tempDir();
    fs.writeFileSync(
      path.join(dir, 'exp.yaml'),
      [
        'data:',
        '  src_lang: de',
        '  tgt_lang: en',
        `  train: [{ src: ${m}/train.de, tgt: ${m}/train.en }]`,
        `  valid: { src: ${m}/val.de, tgt: ${m}/val.en }`,
        `  test: { src: ${m}/test2016.de, tgt: ${m}/test2016.en }`,
        'model: { type: attention }',
      ].join('\n'),
    );
    const r = prepare(dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DataReport;
    assert.deepEqual(report.output, { train: 28995, valid: 1014, test: 1000 });
    // What the default cleaning drops from train: two "@@" German lines against full English
    // sentences (length ratio 8) and three duplicate pairs.
    const dropped = Object.fromEntries(report.train.steps.flatMap((s) => ('dropped' in s && s.dropped > 0 ? [[s.step, s.dropped]] : [])));
    assert.deepEqual(dropped, { max_length_ratio: 2, dedup: 3 });
    const read = (f: string) => fs.readFileSync(path.join(dir, 'run', 'data', f), 'utf8');
    for (const [set, n] of [['train', 28995], ['valid', 1014], ['test', 1000]] as const) {
      assert.equal(read(`${set}.src`).split('\n').length - 1, n);
      assert.equal(read(`${set}.tgt`).split('\n').length - 1, n);
    }
    // Held-out English is ASCII with single spaces: it comes through byte for byte, in order.
    assert.equal(read('valid.tgt'), fs.readFileSync(path.join(m, 'val.en'), 'utf8'));
    assert.equal(read('test.tgt'), fs.readFileSync(path.join(m, 'test2016.en'), 'utf8'));
    assert.equal(read('test.src'), fs.readFileSync(path.join(m, 'test2016.de'), 'utf8'));
    assert.match(r.stderr, /^dedup +-3 +$/m);
  });
});
