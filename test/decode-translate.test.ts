/**
 * Translation end to end on a real (tiny, briefly trained) run directory made by the library's
 * own stages: line alignment (empty and over-long lines), batching, checkpoint averaging, and
 * the real `mt translate` CLI in a pipe, streaming, from a copy of the run moved elsewhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { initBackend } from '../src/backend/index.ts';
import { listCheckpoints, readCheckpoint } from '../src/checkpoint/index.ts';
import { ConfigSchema } from '../src/config/schema.ts';
import { prepareData } from '../src/data/prepare.ts';
import { loadAveragedCheckpoint } from '../src/decode/average.ts';
import { loadTranslator, type Translator } from '../src/decode/load.ts';
import { translateLines } from '../src/decode/translate.ts';
import { RunDir } from '../src/run/rundir.ts';
import { trainSubwords } from '../src/subword/index.ts';
import { train } from '../src/train/trainer.ts';
import { Logger } from '../src/util/log.ts';
import { MT_BIN, runMt, tempDir } from './helpers/cli.ts';
import { makeRandom } from './helpers/models.ts';

const quiet = new Logger({ quiet: true, json: false, verbose: false });

/** Sentences of random letters and their reversals: something a tiny model can start to learn. */
function writeCorpus(dir: string, name: string, count: number, seed: number): { src: string; tgt: string } {
  const rand = makeRandom(seed);
  const src: string[] = [];
  for (let i = 0; i < count; i++) src.push(Array.from({ length: 3 + rand(6) }, () => 'abcdefghij'[rand(10)]).join(' '));
  const files = { src: path.join(dir, `${name}.src`), tgt: path.join(dir, `${name}.tgt`) };
  fs.writeFileSync(files.src, src.join('\n') + '\n');
  fs.writeFileSync(files.tgt, src.map((s) => s.split(' ').reverse().join(' ')).join('\n') + '\n');
  return files;
}

const INPUT = ['a b c d', '', 'j i h', '   ', 'c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c', 'e f g'];

