/**
 * Backend-aware parallelism (parallelismFor, src/backend/names.ts): worker threads on wasm and
 * cpu, one tfjs in the main thread on node and gpu, whose explicit `--threads N` becomes
 * TensorFlow's own thread count (TF_NUM_INTRAOP_THREADS, set before tfjs-node loads).
 * tfjs-node cannot be installed here (its install downloads libtensorflow), so a "node" backend
 * is simulated: in process through initBackend's injectable loaders, and for the real `mt`
 * commands by a module hook that answers `@tensorflow/tfjs-node` with tfjs's cpu kernels
 * registered under tfjs-node's backend name, and records the environment it was loaded in.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendInfo, type BackendLoader } from '../src/backend/index.ts';
import { MAX_AUTO_WORKERS, parallelismFor, type ConcreteBackend } from '../src/backend/names.ts';
import { DecodePool } from '../src/decode/parallel.ts';
import { translateRun } from '../src/decode/run.ts';
import { TranslatorSession } from '../src/decode/session.ts';
import type { NmtModel } from '../src/models/types.ts';
import type { RunDir } from '../src/run/rundir.ts';
import { DataParallel } from '../src/train/parallel.ts';
import { train } from '../src/train/trainer.ts';
import { Logger } from '../src/util/log.ts';
import { REPO_ROOT, runMt, tempDir } from './helpers/cli.ts';
import { TINY_MODELS, tinyConfig, tinyRun } from './train-fixture.ts';

/** A logger that keeps its info lines instead of printing them. */
class CapturedLog extends Logger {
  readonly lines: string[] = [];
  constructor() {
    super({ quiet: true, json: false, verbose: false });
  }
  override info(msg: string): void {
    this.lines.push(msg);
  }
  override warn(msg: string): void {
    this.lines.push(`warning: ${msg}`);
  }
}

/** Sentences enough for several decoding workers on wasm (see decodeWorkers). */
const SENTENCES = Array.from({ length: 200 }, (_, i) => ['ka lo mi', 'nu pe ri so', 'tu va ze', 'bo di ka lo mi'][i % 4]!);

describe('parallelismFor: the rule for --threads on each backend', () => {
  it('wasm and cpu: worker threads; auto is every core, at most 8', () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      assert.deepEqual(parallelismFor(backend, 'auto', { cores: 2 }), { mode: 'workers', workers: 2, nativeThreads: null, note: null });
      assert.equal(parallelismFor(backend, 'auto', { cores: 32 }).workers, MAX_AUTO_WORKERS);
      assert.deepEqual(parallelismFor(backend, 3, { cores: 2 }), { mode: 'workers', workers: 3, nativeThreads: null, note: null });
      assert.equal(parallelismFor(backend, 1).workers, 1);
    }
  });

  it('node and gpu: never worker threads; auto leaves TensorFlow its default, a count becomes its thread count', () => {
    for (const backend of ['node', 'gpu'] as const) {
      // auto: TensorFlow's default (every core), or what the user put in TF_NUM_INTRAOP_THREADS.
      assert.deepEqual(parallelismFor(backend, 'auto', { cores: 6, intraOpThreads: null }), { mode: 'native', workers: 1, nativeThreads: 6, note: null });
      assert.equal(parallelismFor(backend, 'auto', { cores: 6 }).nativeThreads, 6);
      assert.equal(parallelismFor(backend, 'auto', { cores: 6, intraOpThreads: 2 }).nativeThreads, 2);
      // An explicit count, set before the backend loaded (what initBackend does).
      for (const ctx of [{ cores: 6 }, { cores: 6, intraOpThreads: 4 }]) {
        const p = parallelismFor(backend, 4, ctx);
        assert.equal(p.mode, 'native');
        assert.equal(p.workers, 1);
        assert.equal(p.nativeThreads, 4);
        assert.match(p.note!, /^threads 4: the .* on 4 threads of its own \(TF_NUM_INTRAOP_THREADS=4\), in this one thread; mt starts no worker threads on it$/);
      }
      // A count that came too late (the backend was already loaded without it): said, not silently dropped.
      const late = parallelismFor(backend, 4, { cores: 6, intraOpThreads: null });
      assert.equal(late.workers, 1);
      assert.equal(late.nativeThreads, 6);
      assert.match(late.note!, /^threads 4 ignored: .* on 6 threads of its own, fixed when it loaded \(TF_NUM_INTRAOP_THREADS unset\)/);
      assert.equal(parallelismFor(backend, 64, { cores: 2 }).workers, 1);
    }
  });

  it('applied to its own result it gives the same workers (so the trainer and the session can apply it again)', () => {
    for (const backend of ['wasm', 'cpu', 'node', 'gpu'] as ConcreteBackend[]) {
      for (const threads of ['auto', 1, 2, 5] as const) {
        const once = parallelismFor(backend, threads, { cores: 4 }).workers;
        assert.equal(parallelismFor(backend, once, { cores: 4 }).workers, once, `${backend} ${threads}`);
      }
    }
  });

  it('worker pools refuse the native backends before starting a thread', async () => {
    const model = {} as NmtModel;
    for (const backend of ['node', 'gpu'] as const) {
      await assert.rejects(DecodePool.start(2, model, backend), /decoding workers: the (node|gpu) backend runs in one thread .*tensorflow\/tfjs#8388/);
      await assert.rejects(
        DataParallel.start(2, model, { backend, model: {} as never, srcVocab: 1, tgtVocab: 1, seed: 1 }),
        /data-parallel training: the (node|gpu) backend runs in one thread/,
      );
    }
  });
});

