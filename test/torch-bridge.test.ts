/**
 * The PyTorch bridge (python/mt_torch, issue 21) against mt itself:
 *  - every family and variant (GRU/LSTM, uni/bidirectional, every attention score, input feeding,
 *    context_every_step, tied with and without bottleneck, pre/post-norm, learned positions):
 *    the same weights and batch give the same teacher-forced logits within 1e-4, the same greedy
 *    outputs, and weights that come back bit-identical from PyTorch;
 *  - a tiny run of each family trained a few steps by mt: greedy translations of 50 sentences
 *    are identical, and a checkpoint round trip mt → PyTorch (weights and Adam moments) → mt is
 *    bit-identical and loads in mt;
 *  - `torchrun --nproc_per_node=2` (gloo, loopback) trains a tiny run a few hundred steps, its loss
 *    falls, and mt translate, mt eval and mt train --reset-optimizer take over its checkpoint.
 *  - and python/tests (unittest: the package on its own, no mt needed) pass.
 * The Python side runs with Debian's python3-torch (/usr/bin/python3 and torchrun; MT_TORCH_PYTHON
 * picks another interpreter).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/index.ts';
import { loadCheckpoint } from '../src/checkpoint/index.ts';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from '../src/checkpoint/safetensors.ts';
import type { ModelConfig } from '../src/config/schema.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { greedyDecode } from '../src/decode/greedy.ts';
import { searchOptions } from '../src/decode/translate.ts';
import { readLinesSync } from '../src/data/lines.ts';
import { createModel } from '../src/models/index.ts';
import type { NmtModel } from '../src/models/types.ts';
import { RunDir } from '../src/run/rundir.ts';
import { loadSubwords } from '../src/subword/index.ts';
import { train } from '../src/train/trainer.ts';
import { mulberry32 } from '../src/util/random.ts';
import { REPO_ROOT, runMtAsync, tempDir } from './helpers/cli.ts';
import { missingTool } from './helpers/requirements.ts';
import { quietLog, readMetrics, TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

const PYTHON = process.env.MT_TORCH_PYTHON ?? (fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const BRIDGE = path.join(REPO_ROOT, 'python', 'tests', 'bridge.py');
const TRAIN_PY = path.join(REPO_ROOT, 'python', 'mt_torch', 'train.py');

/** Why the suite is skipped: no torchrun (Debian's python3-torch), or a python3 without torch and numpy. */
function missingTorch(): string | undefined {
  const noTorchrun = missingTool('torchrun', 'python3-torch');
  if (noTorchrun) return noTorchrun;
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  if (r.status === 0) return undefined;
  const reason = `needs ${PYTHON} with torch and numpy (apt-get install python3-torch)`;
  if (process.env.MT_TEST_REQUIRE_ALL === '1') throw new Error(`MT_TEST_REQUIRE_ALL=1 but ${reason}`);
  return reason;
}

const skip = missingTorch();

/**
 * torchrun of torch 1.13 under Python 3.11 (Debian bookworm's python3-torch) cannot parse its own
 * default `--redirects 0 --tee 0` (Std.from_str gives None: AttributeError 'NoneType' object has no
 * attribute 'get'); `--redirects 1 --tee 1` (stdout through a log file, echoed) avoids that code path.
 */
function torchrunWorkaround(): string[] {
  const probe = 'from torch.distributed.elastic.multiprocessing.api import Std; print(Std.from_str("0") is None)';
  const r = spawnSync(PYTHON, ['-c', probe], { encoding: 'utf8' });
  return r.stdout.trim() === 'True' ? ['--redirects', '1', '--tee', '1'] : [];
}

/** Run python (the bridge, or train.py through torchrun); fails the test with its output on a non-zero exit. */
function python(args: string[], opts: { cmd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(opts.cmd ?? PYTHON, args, {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1', ...opts.env },
    timeout: 240_000,
  });
  assert.equal(r.status, 0, `${opts.cmd ?? PYTHON} ${args.join(' ')}: exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function readTensors(file: string): Record<string, HostTensor> {
  return decodeSafetensors(fs.readFileSync(file)).tensors;
}

function assertBitIdentical(actual: Record<string, HostTensor>, expected: Record<string, HostTensor>, what: string): void {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${what}: tensor names`);
  for (const [name, e] of Object.entries(expected)) {
    const a = actual[name]!;
    assert.deepEqual(a.shape, e.shape, `${what}: ${name} shape`);
    assert.ok(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength)), `${what}: ${name} differs`);
  }
}

function weightsOf(model: NmtModel): Record<string, HostTensor> {
  return Object.fromEntries([...model.namedVariables].map(([n, v]) => [n, { dtype: 'F32' as const, shape: v.shape, data: v.dataSync() as Float32Array }]));
}

