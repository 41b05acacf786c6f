/** `mt eval` end to end: the real binary on real files. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../src/config/load.ts';
import { corpusBleu, corpusChrf, corpusTer } from '../src/metrics/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { minimalConfigYaml, runMt, tempDir } from './helpers/cli.ts';
import { missingShared, sharedLines } from './helpers/requirements.ts';
import { readVectors } from './helpers/sacrebleu-vectors.ts';

/** Real English text to score: the first 200 lines of Multi30k test2016. */
const NO_MULTI30K = missingShared('data/multi30k/test2016.en', 'data/multi30k/test2016.de');
const REF = NO_MULTI30K ? [] : sharedLines('data/multi30k/test2016.en', 200);
const SRC = NO_MULTI30K ? [] : sharedLines('data/multi30k/test2016.de', 200);
/** Every third word dropped: a poor system; every seventh: a better one. */
const POOR = REF.map((l) => l.split(' ').filter((_, i) => i % 3 !== 2).join(' '));
const BETTER = REF.map((l) => l.split(' ').filter((_, i) => i % 7 !== 6).join(' '));

function write(dir: string, name: string, content: string[]): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content.join('\n') + '\n');
  return file;
}

describe('mt eval', { skip: NO_MULTI30K }, () => {
  const dir = tempDir('mt-eval-');
  const ref = write(dir, 'ref.txt', REF);
  const poor = write(dir, 'poor.txt', POOR);
  const better = write(dir, 'better.txt', BETTER);

  it('--json scores a file against two references exactly as the library does', () => {
    const ref2 = write(dir, 'ref2.txt', BETTER);
    const r = runMt(['eval', '-i', poor, '-r', ref, '-r', ref2, '-m', 'bleu,chrf++,ter', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    const scores = report.systems[0].scores;
    assert.deepEqual(report.metrics, ['bleu', 'chrf++', 'ter']);
    assert.equal(scores.bleu.score, corpusBleu(POOR, [REF, BETTER]).score);
    assert.equal(scores['chrf++'].score, corpusChrf(POOR, [REF, BETTER], { wordOrder: 2 }).score);
    assert.equal(scores.ter.num_edits, corpusTer(POOR, [REF, BETTER]).num_edits);
    assert.equal(scores.bleu.signature, 'nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0');
    assert.equal(report.length_basis, 'reference');
  });

  it('-b prints the scores alone (-w decimals); -lc lowercases BLEU only, as sacreBLEU', () => {
    const r = runMt(['eval', '-i', poor, '-r', ref, '-b', '-w', '2', '-m', 'bleu,chrf', '-lc']);
    assert.equal(r.code, 0, r.stderr);
    const expected = [corpusBleu(POOR, [REF], { lowercase: true }).score, corpusChrf(POOR, [REF]).score];
    assert.equal(r.stdout, expected.map((s) => s.toFixed(2)).join('\n') + '\n');
  });

  it('--paired-bs compares systems with the baseline and prints p-values, the same on a rerun', () => {
    const args = ['eval', '-i', poor, '-i', better, '-i', poor, '-r', ref, '--paired-bs', '-m', 'bleu,chrf'];
    const r = runMt(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /system\s+BLEU \(μ ± 95% CI\)\s+chrF2 \(μ ± 95% CI\)/);
    const pValues = [...r.stdout.matchAll(/\(p = ([0-9.]+)\)/g)].map((m) => Number(m[1]));
    assert.equal(pValues.length, 4);
    assert.ok(pValues[0]! < 0.05 && pValues[1]! < 0.05, 'better system: significant');
    assert.deepEqual(pValues.slice(2), [1, 1], 'the baseline again: not significant');
    assert.equal(runMt(args).stdout, r.stdout);
  });

  it('--run scores translations/test.hyp against data/test.tgt, by source length, and writes scores/test.json', () => {
    const runDir = path.join(dir, 'run');
    const cfgFile = write(dir, 'exp.yaml', [minimalConfigYaml('eval:\n  length_buckets: [8, 12]\n  metrics: [bleu, ter]')]);
    RunDir.create(runDir, loadConfigFile(cfgFile).config);
    write(runDir, 'data/test.src', SRC);
    write(runDir, 'data/test.tgt', REF);
    write(runDir, 'translations/test.hyp', BETTER);
    const r = runMt(['eval', '--run', runDir, '--explain']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /scores by source length in words \(.*data\/test\.src\)/);
    assert.match(r.stdout, /^length\s+segments\s+BLEU\s+TER$/m);
    assert.match(r.stdout, /^≤8\s+\d+/m);
    assert.match(r.stdout, /^>12\s+\d+/m);
    assert.match(r.stdout, /Here: BLEU = \d+\.\d\d: [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+% of hypothesis 1\/2\/3\/4-grams match/);
    assert.match(r.stdout, /Comparing a seq2seq/);
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'scores', 'test.json'), 'utf8'));
    assert.equal(saved.systems[0].scores.bleu.score, corpusBleu(BETTER, [REF]).score);
    assert.deepEqual(saved.systems[0].length_buckets.map((b: { label: string }) => b.label), ['≤8', '9-12', '>12']);
    const manifest = JSON.parse(fs.readFileSync(path.join(runDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.stages.eval.scores.bleu, saved.systems[0].scores.bleu.score);
    assert.deepEqual(fs.readdirSync(path.join(runDir, 'scores')).sort(), ['by-length.json', 'test.json'], 'no temp files left');
  });

  it('bad input exits 2 with one line: unaligned files, unknown metric, missing file; warns on tokenized output', () => {
    const short = write(dir, 'short.txt', REF.slice(0, 150));
    const r = runMt(['eval', '-i', short, '-r', ref]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `mt: error: ${short} has 150 lines but ${ref} has 200; the files must be line-aligned\n`);

    const m = runMt(['eval', '-i', poor, '-r', ref, '-m', 'bleu,blue']);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--metrics: unknown metric 'blue' \(choose from bleu, chrf, chrf\+\+, ter\)/);

    const missing = runMt(['eval', '-i', path.join(dir, 'nope.txt'), '-r', ref]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.txt: no such file\n$/);

    const tokenized = write(dir, 'tok.txt', REF.map((l) => l.replace(/([.,])/g, ' $1')));
    const w = runMt(['eval', '-i', tokenized, '-r', ref, '-b', '-m', 'bleu']);
    assert.equal(w.code, 0);
    assert.match(w.stderr, /warning: .*tok\.txt: \d+% of lines look tokenized/);
  });
});

describe('mt eval --vectors-case', () => {
  it('--vectors-case reads one sacreBLEU test case on stdin and prints sacreBLEU\'s results', () => {
    const vectors = readVectors<{ name: string; expected: Record<string, { score: number; counts: number[]; signature_short: string }> }>();
    const c = vectors.cases.find((x) => x.name === 'multi-ref-2');
    assert.ok(c, 'the fixture has case multi-ref-2');
    const { expected, ...input } = c;
    const r = runMt(['eval', '--vectors-case'], { input: JSON.stringify(input) });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(out).sort(), Object.keys(expected).sort());
    assert.ok(Math.abs(out.bleu.score - expected.bleu.score) < 1e-6);
    assert.deepEqual(out.bleu.counts, expected.bleu.counts);
    assert.equal(out.ter.signature_short, expected.ter.signature_short);

    const bad = runMt(['eval', '--vectors-case'], { input: '{"level": "corpus", "metrics": ["blue"]}' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mt: error: stdin: metrics\.0: /);
  });
});
