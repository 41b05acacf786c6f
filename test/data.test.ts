import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { parseConfigText } from '../src/config/load.ts';
import { collapseWhitespace, countChars, countTokens } from '../src/data/clean.ts';
import { openCorpus, type CorpusItem } from '../src/data/corpus.ts';
import { HashSet64 } from '../src/data/hashset.ts';
import { LineReader, type Line } from '../src/data/lines.ts';
import { prepareData } from '../src/data/prepare.ts';
import type { DataReport } from '../src/data/report.ts';
import { heldOutLines } from '../src/data/split.ts';
import { UserError } from '../src/errors.ts';
import { RunDir } from '../src/run/rundir.ts';
import { Logger } from '../src/util/log.ts';
import { tempDir } from './helpers/cli.ts';

const log = new Logger({ quiet: true, json: false, verbose: false });

async function readAll(file: string): Promise<Line[]> {
  const r = new LineReader(file);
  const lines: Line[] = [];
  for (let l = await r.next(); l !== null; l = await r.next()) lines.push(l);
  return lines;
}

async function readPairs(corpus: Parameters<typeof openCorpus>[0], onInvalid: 'fail' | 'skip' = 'fail'): Promise<CorpusItem[]> {
  const r = openCorpus(corpus, onInvalid);
  const items: CorpusItem[] = [];
  for (let it = await r.next(); it !== null; it = await r.next()) items.push(it);
  return items;
}

function write(dir: string, name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** A run directory for `dataYaml` (the `data:` section body, indented by two spaces). */
function runFor(dir: string, dataYaml: string): RunDir {
  const yaml = `data:\n${dataYaml}\nmodel:\n  type: attention\n`;
  return RunDir.create(path.join(dir, 'run'), parseConfigText(yaml, path.join(dir, 'exp.yaml')));
}

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    return true;
  });
}