const SRC_VOCAB = 17;
const TGT_VOCAB = 19;
const rnn = { emb_size: 6, hidden_size: 8, dropout: 0.2 };
const VARIANTS: Record<string, Record<string, unknown>> = {
  'seq2seq gru': { type: 'seq2seq', cell: 'gru', ...rnn, bidirectional: false },
  'seq2seq lstm bi 2 layers context tied': { type: 'seq2seq', cell: 'lstm', ...rnn, layers: 2, context_every_step: true, tie_embeddings: true },
  'seq2seq gru bi context': { type: 'seq2seq', cell: 'gru', ...rnn, context_every_step: true },
  'attention bahdanau gru bi feeding': { type: 'attention', cell: 'gru', ...rnn, attention: 'bahdanau' },
  'attention luong_dot lstm no feeding': { type: 'attention', cell: 'lstm', ...rnn, bidirectional: false, attention: 'luong_dot', input_feeding: false },
  'attention luong_general gru 2 layers tied': { type: 'attention', cell: 'gru', ...rnn, layers: 2, attention: 'luong_general', tie_embeddings: true },
  'attention luong_scaled_dot lstm bi feeding': { type: 'attention', cell: 'lstm', ...rnn, attention: 'luong_scaled_dot' },
  'attention bahdanau lstm 2 layers no feeding tied': { type: 'attention', cell: 'lstm', emb_size: 8, hidden_size: 8, layers: 2, attention: 'bahdanau', input_feeding: false, tie_embeddings: true },
  'transformer pre sinusoidal tied': { type: 'transformer', d_model: 8, heads: 2, ff_size: 16, encoder_layers: 2, decoder_layers: 2, max_positions: 32 },
  'transformer post learned untied': { type: 'transformer', d_model: 8, heads: 2, ff_size: 16, encoder_layers: 1, decoder_layers: 2, norm: 'post', positions: 'learned', tie_embeddings: false, max_positions: 32 },
  'transformer pre learned tied 4 heads': { type: 'transformer', d_model: 8, heads: 4, ff_size: 12, encoder_layers: 1, decoder_layers: 1, positions: 'learned', max_positions: 32 },
};

/** Every weight drawn afresh, biases and gains included, so that each one shows in the logits. */
function randomize(model: NmtModel, seed: number): void {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  for (const [name, v] of model.namedVariables) {
    const values = Float32Array.from({ length: v.size }, () => (name.endsWith('/gain') ? 1 : 0) + 0.5 * normal());
    v.assign(tf.tensor(values, v.shape));
  }
}

function randomIds(count: number, minLen: number, maxLen: number, vocab: number, seed: number): number[][] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => Array.from({ length: minLen + Math.floor(next() * (maxLen - minLen + 1)) }, () => 4 + Math.floor(next() * (vocab - 4))));
}

const pad = (rows: number[][], width: number, value: number) => rows.map((r) => [...r, ...new Array<number>(width - r.length).fill(value)]);