describe('a simulated node backend, in process', () => {
  let info: BackendInfo;
  let run: RunDir;
  const seen: { loader: string; intraOp?: string; interOp?: string }[] = [];
  const record = (loader: string) => seen.push({ loader, intraOp: process.env.TF_NUM_INTRAOP_THREADS, interOp: process.env.TF_NUM_INTEROP_THREADS });
  const refuse = (name: string): BackendLoader => async () => {
    throw new Error(`${name} is not used in this test`);
  };

  before(async () => {
    delete process.env.TF_NUM_INTRAOP_THREADS;
    delete process.env.TF_NUM_INTEROP_THREADS;
    info = await initBackend(
      'auto',
      {
        gpu: async () => {
          record('gpu');
          throw new Error('@tensorflow/tfjs-node-gpu is not installed');
        },
        // tfjs-node stands in as the cpu kernels: what matters here is mt's name for the backend.
        node: async () => {
          record('node');
          if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
        },
        wasm: refuse('wasm'),
        cpu: refuse('cpu'),
      },
      { threads: 3 },
    );
    run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 2 }));
  });

  it('puts an explicit count into TensorFlow\'s variables before the native module loads, and reports it', () => {
    assert.equal(info.name, 'node');
    assert.deepEqual(seen, [
      { loader: 'gpu', intraOp: '3', interOp: '3' },
      { loader: 'node', intraOp: '3', interOp: '3' },
    ]);
    // Kept: TensorFlow reads them when it creates its context.
    assert.equal(process.env.TF_NUM_INTRAOP_THREADS, '3');
    assert.equal(info.intraOpThreads, 3);
    assert.equal(info.threads, 3);
    const p = parallelismFor(info.name, 3, info);
    assert.deepEqual([p.mode, p.workers, p.nativeThreads], ['native', 1, 3]);
    // Another count later cannot change TensorFlow's pool any more, and says so.
    assert.match(parallelismFor(info.name, 5, info).note!, /^threads 5 ignored: .* on 3 threads of its own/);
  });

  it('trains in the main thread when asked for 2 threads', async () => {
    const log = new CapturedLog();
    const summary = await train(run, { log, threads: 2 });
    assert.equal(summary.step, 2);
    assert.ok(!log.lines.some((l) => /data-parallel/.test(l)), log.lines.join('\n'));
    assert.ok(log.lines.some((l) => /backend node/.test(l)), log.lines.join('\n'));
  });

  it('translates in the main thread when asked for 2 threads, with input enough for 2 workers on wasm', async () => {
    const dir = tempDir('mt-parallelism-');
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, SENTENCES.join('\n') + '\n');
    const starts: { threads: number; mode: string; note: string | null }[] = [];
    const r = await translateRun(run, {
      input,
      output: path.join(dir, 'out.txt'),
      beam: 1,
      threads: 2,
      log: new CapturedLog(),
      onStart: ({ threads, parallelism }) => starts.push({ threads, mode: parallelism.mode, note: parallelism.note }),
    });
    assert.equal(r.summary.sentences, SENTENCES.length);
    assert.equal(starts.length, 1);
    assert.equal(starts[0]!.threads, 1);
    assert.equal(starts[0]!.mode, 'native');
    // The backend was loaded with 3 (above), so 2 cannot apply any more: the note says so.
    assert.match(starts[0]!.note!, /^threads 2 ignored/);
  });

  it('a session (what mt serve uses) keeps decoding on its own thread when asked for workers', async () => {
    const session = await TranslatorSession.open(run, { threads: 4 });
    try {
      await session.useThreads(4);
      assert.equal(session.threads, 1);
    } finally {
      await session.close();
    }
  });
});

