/**
 * Decoding on worker threads (src/decode/parallel.ts) gives exactly what one thread gives:
 * the same batches decoded by the same code on the same weights, so byte-identical n-best
 * lists, scores and attention, in input order, empty lines included; also through the stream
 * (several windows in flight) and the real `mt translate --threads 2`, streaming from a pipe.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import type { DecodeConfig } from '../src/config/schema.ts';
import { loadTranslator, type Translator } from '../src/decode/load.ts';
import { DecodePool, MIN_SENTENCES_PER_WORKER } from '../src/decode/parallel.ts';
import { arrayWindows, translateStream } from '../src/decode/stream.ts';
import { formatJson, translateLines } from '../src/decode/translate.ts';
import type { RunDir } from '../src/run/rundir.ts';
import { train } from '../src/train/trainer.ts';
import { MT_BIN, runMt } from './helpers/cli.ts';
import { TINY_MODELS, quietLog, tinyConfig, tinyRun } from './train-fixture.ts';

// Empty and blank lines, lengths that sort into several batches, and one line over max_input_len.
const INPUT = ['ka lo mi', '', 'nu pe ri so tu va', 'ze', '  ', 'bo di ka lo', 'mi nu', Array(14).fill('pe ri').join(' '), 'so', 'tu va ze bo di'];

describe('parallel decoding', () => {
  let run: RunDir;
  let translator: Translator;
  let pool: DecodePool;
  let decode: DecodeConfig;

  before(async () => {
    await initBackend('wasm');
    const config = tinyConfig(TINY_MODELS.attention, { max_steps: 3 });
    run = await tinyRun({ ...config, decode: { ...(config.decode as object), batch_size: 2, max_input_len: 12, beam_size: 3, nbest: 2 } });
    await train(run, { log: quietLog() });
    translator = await loadTranslator(run);
    decode = run.config.decode;
    pool = await DecodePool.start(2, translator.model, 'wasm');
  });

  after(async () => {
    await pool?.close();
    translator?.model.dispose();
    if (run) fs.rmSync(path.dirname(run.root), { recursive: true, force: true });
  });

  it('gives byte-identical results to one thread, greedy and beam, in input order, with the same warnings and progress', async () => {
    assert.equal(pool.threads, 2);
    for (const beam of [1, 3]) {
      const settings = { ...decode, beam_size: beam, nbest: Math.min(beam, 2) };
      const one: string[] = [];
      const two: string[] = [];
      let batched = 0;
      const expected = translateLines(translator.model, translator.subwords, INPUT, settings, { attention: true, warn: (m) => one.push(m), firstLine: 5 });
      const got = await pool.translateLines(translator.subwords, INPUT, settings, { attention: true, warn: (m) => two.push(m), firstLine: 5, onBatch: (n) => (batched += n) });
      assert.deepEqual(got, expected, `beam ${beam}`);
      assert.deepEqual(got.map((t, i) => formatJson(i, t)), expected.map((t, i) => formatJson(i, t)));
      assert.deepEqual([got[1]!.text, got[4]!.text], ['', '']);
      assert.ok(got[7]!.truncated && got[7]!.hypotheses.length > 0, 'the long line is truncated and translated');
      assert.deepEqual(two, one);
      assert.ok(two.some((w) => w.startsWith('input line 12: ')), two.join('\n'));
      assert.equal(batched, INPUT.filter((l) => l.trim() !== '').length);
    }
  });

  it('streams several windows in flight through the pool and writes them in order', async () => {
    const windows = () => arrayWindows([...INPUT, ...INPUT.slice().reverse()], 3);
    const single: string[] = [];
    const parallel: string[] = [];
    let progress = 0;
    const expected = await translateStream(translator, windows(), (t) => single.push(t) > 0, { decode, format: 'nbest' });
    const got = await translateStream(translator, windows(), (t) => parallel.push(t) > 0, { decode, format: 'nbest', pool, onProgress: (n) => (progress = Math.max(progress, n)) });
    assert.deepEqual(parallel, single);
    assert.equal(parallel.length, 7);
    assert.deepEqual({ ...got, seconds: 0 }, { ...expected, seconds: 0 });
    assert.equal(progress, 2 * INPUT.length);
    // A closed output stops early.
    const early: string[] = [];
    const stopped = await translateStream(translator, windows(), (t) => early.push(t) < 2, { decode, format: 'text', pool });
    assert.equal(early.length, 2);
    assert.equal(stopped.sentences, 6);
  });

  it('a failing batch rejects (and so does every later one) instead of hanging', async () => {
    const failing = await DecodePool.start(1, translator.model, 'wasm');
    try {
      const search = { bosId: 2, eosId: 3, padId: 0, maxLenA: 1, maxLenB: 2, minLen: 0 };
      await assert.rejects(failing.decode([[]], decode, search), /decoding worker: decode: sentence 0 is empty/);
      await assert.rejects(failing.decode([[5]], decode, search), /sentence 0 is empty/);
    } finally {
      await failing.close();
    }
  });

  it('mt translate --threads 2: same output as one thread, streamed from a pipe, quiet when the reader goes away; bad --threads exits 2', { timeout: 120_000 }, async () => {
    // Enough lines for two workers (MIN_SENTENCES_PER_WORKER each): fewer are decoded without any.
    // They span several windows of 16 batches, each sorted into batches on its own, as here.
    const many = Array.from({ length: Math.ceil((2 * MIN_SENTENCES_PER_WORKER) / INPUT.length) }, () => INPUT).flat();
    const expected = [...arrayWindows(many, 16 * decode.batch_size)].flatMap((w) => translateLines(translator.model, translator.subwords, w, decode));
    const file = path.join(path.dirname(run.root), 'many.txt');
    fs.writeFileSync(file, many.join('\n') + '\n');
    const input = INPUT.join('\n') + '\n';
    const json = runMt(['translate', '--run', run.root, '--threads', '2', '--json', '-i', file]);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stdout, expected.map((t, i) => formatJson(i, t)).join(''));
    assert.match(json.stderr, /beam 3, 2-best, on 2 threads/);

    // MT_THREADS=2 in the environment: the first line comes out while stdin is still open.
    const child = spawn(process.execPath, [MT_BIN, 'translate', '--run', run.root, '--beam', '1', '--nbest', '1', '-q'], { env: { ...process.env, MT_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const firstLine = new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('\n')) resolve();
      }),
    );
    child.stdin.write(`${INPUT[0]}\n`);
    await Promise.race([firstLine, exited]);
    assert.equal(stdout.split('\n').length, 2, `one line out while stdin is open; ${stderr}`);
    child.stdin.end(`${INPUT[2]}\n\n`);
    assert.equal(await exited, 0, stderr);
    const greedy = translateLines(translator.model, translator.subwords, [INPUT[0]!, INPUT[2]!, ''], { ...decode, beam_size: 1, nbest: 1 });
    assert.equal(stdout, greedy.map((t) => t.text + '\n').join(''));

    // A reader that goes away (`| head -1`) ends the translation quietly, windows still in flight.
    const head = spawn(process.execPath, [MT_BIN, 'translate', '--run', run.root, '--threads', '2', '--beam', '1', '--nbest', '1', '-q']);
    let headErr = '';
    head.stderr.on('data', (d: Buffer) => (headErr += d));
    head.stdout.once('data', () => head.stdout.destroy());
    head.stdin.end(Array(40).fill(input).join(''));
    assert.equal(await new Promise<number | null>((resolve) => head.on('exit', resolve)), 0, headErr);
    assert.doesNotMatch(headErr, /error/);

    const flag = runMt(['translate', '--run', run.root, '--threads', '0'], { input });
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "mt: error: --threads: expected auto or a whole number from 1 to 64, got '0'\n");
    const env = runMt(['translate', '--run', run.root], { input, env: { MT_THREADS: 'many' } });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /^mt: error: MT_THREADS: expected auto or a whole number/);
  });
});