describe('PyTorch bridge (python/mt_torch)', { skip }, () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('python unit tests (python/tests: safetensors, config reader, mt batching, conversions, train.py)', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: path.join(REPO_ROOT, 'python'),
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      timeout: 240_000,
    });
    assert.equal(r.status, 0, r.stderr.slice(-4000));
    assert.match(r.stderr, /^OK/m);
  });

  it('every family and variant: same logits within 1e-4, same greedy outputs, weights back bit-identical', (t) => {
    const dir = tempDir('mt-torch-logits-');
    const cases: Record<string, unknown>[] = [];
    const expected = new Map<string, { logits: Float32Array; shape: number[]; weights: Record<string, HostTensor>; greedy: number[][] }>();
    const decode = { bos: 2, eos: 3, pad: 0, max_len_a: 1.5, max_len_b: 3, min_len: 1 };
    Object.entries(VARIANTS).forEach(([label, input], k) => {
      const config: ModelConfig = ModelSchema.parse(input);
      const model = createModel(config, SRC_VOCAB, TGT_VOCAB, 11);
      randomize(model, 100 + k);
      const src = randomIds(4, 1, 7, SRC_VOCAB, 200 + k);
      const tgt = randomIds(4, 1, 5, TGT_VOCAB, 300 + k);
      const S = Math.max(...src.map((s) => s.length));
      const tgtIn = tgt.map((t) => [decode.bos, ...t]);
      const T = Math.max(...tgtIn.map((t) => t.length));
      const batch = {
        src: pad(src, S, 0),
        mask: src.map((s) => Array.from({ length: S }, (_, i) => (i < s.length ? 1 : 0))),
        tgt_in: pad(tgtIn, T, 0),
      };
      const tgtOut = pad(tgt.map((t) => [...t, decode.eos]), T, 0);
      const tensors = {
        src: tf.tensor2d(batch.src, undefined, 'int32'),
        srcMask: tf.tensor2d(batch.mask, undefined, 'float32'),
        tgtIn: tf.tensor2d(batch.tgt_in, undefined, 'int32'),
        tgtOut: tf.tensor2d(tgtOut, undefined, 'int32'),
        tgtMask: tf.tensor2d(tgtOut.map((r, i) => r.map((_, j) => (j <= tgt[i]!.length ? 1 : 0))), undefined, 'float32'),
      };
      const logits = model.forward(tensors, false);
      const greedySrc = randomIds(10, 1, 6, SRC_VOCAB, 400 + k);
      const greedy = greedyDecode(model, greedySrc, { bosId: decode.bos, eosId: decode.eos, padId: decode.pad, maxLenA: decode.max_len_a, maxLenB: decode.max_len_b, minLen: decode.min_len, maxLenCap: config.type === 'transformer' ? config.max_positions - 1 : undefined });
      const name = `case${k}`;
      const weights = weightsOf(model);
      fs.writeFileSync(path.join(dir, `${name}.safetensors`), encodeSafetensors(weights));
      expected.set(name, { logits: logits.dataSync() as Float32Array, shape: logits.shape, weights, greedy: greedy.map((h) => h.ids) });
      cases.push({ name, label, model: config, src_vocab: SRC_VOCAB, tgt_vocab: TGT_VOCAB, weights: `${name}.safetensors`, batch, greedy: { ...decode, src_ids: greedySrc } });
      tf.dispose([logits, ...Object.values(tensors)]);
      model.dispose();
    });
    fs.writeFileSync(path.join(dir, 'job.json'), JSON.stringify({ cases }));
    python([BRIDGE, 'logits', dir]);
    let largest = 0;
    for (const c of cases) {
      const name = c.name as string;
      const label = c.label as string;
      const want = expected.get(name)!;
      const got = readTensors(path.join(dir, `${name}.logits.safetensors`)).logits!;
      assert.deepEqual(got.shape, want.shape, `${label}: logits shape`);
      let worst = 0;
      for (let i = 0; i < want.logits.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.logits[i]!));
      assert.ok(worst < 1e-4, `${label}: logits differ by up to ${worst}`);
      largest = Math.max(largest, worst);
      assertBitIdentical(readTensors(path.join(dir, `${name}.back.safetensors`)), want.weights, `${label}: weights mt → PyTorch → mt`);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${name}.greedy.json`), 'utf8')), want.greedy, `${label}: greedy outputs`);
    }
    t.diagnostic(`largest logit difference over ${cases.length} variants: ${largest.toExponential(2)}`);
  });

  for (const family of ['seq2seq', 'attention', 'transformer'] as const) {
    it(`${family} trained by mt: 50 greedy translations identical; checkpoint mt → PyTorch → mt bit-identical`, async () => {
      const run = await tinyRun(tinyConfig(TINY_MODELS[family], { max_steps: 40, valid_every: 40, log_every: 40 }));
      await train(run, { log: quietLog() });
      const subwords = await loadSubwords(run);
      const { model, dir } = await loadCheckpoint(run, 'last');
      const srcIds = readLinesSync(run.path('data', 'train.src')).slice(0, 50).map((l) => subwords.src.encodeIds(l));
      const opts = searchOptions(run.config.model, run.config.decode, subwords);
      const mtIds = greedyDecode(model, srcIds, opts).map((h) => h.ids);
      const job = path.join(run.root, 'greedy-job.json');
      const out = path.join(run.root, 'greedy-out.json');
      fs.writeFileSync(job, JSON.stringify({ run: run.root, checkpoint: 'last', src_ids: srcIds, bos: opts.bosId, eos: opts.eosId, pad: opts.padId, max_len_a: opts.maxLenA, max_len_b: opts.maxLenB, min_len: opts.minLen }));
      python([BRIDGE, 'greedy', job, out]);
      const torchIds = (JSON.parse(fs.readFileSync(out, 'utf8')) as { ids: number[][] }).ids;
      assert.equal(torchIds.length, 50);
      assert.deepEqual(torchIds, mtIds);
      assert.ok(new Set(mtIds.map((ids) => ids.join(' '))).size > 1, 'the outputs differ between sentences');

      // Round trip into a copy of the run: weights and Adam moments bit-identical, mt loads it.
      const copy = path.join(path.dirname(run.root), 'copy');
      fs.cpSync(run.root, copy, { recursive: true });
      fs.rmSync(path.join(copy, 'checkpoints'), { recursive: true });
      const written = python([BRIDGE, 'resave', run.root, 'last', copy]).trim();
      assert.equal(path.basename(written), path.basename(dir));
      for (const file of ['model.safetensors', 'optimizer.safetensors']) {
        assertBitIdentical(readTensors(path.join(written, file)), readTensors(path.join(dir, file)), `${family} ${file}`);
      }
      const state = (d: string) => {
        const { created_at: _c, written_by: _w, ...rest } = JSON.parse(fs.readFileSync(path.join(d, 'state.json'), 'utf8')) as Record<string, unknown>;
        return rest;
      };
      assert.deepEqual(state(written), state(dir));
      const back = await loadCheckpoint(RunDir.open(copy), 'last');
      assert.deepEqual(weightsOf(back.model), weightsOf(model));
      back.model.dispose();
      model.dispose();
    });
  }

  it('torchrun --nproc_per_node=2 (gloo) trains a run; mt translate, eval and train take over its checkpoint', async () => {
    const run = await tinyRun(tinyConfig(TINY_MODELS.transformer, { max_steps: 320, max_epochs: 100, valid_every: 1000, log_every: 20 }));
    fs.mkdirSync(run.path('logs'), { recursive: true });

    // The ids PyTorch trains on are mt's: the sentencepiece module (where installed) and mt's own encoder via node.
    const subwords = await loadSubwords(run);
    const mtIds = readLinesSync(run.path('data', 'train.src')).map((l) => subwords.src.encodeIds(l));
    const encoders = ['mt', ...(spawnSync(PYTHON, ['-c', 'import sentencepiece'], { stdio: 'ignore' }).status === 0 ? ['sentencepiece'] : [])];
    for (const encoder of encoders) {
      const out = path.join(run.root, `ids-${encoder}.json`);
      python([BRIDGE, 'encode', run.root, out, encoder]);
      assert.deepEqual((JSON.parse(fs.readFileSync(out, 'utf8')) as { train: { src: number[][] } }).train.src, mtIds, `${encoder} encoding`);
    }

    const started = Date.now();
    const log = python(['--standalone', '--nnodes=1', '--nproc_per_node=2', ...torchrunWorkaround(), TRAIN_PY, '--run', run.root, '--max-steps', '300', '--valid-every', '100', '--threads', '1'], {
      cmd: 'torchrun',
      env: { GLOO_SOCKET_IFNAME: 'lo' },
    });
    const seconds = (Date.now() - started) / 1000;
    assert.match(log, /2 process\(es\) on cpu/);
    const records = readMetrics(run) as (ReturnType<typeof readMetrics>[number] & { engine?: string })[];
    const trainLoss = records.filter((r) => r.kind === 'train' && r.engine === 'torch').map((r) => r.loss!);
    const validLoss = records.filter((r) => r.kind === 'valid' && r.engine === 'torch').map((r) => r.valid_loss!);
    assert.equal(trainLoss.length, 15, log);
    assert.deepEqual(validLoss.length, 3);
    assert.ok(trainLoss.at(-1)! < 0.6 * trainLoss[0]!, `train loss falls: ${trainLoss.join(', ')}`);
    assert.ok(validLoss[2]! < validLoss[0]!, `valid loss falls: ${validLoss.join(', ')}`);
    const state = JSON.parse(fs.readFileSync(run.path('checkpoints', 'step-000300', 'state.json'), 'utf8')) as { written_by: string; training: { data: { epoch: number } } };
    assert.match(state.written_by, /2 x cpu/);
    assert.ok(seconds < 120, `torchrun took ${seconds} s`);

    const hyp = run.path('translations', 'valid.hyp');
    fs.mkdirSync(path.dirname(hyp), { recursive: true });
    const translated = await runMtAsync(['translate', '--run', run.root, '--checkpoint', 'last', '-i', run.path('data', 'valid.src'), '-o', hyp, '--beam', '1']);
    assert.equal(translated.code, 0, translated.stderr);
    assert.match(translated.stderr, /step-000300/);
    assert.equal(readLinesSync(hyp).length, readLinesSync(run.path('data', 'valid.src')).length);
    const scored = await runMtAsync(['eval', '--run', run.root, '--split', 'valid', '--json']);
    assert.equal(scored.code, 0, scored.stderr);
    assert.ok(fs.existsSync(run.path('scores', 'valid.json')));

    const resumed = await runMtAsync(['train', '--run', run.root, '--reset-optimizer']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr + resumed.stdout, /resuming from step 300/);
    const after = await loadCheckpoint(RunDir.open(run.root), 'last');
    assert.equal(after.step, 320);
    after.model.dispose();
  });
});
