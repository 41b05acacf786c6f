/**
 * `mt compare` on real run directories: hand-written translations whose comparison has a known
 * outcome (identical on short sentences, one system far better on long ones), the real binary's
 * table, JSON and figures, its one-line errors, and a run without translations translated with
 * its own (tiny, briefly trained) checkpoint.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigSchema } from '../src/config/schema.ts';
import { UserError } from '../src/errors.ts';
import { compareRuns, defaultCompareDir, formatCompareReport, type CompareReport } from '../src/report/compare.ts';
import { RunDir } from '../src/run/rundir.ts';
import { train } from '../src/train/trainer.ts';
import { runMt, tempDir } from './helpers/cli.ts';
import { quietLog, tinyConfig, tinyRun, TINY_MODELS } from './train-fixture.ts';

/** Deterministic made-up words: 30 short sentences (3–8 words) and 30 long ones (22–35). */
function corpus(): { src: string[]; ref: string[] } {
  let x = 12345;
  const next = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const word = (): string => `w${next(60)}`;
  const src = Array.from({ length: 60 }, (_, i) => Array.from({ length: i % 2 === 0 ? 3 + next(6) : 22 + next(14) }, word).join(' '));
  return { src, ref: src.map((s) => s.split(' ').map((w) => `${w}x`).join(' ')) };
}

const { src: SRC, ref: REF } = corpus();
const isLong = (s: string): boolean => s.split(' ').length > 20;
/** Right on every sentence. */
const GOOD = REF;
/** Right on short sentences; on long ones, the first six words and then words of its own. */
const POOR = REF.map((r, i) => (isLong(SRC[i]!) ? [...r.split(' ').slice(0, 6), 'zz', 'yy', 'zz'].join(' ') : r));