describe('translation', () => {
  let dir: string;
  let run: RunDir;
  let translator: Translator;

  before(async () => {
    await initBackend('wasm');
    dir = tempDir('mt-decode-');
    const corpus = { train: writeCorpus(dir, 'train', 300, 1), valid: writeCorpus(dir, 'valid', 10, 2), test: writeCorpus(dir, 'test', 10, 3) };
    const config = ConfigSchema.parse(
      parseYaml(`
name: tiny
data:
  src_lang: xx
  tgt_lang: yy
  train: [{ src: ${corpus.train.src}, tgt: ${corpus.train.tgt} }]
  valid: { src: ${corpus.valid.src}, tgt: ${corpus.valid.tgt} }
  test: { src: ${corpus.test.src}, tgt: ${corpus.test.tgt} }
subword: { vocab_size: 24 }
model: { type: attention, emb_size: 16, hidden_size: 32, dropout: 0 }
train: { max_steps: 6, valid_every: 3, batch_tokens: 400, keep_last: 3 }
decode: { beam_size: 3, max_input_len: 20, batch_size: 2 }
`),
    );
    run = RunDir.create(path.join(dir, 'run'), config);
    await prepareData(run, quiet);
    await trainSubwords(run, quiet);
    await train(run, { log: quiet });
    translator = await loadTranslator(run);
  });

  after(() => {
    translator?.model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives one result per input line in input order: empty lines stay empty, long lines are truncated with a warning', () => {
    const warnings: string[] = [];
    const decode = run.config.decode;
    const results = translateLines(translator.model, translator.subwords, INPUT, decode, { warn: (m) => warnings.push(m), firstLine: 11 });
    assert.equal(results.length, INPUT.length);
    assert.deepEqual(results.map((r) => r.srcIds.length === 0), [false, true, false, true, false, false]);
    assert.equal(results[1]!.text, '');
    assert.deepEqual(results[1]!.hypotheses, []);
    assert.equal(results[4]!.truncated, true);
    assert.equal(results[4]!.srcIds.length, 20);
    assert.ok(results[4]!.hypotheses.length > 0, 'the long line is translated');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^input line 15: \d+ subword tokens, truncated to the model's limit of 20$/);
    // Sorting into batches changes nothing: each line alone gives the same translation.
    INPUT.forEach((line, i) => {
      const alone = translateLines(translator.model, translator.subwords, [line], decode)[0]!;
      assert.deepEqual(alone.hypotheses.map((h) => h.ids), results[i]!.hypotheses.map((h) => h.ids), `line ${i}`);
    });
    for (const r of results) assert.ok(!r.text.includes('\n'));
  });

  it('averages the last checkpoints element-wise', async () => {
    const checkpoints = listCheckpoints(run);
    assert.ok(checkpoints.length >= 2, `${checkpoints.length} checkpoints`);
    const averaged = await loadAveragedCheckpoint(run, 2);
    const [a, b] = checkpoints.slice(-2).map((c) => readCheckpoint(c.dir).weights);
    const name = 'decoder/embedding/table';
    const got = averaged.model.namedVariables.get(name)!.dataSync();
    for (let i = 0; i < got.length; i += 7) assert.ok(Math.abs(got[i]! - (a![name]!.data[i]! + b![name]!.data[i]!) / 2) < 1e-6);
    assert.deepEqual(averaged.sources.map((c) => c.step), checkpoints.slice(-2).map((c) => c.step));
    averaged.model.dispose();
  });

  it('mt translate works in a pipe from a copy of the run directory moved elsewhere; n-best, JSON and attention outputs', () => {
    const expected = translateLines(translator.model, translator.subwords, INPUT, run.config.decode);
    const moved = path.join(tempDir('mt-decode-moved-'), 'elsewhere');
    fs.cpSync(run.root, moved, { recursive: true });
    const original = run.root + '.away';
    fs.renameSync(run.root, original);
    try {
      const input = INPUT.join('\n') + '\n';
      const plain = runMt(['translate', '--run', moved], { input });
      assert.equal(plain.code, 0, plain.stderr);
      assert.deepEqual(plain.stdout.split('\n').slice(0, -1), expected.map((r) => r.text));
      assert.match(plain.stderr, /warning: input line 5: \d+ subword tokens, truncated/);
      assert.match(plain.stderr, /translated 6 sentences \(2 empty, 1 truncated\), \d+ target tokens in [\d.]+ s/);

      const attention = path.join(moved, 'att.jsonl');
      const nbest = runMt(['translate', '--run', moved, '--nbest', '3', '--attention', attention, '-q'], { input });
      assert.equal(nbest.code, 0, nbest.stderr);
      assert.match(nbest.stderr, /^warning: input line 5: [^\n]*\n$/, '-q leaves only the warning');
      const rows = nbest.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
      assert.deepEqual([...new Set(rows.map((r) => r[0]))], ['0', '1', '2', '3', '4', '5']);
      assert.deepEqual(rows.filter((r) => r[0] === '1'), [['1', '0', '']]);
      const first = rows.filter((r) => r[0] === '0');
      assert.equal(first.length, 3);
      assert.deepEqual(first.map((r) => Number(r[1])), first.map((r) => Number(r[1])).sort((x, y) => y - x));
      const att = fs.readFileSync(attention, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; source: string[]; target: string[]; weights: number[][] });
      assert.equal(att.length, INPUT.length);
      assert.equal(att[0]!.weights.length, att[0]!.target.length);
      assert.equal(att[0]!.weights[0]!.length, att[0]!.source.length);
      assert.deepEqual(att[1], { index: 1, source: [], target: [], weights: [] });

      const json = runMt(['translate', '--run', moved, '--json', '--beam', '1'], { input: 'a b\n\n' });
      assert.equal(json.code, 0, json.stderr);
      const objs = json.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { index: number; text: string; hypotheses: unknown[] });
      assert.deepEqual(objs.map((o) => [o.index, o.hypotheses.length]), [[0, 1], [1, 0]]);

      const bad = runMt(['translate', '--run', moved, '--nbest', '4', '--beam', '2'], { input: 'a\n' });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /^mt: error: --nbest 4: cannot exceed the beam size \(2\)/);
    } finally {
      fs.renameSync(original, run.root);
      fs.rmSync(path.dirname(moved), { recursive: true, force: true });
    }
  });

  it('streams: the first translation comes out before the input ends', { timeout: 120_000 }, async () => {
    const child = spawn(process.execPath, [MT_BIN, 'translate', '--run', run.root, '--beam', '1', '-q'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, MT_THREADS: '1' }, // the 2-thread stream is test/decode-parallel.test.ts's
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const firstLine = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('\n')) resolve();
      }),
    );
    child.stdin.write('a b c\n');
    await firstLine; // stdin is still open: the line was translated on its own
    child.stdin.end('d e f\n\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.equal(stdout.split('\n').length - 1, 3);
  });
});