describe('mt train, translate and info on a simulated tfjs-node', () => {
  const dir = tempDir('mt-fake-node-');
  const loaded = path.join(dir, 'loaded.txt');
  const fake = path.join(dir, 'fake-tfjs-node.mjs');
  const hooks = path.join(dir, 'hooks.mjs');
  const preload = path.join(dir, 'preload.mjs');
  fs.writeFileSync(
    fake,
    `import { appendFileSync } from 'node:fs';\n` +
      `import * as tf from ${JSON.stringify(import.meta.resolve('@tensorflow/tfjs'))};\n` +
      `appendFileSync(${JSON.stringify(loaded)}, (process.env.TF_NUM_INTRAOP_THREADS ?? 'unset') + ' ' + (process.env.TF_NUM_INTEROP_THREADS ?? 'unset') + '\\n');\n` +
      `tf.registerBackend('tensorflow', tf.findBackendFactory('cpu'), 0);\n` +
      `for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });\n`,
  );
  fs.writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {\n` +
      `  if (specifier === '@tensorflow/tfjs-node') return { url: ${JSON.stringify(pathToFileURL(fake).href)}, shortCircuit: true };\n` +
      `  return next(specifier, context);\n}\n`,
  );
  fs.writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const env = (threads: string) => ({ MT_THREADS: threads, TF_NUM_INTRAOP_THREADS: undefined, TF_NUM_INTEROP_THREADS: undefined });
  const mt = (args: string[], threads: string) => {
    fs.rmSync(loaded, { force: true });
    const r = runMt(args, { nodeArgs: ['--import', preload], env: env(threads) });
    const at = fs.existsSync(loaded) ? fs.readFileSync(loaded, 'utf8').trim() : 'not loaded';
    return { ...r, loadedWith: at };
  };
  let run: RunDir;

  before(async () => {
    run = await tinyRun(tinyConfig(TINY_MODELS.attention, { max_steps: 2 }));
  });

  it('mt info: native threads, the count set before tfjs-node loaded (text and --json)', () => {
    const json = mt(['--json', 'info'], '3');
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.loadedWith, '3 3');
    const info = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(info.name, 'node');
    assert.equal(info.tfjsBackend, 'tensorflow');
    assert.equal(info.parallelism, 'native');
    assert.equal(info.workers, 1);
    assert.equal(info.native_threads, 3);
    assert.equal(info.threads, 3);
    assert.equal(info.intraOpThreads, 3);

    const text = mt(['info'], 'auto');
    assert.equal(text.code, 0, text.stderr);
    // auto leaves TensorFlow's default alone.
    assert.equal(text.loadedWith, 'unset unset');
    assert.match(text.stdout, /^backend: +node \(tfjs backend 'tensorflow'/m);
    assert.match(text.stdout, /^threads: +\d+ native threads: one tfjs in the main thread, .*TF_NUM_INTRAOP_THREADS unset: every core\); no worker threads/m);
  });

  it('mt train --threads 2 trains in the main thread and says where the 2 went', () => {
    const r = mt(['train', '--run', run.root, '--threads', '2'], '1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.loadedWith, '2 2');
    assert.match(r.stderr, /^threads 2: the node backend \(tfjs-node\) computes on 2 threads of its own \(TF_NUM_INTRAOP_THREADS=2\), in this one thread; mt starts no worker threads on it$/m);
    assert.doesNotMatch(r.stderr, /data-parallel/);
    assert.match(r.stderr, /backend node/);
  });

  it('mt translate --threads 2 decodes in the main thread', () => {
    const input = path.join(dir, 'in.txt');
    fs.writeFileSync(input, SENTENCES.join('\n') + '\n');
    const r = mt(['translate', '--run', run.root, '--threads', '2', '--beam', '1', '-i', input, '-o', path.join(dir, 'out.txt')], '1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.loadedWith, '2 2');
    assert.match(r.stderr, /^threads 2: the node backend \(tfjs-node\) computes on 2 threads of its own/m);
    assert.match(r.stderr, /^translating with the .*, beam 1$/m);
    assert.equal(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8').split('\n').length, SENTENCES.length + 1);
  });
});

describe('initBackend falling back from the native backends', () => {
  it('puts TensorFlow\'s variables back as they were when no native backend loads', () => {
    const script = `
      import * as tf from '@tensorflow/tfjs';
      import { initBackend } from ${JSON.stringify(path.join(REPO_ROOT, 'src/backend/index.ts'))};
      const seen = {};
      const missing = (name) => async () => { seen[name] = process.env.TF_NUM_INTRAOP_THREADS ?? 'unset'; throw new Error(name + ' is not installed'); };
      const info = await initBackend('auto', {
        gpu: missing('gpu'), node: missing('node'), wasm: missing('wasm'),
        cpu: async () => { seen.cpu = process.env.TF_NUM_INTRAOP_THREADS ?? 'unset'; await tf.setBackend('cpu'); },
      }, { threads: 4 });
      console.log(JSON.stringify({ seen, after: [process.env.TF_NUM_INTRAOP_THREADS ?? 'unset', process.env.TF_NUM_INTEROP_THREADS ?? 'unset'], name: info.name, intraOp: info.intraOpThreads }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, TF_NUM_INTRAOP_THREADS: undefined, TF_NUM_INTEROP_THREADS: '7' },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    // Set for the native loaders, put back (unset; the user's 7) once wasm and cpu are all that is left.
    assert.deepEqual(out.seen, { gpu: '4', node: '4', wasm: 'unset', cpu: 'unset' });
    assert.deepEqual(out.after, ['unset', '7']);
    assert.equal(out.name, 'cpu');
    assert.equal(out.intraOp, null);
  });
});