function write(file: string, lines: string[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/** A run directory with prepared test data and, when given, translations/test.hyp. */
function handRun(dir: string, hyp: string[] | undefined, data = { src: SRC, tgt: REF }): string {
  const config = ConfigSchema.parse({ ...tinyConfig(TINY_MODELS.attention), eval: { length_buckets: [10, 20] } });
  const run = RunDir.create(dir, config);
  write(run.path('data', 'test.src'), data.src);
  write(run.path('data', 'test.tgt'), data.tgt);
  if (hyp) write(run.path('translations', 'test.hyp'), hyp);
  return run.root;
}

function expectUserError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

describe('mt compare', () => {
  const dir = tempDir('mt-compare-');
  const seq2seq = handRun(path.join(dir, 'seq2seq'), POOR);
  const attention = handRun(path.join(dir, 'attention'), GOOD);
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints BLEU, Δ and p by source-length bucket, marks the significant bucket, and writes compare.json and the plot', () => {
    const out = path.join(dir, 'out');
    const args = ['compare', '--runs', `${seq2seq},${attention}`, '--names', 'seq2seq,attention', '--samples', '200', '--out', out];
    const r = runMt(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^length\s+segments\s+BLEU seq2seq\s+BLEU attention\s+Δ\s+p\s+chrF2 seq2seq\s+chrF2 attention$/m);
    // Buckets from the first run's eval.length_buckets; the empty one shows dashes.
    assert.match(r.stdout, /^≤10\s+30\s+100\.00\s+100\.00\s+\+0\.00\s+1\.0000\s+100\.00\s+100\.00$/m);
    assert.match(r.stdout, /^11-20\s+0\s+-\s+-\s+-\s+-\s+-\s+-$/m);
    assert.match(r.stdout, /^>20\s+30\s+\d+\.\d\d\s+100\.00\s+\+\d+\.\d\d\s+0\.0\d+ \*\s/m);
    assert.match(r.stdout, /^all\s+60\s/m);
    assert.match(r.stdout, /paired bootstrap resampling within each bucket \(200 resamples, seed 12345\); \* p < 0\.05/);

    const report = JSON.parse(fs.readFileSync(path.join(out, 'compare.json'), 'utf8')) as CompareReport;
    assert.equal(report.format, 'mt-compare');
    assert.equal(report.baseline, 'seq2seq');
    assert.deepEqual(report.buckets.map((b) => b.label), ['≤10', '11-20', '>20']);
    assert.equal(report.buckets.reduce((n, b) => n + b.segments, 0), SRC.length);
    assert.equal(report.overall.segments, SRC.length);
    const [short, , long] = report.buckets;
    assert.equal(short!.systems[1]!.delta_bleu, 0);
    assert.equal(short!.systems[1]!.p_bleu, 1);
    assert.ok(Math.abs(long!.systems[1]!.bleu! - 100) < 1e-9);
    assert.ok(long!.systems[1]!.delta_bleu! > 30, `Δ BLEU ${long!.systems[1]!.delta_bleu}`);
    assert.ok(long!.systems[1]!.p_bleu! < 0.05 && long!.systems[1]!.p_chrf! < 0.05);
    assert.equal(long!.systems[0]!.p_bleu, null, 'the baseline has no p-value');
    for (const f of ['bleu-by-length.svg', 'bleu-by-length.png']) assert.ok(fs.statSync(path.join(out, f)).size > 0, f);
    assert.match(fs.readFileSync(path.join(out, 'bleu-by-length.svg'), 'utf8'), /<svg[\s\S]*attention/);

    // --json prints the same report (and the files written); a rerun with the same seed is identical.
    const j = runMt([...args, '--json']);
    assert.equal(j.code, 0, j.stderr);
    const printed = JSON.parse(j.stdout) as CompareReport & { files: string[] };
    assert.deepEqual(printed.files, ['compare.json', 'bleu-by-length.svg', 'bleu-by-length.png'].map((f) => path.join(out, f)));
    assert.deepEqual({ ...printed, files: undefined }, { ...report, files: undefined, mt_version: printed.mt_version });
  });

  it('finds no difference between a run and itself; --buckets overrides the config; default output beside the first run', async () => {
    const report = await compareRuns({ runs: [attention, attention], buckets: [5, 10, 30], samples: 100 });
    assert.deepEqual(report.systems.map((s) => s.name), ['attention', 'attention#2']);
    assert.deepEqual(report.buckets.map((b) => b.label), ['≤5', '6-10', '11-30', '>30']);
    assert.equal(report.buckets.reduce((n, b) => n + b.segments, 0), SRC.length);
    for (const b of report.buckets.filter((b) => b.segments > 0)) {
      assert.equal(b.systems[1]!.delta_bleu, 0);
      assert.equal(b.systems[1]!.p_bleu, 1);
    }
    assert.doesNotMatch(formatCompareReport(report), /\d \*/, 'no p-value marked significant');
    assert.equal(defaultCompareDir([attention], ['attention', 'attention#2']), path.join(dir, 'compare-attention-vs-attention_2'));
    assert.equal(defaultCompareDir([attention], ['a', 'b'], 'valid'), path.join(dir, 'compare-a-vs-b-valid'));
  });

  it('rejects bad input with one line and exit code 2', async () => {
    const cli = runMt(['compare', '--runs', seq2seq]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /^mt: error: --runs: give two or more run directories to compare \(got 1\)\n$/);
    const other = handRun(path.join(dir, 'other-refs'), GOOD, { src: SRC, tgt: REF.map((l, i) => (i === 2 ? 'something else' : l)) });
    const mismatch = runMt(['compare', '--runs', `${seq2seq},${other}`]);
    assert.equal(mismatch.code, 2);
    assert.equal(mismatch.stderr.split('\n').length, 2, mismatch.stderr);
    assert.match(mismatch.stderr, /seq2seq\/data\/test\.tgt and .*other-refs\/data\/test\.tgt differ at line 3 /);
    const badBuckets = runMt(['compare', '--runs', `${seq2seq},${attention}`, '--buckets', '20,10']);
    assert.equal(badBuckets.code, 2);
    assert.match(badBuckets.stderr, /^mt: error: --buckets: bounds must increase \(20 then 10\)\n$/);

    await assert.rejects(compareRuns({ runs: [seq2seq, attention], names: ['one'] }), expectUserError(/^--names: 1 names for 2 runs$/));
    await assert.rejects(compareRuns({ runs: [seq2seq, path.join(dir, 'nowhere')] }), expectUserError(/nowhere: no such run directory/));
    const { parseBucketList } = await import('../src/report/compare.ts');
    assert.throws(() => parseBucketList('10,abc'), expectUserError(/^--buckets: 'abc' is not a whole number of words ≥ 1/));
    const noData = RunDir.create(path.join(dir, 'no-data'), ConfigSchema.parse(tinyConfig(TINY_MODELS.seq2seq))).root;
    await assert.rejects(compareRuns({ runs: [seq2seq, noData] }), expectUserError(/no-data\/data\/test\.src: no such file \(run mt prepare first/));
    const short = handRun(path.join(dir, 'short-hyp'), GOOD.slice(0, 10));
    await assert.rejects(compareRuns({ runs: [seq2seq, short] }), expectUserError(/short-hyp\/translations\/test\.hyp has 10 lines but .*seq2seq\/data\/test\.src has 60/));
    const untrained = handRun(path.join(dir, 'untrained'), undefined);
    await assert.rejects(
      compareRuns({ runs: [seq2seq, untrained], backend: 'wasm' }),
      expectUserError(/untrained\/translations\/test\.hyp: no translations, and none can be made: .*checkpoints/),
    );
  });

  it('translates a run that has no translations with its checkpoint, and writes them', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 2, valid_every: 1000 }), path.join(dir, 'tiny'));
    await train(run, { log: quietLog() });
    const src = ['ka lo mi', 'nu pe ri so tu va ze bo di ka lo', 'mi nu', 'pe ri so tu'];
    write(run.path('data', 'test.src'), src);
    write(run.path('data', 'test.tgt'), src);
    const baseline = handRun(path.join(dir, 'copy'), src, { src, tgt: src });
    const report = await compareRuns({ runs: [baseline, run.root], buckets: [3], samples: 50, backend: 'wasm' });
    const hyp = run.path('translations', 'test.hyp');
    assert.deepEqual(report.systems.map((s) => s.translated), [false, true]);
    assert.equal(report.systems[1]!.hypotheses, hyp);
    assert.equal(fs.readFileSync(hyp, 'utf8').split('\n').length, src.length + 1);
    assert.deepEqual(report.buckets.map((b) => [b.label, b.segments]), [['≤3', 2], ['>3', 2]]);
    assert.ok(Math.abs(report.overall.systems[0]!.bleu! - 100) < 1e-9, 'the baseline copies the references');
    assert.equal(run.readManifest().stages.translate?.split, 'test');
  });
});
