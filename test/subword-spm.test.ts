/**
 * SentencePiece's own tools as the oracle: mt's nmt_nfkc normalization against spm_normalize,
 * and (issue 3's done-when check) models trained by mt on Multi30k de+en (8000 pieces, joint)
 * segment test2016 exactly as Debian's spm_encode segments it with the same .model files.
 * Needs the Debian package `sentencepiece` (CI installs it).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../src/config/load.ts';
import { LAYOUT, RunDir } from '../src/run/rundir.ts';
import { loadSubwords, trainSubwords } from '../src/subword/index.ts';
import { DEFAULT_WHITESPACE, normalizeForModel } from '../src/subword/normalize.ts';
import { normalizeNmtNfkc } from '../src/text/normalize.ts';
import { Logger } from '../src/util/log.ts';
import { SHARED, tempDir } from './helpers/cli.ts';
import { missingShared, missingTool } from './helpers/requirements.ts';

const MULTI30K = path.join(SHARED, 'data', 'multi30k');
const NO_MULTI30K = missingShared('data/multi30k');

function lines(file: string, limit = Infinity): string[] {
  const all = fs.readFileSync(file, 'utf8').split('\n');
  if (all.at(-1) === '') all.pop();
  return all.slice(0, limit);
}

/** Run an spm tool on `input` lines, return its output lines. */
function spm(tool: string, args: string[], input: string[]): string[] {
  const out = execFileSync(tool, args, { input: input.join('\n') + '\n', maxBuffer: 1 << 28 }).toString('utf8').split('\n');
  out.pop();
  return out;
}

/** Lines that exercise the charsmap: compatibility forms, odd spaces, controls, combining marks, scripts. */
const CRAFTED = [
  'ﬁne ﬂour ① ⑩ Ｈｅｌｌｏ，ｗｏｒｌｄ！ ㍻ ㌔ ½ x² Ⅻ',
  'a\u00a0b\u2009c\u3000d\u200be\u200df\ufeffg',
  'tab\there\u0001\u0007\u001fctl\u007f\u0085end',
  'e\u0301 A\u030a n\u0303 \u1100\u1161\u11a8 한국어 カタカナ ｶﾀｶﾅ 漢字',
  '  leading and   inner   and trailing  ',
  '«quotes» „German“ ‘single’ — dash … ellipsis',
  'Ωmega ﬀ ℌ ℃ ™ № 𝐀𝐁𝐂 😀👍🏽 🇩🇪',
];

const NO_NORMALIZE_ORACLE =
  missingTool('spm_normalize', 'sentencepiece') ?? missingShared('data/multi30k', 'data/tatoeba-test-eng-deu', 'data/korean-english-news');

describe('nmt_nfkc normalization equals spm_normalize', { skip: NO_NORMALIZE_ORACLE }, () => {
  const sample = [
    ...CRAFTED,
    ...lines(path.join(MULTI30K, 'train.de'), 3000),
    ...lines(path.join(SHARED, 'data', 'tatoeba-test-eng-deu', 'test.en'), 3000),
    ...lines(path.join(SHARED, 'data', 'korean-english-news', 'dev.ko')),
    ...lines(path.join(MULTI30K, 'test2016.fr')),
  ];


  it('character mapping (no whitespace handling): every line identical', () => {
    const expected = spm('spm_normalize', ['--normalization_rule_name=nmt_nfkc', '--remove_extra_whitespaces=false'], sample);
    const mismatches = sample.filter((l, i) => normalizeNmtNfkc(l) !== expected[i]);
    assert.equal(mismatches.length, 0, `first mismatch: ${JSON.stringify(mismatches[0])}`);
    assert.equal(normalizeNmtNfkc('ﬁ①Ｈ\u00a0x'), 'fi1H x', 'the sample exercises the charsmap');
  });

  it('with spaces collapsed and stripped: every line identical', () => {
    const expected = spm('spm_normalize', ['--normalization_rule_name=nmt_nfkc'], sample);
    const ws = { ...DEFAULT_WHITESPACE, addDummyPrefix: false, escapeWhitespaces: false };
    const mismatches = sample.filter((l, i) => normalizeForModel(l, ws) !== expected[i]);
    assert.equal(mismatches.length, 0, `first mismatch: ${JSON.stringify(mismatches[0])}`);
  });
});

/** A run directory whose prepared training data is Multi30k de→en train (raw, as the test data). */
function multi30kRun(type: 'bpe' | 'unigram'): RunDir {
  const dir = tempDir('mt-subword-spm-');
  const yaml = [
    'data: { src_lang: de, tgt_lang: en, train: [{ src: a.de, tgt: a.en }] }',
    `subword: { type: ${type}, vocab_size: 8000, joint: true, character_coverage: 1.0 }`,
    'model: { type: attention }',
  ].join('\n');
  const run = RunDir.create(path.join(dir, 'run'), parseConfigText(yaml, path.join(dir, 'exp.yaml')));
  fs.mkdirSync(run.path(LAYOUT.data), { recursive: true });
  fs.copyFileSync(path.join(MULTI30K, 'train.de'), run.path(LAYOUT.data, 'train.src'));
  fs.copyFileSync(path.join(MULTI30K, 'train.en'), run.path(LAYOUT.data, 'train.tgt'));
  return run;
}

const quiet = new Logger({ quiet: true, json: false, verbose: false });

for (const type of ['bpe', 'unigram'] as const) {
  describe(`${type} model trained by mt on Multi30k (8000 pieces, joint)`, { skip: missingTool('spm_encode', 'sentencepiece') ?? NO_MULTI30K }, () => {
    it('spm_encode segments test2016 exactly as mt does (pieces and ids, 0 mismatching lines)', async () => {
      const run = multi30kRun(type);
      await trainSubwords(run, quiet);
      const { src, tgt } = await loadSubwords(run);
      assert.equal(src, tgt, 'one joint model');
      assert.equal(src.vocabSize, 8000);
      assert.equal(src.type, type);
      const test = [...lines(path.join(MULTI30K, 'test2016.de')), ...lines(path.join(MULTI30K, 'test2016.en'))];
      assert.equal(test.length, 2000);
      const model = `--model=${src.file}`;
      const spmPieces = spm('spm_encode', [model, '--output_format=piece'], test);
      const spmIds = spm('spm_encode', [model, '--output_format=id'], test);
      const pieceMismatch = test.filter((l, i) => src.encodePieces(l).join(' ') !== spmPieces[i]);
      const idMismatch = test.filter((l, i) => src.encodeIds(l).join(' ') !== spmIds[i]);
      assert.equal(pieceMismatch.length, 0, `first mismatch: ${JSON.stringify(pieceMismatch[0])}`);
      assert.equal(idMismatch.length, 0, `first mismatch: ${JSON.stringify(idMismatch[0])}`);
      // Not a degenerate model: words are split into subwords, not characters.
      const pieces = spmPieces.reduce((n, l) => n + l.split(' ').length, 0);
      const chars = test.reduce((n, l) => n + l.length, 0);
      assert.ok(pieces / test.length < 20 && pieces < chars / 3, `${pieces / test.length} pieces per sentence`);
    });
  });
}