describe('line reader', () => {
  it('keeps exact text: CRLF and a BOM are dropped, a lone CR and a later U+FEFF are kept', async () => {
    const dir = tempDir();
    const file = write(dir, 'a.txt', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('eins\r\nzw\rei\n\uFEFFdrei\n\nlast')]));
    assert.deepEqual(await readAll(file), [
      { ok: true, text: 'eins' },
      { ok: true, text: 'zw\rei' },
      { ok: true, text: '\uFEFFdrei' },
      { ok: true, text: '' },
      { ok: true, text: 'last' },
    ]);
  });

  it('reads gzip files by their magic bytes, across chunk boundaries', async () => {
    const dir = tempDir();
    const lines = Array.from({ length: 20000 }, (_, i) => `Zeile ${i} – ü`);
    const file = write(dir, 'big.txt.gz', gzipSync(lines.join('\n') + '\n'));
    const got = await readAll(file);
    assert.equal(got.length, lines.length);
    assert.deepEqual(got[12345], { ok: true, text: lines[12345] });
  });

  it('reports invalid UTF-8 and NUL bytes per line', async () => {
    const dir = tempDir();
    const file = write(dir, 'bad.txt', Buffer.concat([Buffer.from('ok\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('a\0b\n')]));
    assert.deepEqual(await readAll(file), [
      { ok: true, text: 'ok' },
      { ok: false, problem: 'invalid UTF-8' },
      { ok: false, problem: 'NUL byte at byte 2' },
    ]);
  });

  it('rejects missing files, folders and corrupt gzip with one-line UserErrors', async () => {
    const dir = tempDir();
    assert.throws(() => new LineReader(path.join(dir, 'nope.txt')), /nope\.txt: no such file/);
    assert.throws(() => new LineReader(dir), /is a directory, expected a text file/);
    const gz = gzipSync('hello\n'.repeat(1000));
    const broken = write(dir, 'broken.gz', gz.subarray(0, gz.length - 20));
    await rejects(readAll(broken), /broken\.gz: cannot read \(/);
  });
});

describe('corpora', () => {
  it('line counts that differ name both files and both counts', async () => {
    const dir = tempDir();
    const src = write(dir, 'a.de', 'eins\nzwei\ndrei\n');
    const tgt = write(dir, 'a.en', 'one\ntwo\n');
    await rejects(readPairs({ src, tgt }), /a\.de has 3 lines but .*a\.en has 2/);
  });

  it('an empty file is an error', async () => {
    const dir = tempDir();
    await rejects(readPairs({ src: write(dir, 'e.de', ''), tgt: write(dir, 'e.en', 'x\n') }), /e\.de: empty file/);
  });

  it('invalid lines fail with file:line, or are skipped with their places', async () => {
    const dir = tempDir();
    const src = write(dir, 'b.de', Buffer.concat([Buffer.from('gut\n'), Buffer.from([0xff, 0x0a]), Buffer.from('auch gut\n')]));
    const tgt = write(dir, 'b.en', 'good\nbad\nalso good\n');
    await rejects(readPairs({ src, tgt }), /b\.de:2: invalid UTF-8 \(set data\.clean\.on_invalid_utf8: skip/);
    assert.deepEqual(await readPairs({ src, tgt }, 'skip'), [
      { pair: { src: 'gut', tgt: 'good' } },
      { skipped: [`${src}:2: invalid UTF-8`] },
      { pair: { src: 'auch gut', tgt: 'also good' } },
    ]);
  });

  it('TSV: chosen columns, and every row must have as many fields as the first', async () => {
    const dir = tempDir();
    const tsv = write(dir, 'k.tsv', 'Hi.\t안녕.\tCC-BY #1\nRun!\t뛰어!\tCC-BY #2\n');
    assert.deepEqual(await readPairs({ tsv, src_column: 2, tgt_column: 1 }), [
      { pair: { src: '안녕.', tgt: 'Hi.' } },
      { pair: { src: '뛰어!', tgt: 'Run!' } },
    ]);
    const stray = write(dir, 's.tsv', 'a\tb\nc\td\te\n');
    await rejects(readPairs({ tsv: stray, src_column: 1, tgt_column: 2 }), /s\.tsv:2: expected 2 tab-separated fields \(as on line 1\), found 3/);
  });
});

describe('text steps', () => {
  it('the fast whitespace paths agree with the regex definitions on every short string', () => {
    const alphabet = ['a', 'b', ' ', '\t', '\u00a0', '\u3000', '\ufeff', '\r'];
    const strings = [''];
    for (let len = 1; len <= 4; len++) {
      for (const prefix of strings.filter((x) => x.length === len - 1)) for (const ch of alphabet) strings.push(prefix + ch);
    }
    for (const text of strings) {
      assert.equal(collapseWhitespace(text), text.replace(/\s+/g, ' ').trim(), JSON.stringify(text));
      assert.equal(countTokens(text), text.match(/\S+/g)?.length ?? 0, JSON.stringify(text));
    }
    assert.equal(countChars('a😀b'), 3);
  });
});

describe('dedup hash set', () => {
  it('remembers every hash through growth', () => {
    const set = new HashSet64();
    for (let i = 1; i <= 200_000; i++) assert.equal(set.add(i * 7919, i), true);
    assert.equal(set.size, 200_000);
    for (let i = 1; i <= 200_000; i += 997) assert.equal(set.add(i * 7919, i), false);
    assert.equal(set.add(0, 0), true, '(0, 0) is a value, not a hole');
    assert.equal(set.add(0, 0), false);
  });
});

describe('seeded split', () => {
  it('is deterministic, disjoint and of the requested sizes', () => {
    const a = heldOutLines(10_000, 300, 200, 42);
    assert.deepEqual([...heldOutLines(10_000, 300, 200, 42)], [...a]);
    assert.equal([...a.values()].filter((s) => s === 'valid').length, 300);
    assert.equal([...a.values()].filter((s) => s === 'test').length, 200);
    assert.ok([...a.keys()].every((i) => i >= 0 && i < 10_000));
    assert.notDeepEqual([...heldOutLines(10_000, 300, 200, 43).keys()].sort(), [...a.keys()].sort());
  });
});

describe('prepare', () => {
  it('counts every cleaning step exactly on a corpus where each one fires', async () => {
    const dir = tempDir();
    const rows: [string | Buffer, string][] = [
      ['Hallo Welt', 'hello world'], //                            1 kept
      ['Ｈａｌｌｏ', 'hi there'], //                                 2 normalize → kept (ratio 2)
      ['a\u0007b c', 'x y'], //                                    3 remove_control_chars → kept
      ['  viel   Platz ', 'much  space'], //                       4 collapse_whitespace → kept
      ['', 'empty source'], //                                     5 drop_empty
      ['x'.repeat(50), 'long'], //                                 6 max_chars
      ['eins zwei drei vier fünf sechs sieben', 'one two three four five six seven'], // 7 max_tokens
      ['kurz', 'this is far too long'], //                         8 max_length_ratio
      ['Berlin', 'Berlin'], //                                     9 drop_src_equals_tgt
      ['Hallo Welt', 'hello world'], //                           10 dedup
      [Buffer.from([0xff, 0xfe]), 'bad'], //                      11 invalid UTF-8, skipped
      ['Hallo  Welt', 'hello world'], //                          12 collapse_whitespace, then dedup
      ['Gute Nacht', 'good night'], //                            13 kept
      ['NUL\0here', 'nul'], //                                    14 NUL byte, skipped
    ];
    // The source has a BOM, the target CRLF line endings: neither counts as a change.
    const src = write(dir, 'c.de', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), ...rows.flatMap(([s]) => [Buffer.from(s), Buffer.from('\n')])]));
    const tgt = write(dir, 'c.en', rows.map(([, t]) => `${t}\r\n`).join(''));
    write(dir, 'd.de.gz', gzipSync('Zweites Korpus\n'));
    write(dir, 'd.en.gz', gzipSync('second corpus\n'));
    write(dir, 'v.de', '  Ｅｉｎｓ  \n\nBerlin\n' + 'x'.repeat(50) + '\nBerlin\n');
    write(dir, 'v.en', 'one\nnothing\nBerlin\nlong\nBerlin\n');
    write(dir, 't.tsv.gz', gzipSync('id1\tGuten Tag\tgood day\nid2\tDanke\tthanks\n'));
    const run = runFor(
      dir,
      [
        '  src_lang: de',
        '  tgt_lang: en',
        '  train: [{ src: c.de, tgt: c.en }, { src: d.de.gz, tgt: d.en.gz }]',
        '  valid: { src: v.de, tgt: v.en }',
        '  test: { tsv: t.tsv.gz, src_column: 2, tgt_column: 3 }',
        '  clean: { max_chars: 40, max_tokens: 6, max_length_ratio: 2, on_invalid_utf8: skip }',
      ].join('\n'),
    );
    const report = await prepareData(run, log);
    const expected: DataReport = {
      src_lang: 'de',
      tgt_lang: 'en',
      train: {
        corpora: [
          { corpus: `${src} + ${tgt}`, pairs: 14, skipped_invalid: 2 },
          { corpus: `${path.join(dir, 'd.de.gz')} + ${path.join(dir, 'd.en.gz')}`, pairs: 1, skipped_invalid: 0 },
        ],
        read: 15,
        skipped_invalid: 2,
        skipped_places: [`${src}:11: invalid UTF-8`, `${src}:14: NUL byte at byte 4`],
        steps: [
          { step: 'remove_control_chars', changed: 1, kept: 13 },
          { step: 'normalize', changed: 1, kept: 13 },
          { step: 'collapse_whitespace', changed: 2, kept: 13 },
          { step: 'drop_empty', dropped: 1, kept: 12 },
          { step: 'max_chars', dropped: 1, kept: 11 },
          { step: 'max_tokens', dropped: 1, kept: 10 },
          { step: 'max_length_ratio', dropped: 1, kept: 9 },
          { step: 'drop_src_equals_tgt', dropped: 1, kept: 8 },
          { step: 'dedup', dropped: 2, kept: 6 },
        ],
        kept: 6,
      },
      valid: {
        corpora: [{ corpus: `${path.join(dir, 'v.de')} + ${path.join(dir, 'v.en')}`, pairs: 5, skipped_invalid: 0 }],
        read: 5,
        skipped_invalid: 0,
        skipped_places: [],
        steps: [
          { step: 'remove_control_chars', changed: 0, kept: 5 },
          { step: 'normalize', changed: 1, kept: 5 },
          { step: 'collapse_whitespace', changed: 1, kept: 5 },
          { step: 'drop_empty', dropped: 1, kept: 4 },
        ],
        kept: 4,
      },
      test: {
        corpora: [{ corpus: path.join(dir, 't.tsv.gz'), pairs: 2, skipped_invalid: 0 }],
        read: 2,
        skipped_invalid: 0,
        skipped_places: [],
        steps: [
          { step: 'remove_control_chars', changed: 0, kept: 2 },
          { step: 'normalize', changed: 0, kept: 2 },
          { step: 'collapse_whitespace', changed: 0, kept: 2 },
          { step: 'drop_empty', dropped: 0, kept: 2 },
        ],
        kept: 2,
      },
      split: { seed: 1234, valid: 0, test: 0 },
      output: { train: 6, valid: 4, test: 2 },
    };
    assert.deepEqual(report, expected);
    assert.deepEqual(JSON.parse(fs.readFileSync(run.path('data', 'report.json'), 'utf8')), expected);
    const data = (f: string) => fs.readFileSync(run.path('data', f), 'utf8');
    assert.equal(data('train.src'), 'Hallo Welt\nHallo\nab c\nviel Platz\nGute Nacht\nZweites Korpus\n');
    assert.equal(data('train.tgt'), 'hello world\nhi there\nx y\nmuch space\ngood night\nsecond corpus\n');
    // Held-out sets are normalized but neither length-filtered nor deduplicated.
    assert.equal(data('valid.src'), `Eins\nBerlin\n${'x'.repeat(50)}\nBerlin\n`);
    assert.equal(data('test.src'), 'Guten Tag\nDanke\n');
    assert.equal(data('test.tgt'), 'good day\nthanks\n');
    const stage = run.readManifest().stages.prepare;
    assert.deepEqual(stage?.pairs, { train: 6, valid: 4, test: 2 });
    assert.equal(stage?.skipped_invalid, 2);
  });

  it('splits valid and test off the cleaned training data, reproducibly', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => i);
    const prepareIn = async (seed: number): Promise<Record<string, string>> => {
      const dir = tempDir();
      write(dir, 'a.de', lines.map((i) => `satz ${i}`).join('\n') + '\n');
      write(dir, 'a.en', lines.map((i) => `sentence ${i}`).join('\n') + '\n');
      const run = runFor(dir, `  src_lang: de\n  tgt_lang: en\n  train: [{ src: a.de, tgt: a.en }]\n  split: { valid_size: 30, test_size: 20, seed: ${seed} }`);
      const report = await prepareData(run, log);
      assert.deepEqual(report.output, { train: 450, valid: 30, test: 20 });
      assert.deepEqual(report.split, { seed, valid: 30, test: 20 });
      return Object.fromEntries(
        ['train', 'valid', 'test'].flatMap((s) => ['src', 'tgt'].map((side) => [`${s}.${side}`, fs.readFileSync(run.path('data', `${s}.${side}`), 'utf8')])),
      );
    };
    const a = await prepareIn(7);
    assert.deepEqual(await prepareIn(7), a, 'same seed, same split');
    assert.notEqual((await prepareIn(8))['valid.src'], a['valid.src'], 'another seed, another split');
    // Aligned, disjoint, complete, and in corpus order within each set.
    const ids = (text: string) => text.trim().split('\n').map((l) => Number(l.split(' ')[1]));
    const all: number[] = [];
    for (const s of ['train', 'valid', 'test']) {
      assert.deepEqual(ids(a[`${s}.src`]!), ids(a[`${s}.tgt`]!), `${s} aligned`);
      const set = ids(a[`${s}.src`]!);
      assert.deepEqual(set, [...set].sort((x, y) => x - y), `${s} keeps corpus order`);
      all.push(...set);
    }
    assert.deepEqual(all.sort((x, y) => x - y), lines);
  });

  it('refuses to keep too little, and leaves the previous data/ untouched', async () => {
    const dir = tempDir();
    write(dir, 'a.de', 'eins\nzwei\ndrei\nvier\n');
    write(dir, 'a.en', 'one\ntwo\nthree\nfour\n');
    write(dir, 'same.de', 'x\nx\nx\ny\n');
    write(dir, 'same.en', 'x\nx\nx\nz\n');
    const data = '  src_lang: de\n  tgt_lang: en\n  split: { valid_size: 1, test_size: 1 }\n';
    const good = runFor(dir, `${data}  train: [{ src: a.de, tgt: a.en }]`);
    await prepareData(good, log);
    const before = fs.readFileSync(good.path('data', 'train.src'), 'utf8');

    const bad = RunDir.create(
      good.root,
      parseConfigText(`data:\n${data}  train: [{ src: same.de, tgt: same.en }]\n  clean: { min_kept_fraction: 0.5 }\nmodel: { type: attention }\n`, path.join(dir, 'exp.yaml')),
      { force: true },
    );
    await rejects(
      prepareData(bad, log),
      /^train: cleaning kept 1 of 4 pairs \(25\.0%\), less than data\.clean\.min_kept_fraction 0\.5 \(most dropped by drop_src_equals_tgt: 3\)/,
    );
    assert.equal(fs.readFileSync(good.path('data', 'train.src'), 'utf8'), before);
    assert.deepEqual(fs.readdirSync(good.root).filter((f) => f.startsWith('.')), [], 'no staging folder left');
    assert.deepEqual(bad.readManifest().stages.prepare?.pairs, { train: 2, valid: 1, test: 1 }, 'still the earlier record');
  });
});
