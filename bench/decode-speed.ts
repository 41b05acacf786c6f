/**
 * Decoding speed: sentences/s of greedy and beam-5 search on Multi30k test2016 (German sources)
 * for each model family, next to an equivalent PyTorch implementation of the same model and
 * search (bench/decode_reference.py) run in the same invocation, and their ratio.
 *
 *   node --import tsx bench/decode-speed.ts [--sentences 1000] [--families seq2seq,attention,transformer]
 *                                           [--length 25] [--batch 32] [--threads 1] [--torch-threads N] [--no-torch]
 *
 * --threads N decodes mt's batches on N worker threads (src/decode/parallel.ts; default 1, this
 * thread, as the figures recorded before it); PyTorch gets as many (--torch-threads, default N).
 *
 * Comparison rows: untrained models of the sizes in configs/multi30k-<family>.yaml (vocabulary
 * 8000), every output forced to exactly --length tokens (eos banned before, forced at the
 * limit), so both sides do the same steps whatever the weights. Sources are the run's subword
 * ids when a trained run of that family exists under runs/, else hashed words. Trained rows:
 * mt alone, end to end (subwords, natural lengths), with the newest trained German-source run of the family.
 * Tokenization is outside the timed part of the comparison, on both sides.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { activeBackend, initBackend } from '../src/backend/index.ts';
import { listCheckpoints } from '../src/checkpoint/index.ts';
import type { DecodeConfig, ModelConfig } from '../src/config/schema.ts';
import { DecodeSchema } from '../src/config/sections/decode.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { loadTranslator } from '../src/decode/load.ts';
import { DecodePool } from '../src/decode/parallel.ts';
import type { Hypothesis, SearchOptions } from '../src/decode/search.ts';
import { decodeBatch, translateLines } from '../src/decode/translate.ts';
import { createModel, type NmtModel } from '../src/models/index.ts';
import { RunDir } from '../src/run/rundir.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = path.resolve(ROOT, '..', 'shared', 'data', 'multi30k', 'test2016.de');
const FAMILIES = ['seq2seq', 'attention', 'transformer'] as const;
const VOCAB = 8000;
const BEAM = 5;
const ALPHA = 0.6;
const IDS = { bosId: 2, eosId: 3, padId: 0 };

const { values: args } = parseArgs({
  options: {
    sentences: { type: 'string', default: '1000' },
    families: { type: 'string', default: FAMILIES.join(',') },
    length: { type: 'string', default: '25' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    'torch-threads': { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
  },
});
const count = Number(args.sentences);
const fixedLength = Number(args.length);
const batchSize = Number(args.batch);
const threads = Number(args.threads);
const torchThreads = Number(args['torch-threads'] ?? threads);
for (const [flag, n] of [['--threads', threads], ['--torch-threads', torchThreads]] as const) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a whole number ≥ 1`);
}

/** The newest run under runs/ of this family with a checkpoint that translates German (the sources here), if any. */
function trainedRun(family: string): RunDir | undefined {
  const runs = path.join(ROOT, 'runs');
  if (!fs.existsSync(runs)) return undefined;
  const found: { run: RunDir; mtime: number }[] = [];
  for (const name of fs.readdirSync(runs)) {
    try {
      const run = RunDir.open(path.join(runs, name));
      const checkpoints = listCheckpoints(run);
      if (run.config.model.type === family && run.config.data.src_lang === 'de' && checkpoints.length > 0) {
        found.push({ run, mtime: fs.statSync(checkpoints[checkpoints.length - 1]!.dir).mtimeMs });
      }
    } catch {
      // not a run directory, or an unreadable one: not a candidate
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime)[0]?.run;
}

function configModel(family: string): ModelConfig {
  const doc = parseYaml(fs.readFileSync(path.join(ROOT, 'configs', `multi30k-${family}.yaml`), 'utf8')) as { model: unknown };
  return ModelSchema.parse(doc.model);
}

/** A stable id in [4, VOCAB) per word (FNV-1a), for when no subword model is at hand. */
function hashedIds(line: string): number[] {
  return line
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => {
      let h = 0x811c9dc5;
      for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 0x01000193) >>> 0;
      return 4 + (h % (VOCAB - 4));
    });
}

function batchesOf(srcIds: number[][]): number[][][] {
  const sorted = [...srcIds].sort((a, b) => b.length - a.length);
  const out: number[][][] = [];
  for (let i = 0; i < sorted.length; i += batchSize) out.push(sorted.slice(i, i + batchSize));
  return out;
}

function findTorchPython(): string | undefined {
  if (args['no-torch']) return undefined;
  for (const py of [process.env.MT_BENCH_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

interface Timing {
  seconds: number;
  sentences: number;
  tokens: number;
}

interface TorchResult {
  torch: string;
  threads: number;
  blas: string[];
  greedy: Timing;
  beam: Timing;
}

async function time(fn: () => Promise<number> | number, sentences: number): Promise<Timing> {
  const start = performance.now();
  const tokens = await fn();
  return { seconds: (performance.now() - start) / 1000, sentences, tokens };
}

/** A pool of `threads` decoding workers with copies of `model`, or none for one thread. */
async function poolFor(model: NmtModel): Promise<DecodePool | undefined> {
  return threads > 1 ? DecodePool.start(threads, model, activeBackend()!.name) : undefined;
}

const rate = (t: Timing) => t.sentences / t.seconds;
const fmt = (x: number) => x.toFixed(1);

async function main(): Promise<void> {
  const backend = await initBackend('auto');
  const lines = fs.readFileSync(SOURCES, 'utf8').split('\n').filter(Boolean).slice(0, count);
  const python = findTorchPython();
  console.log(`mt decoding benchmark: ${lines.length} sentences of ${path.basename(SOURCES)}, batch ${batchSize}, beam ${BEAM}, α ${ALPHA}`);
  console.log(`backend ${backend.name} (${backend.threads} thread(s) reported; tfjs wasm computes on 1 in Node), node ${process.version}`);
  console.log(`mt: ${threads > 1 ? `${threads} decoding worker threads` : '1 thread (no workers)'}`);
  console.log(python ? `reference: PyTorch via ${python}, ${torchThreads} thread(s)` : 'reference: skipped (no python3 with torch; apt-get install python3-torch)');
  const table: string[] = [
    '| family | parameters | search | mt sent/s | PyTorch sent/s | mt / PyTorch |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const trainedTable: string[] = ['| family | run | search | sentences/s | target tokens/s |', '| --- | --- | --- | --- | --- |'];
  let blas: string[] | undefined;

  for (const family of args.families.split(',')) {
    const run = trainedRun(family);
    let srcIds = lines.map(hashedIds);
    if (run) {
      const translator = await loadTranslator(run);
      const trainedPool = await poolFor(translator.model);
      const translate = async (input: string[], decode: DecodeConfig) =>
        trainedPool ? trainedPool.translateLines(translator.subwords, input, decode) : translateLines(translator.model, translator.subwords, input, decode);
      try {
        srcIds = lines.map((l) => translator.subwords.src.encodeIds(l)).filter((ids) => ids.length > 0);
        for (const beam of [1, BEAM]) {
          const decode = DecodeSchema.parse({ ...run.config.decode, beam_size: beam, nbest: 1, batch_size: batchSize });
          await translate(lines.slice(0, batchSize * threads), decode); // warm-up (every worker)
          const t = await time(async () => (await translate(lines, decode)).reduce((n, r) => n + (r.hypotheses[0]?.ids.length ?? 0), 0), lines.length);
          const row = `| ${family} | ${path.basename(run.root)} (${translator.source}) | ${beam === 1 ? 'greedy' : `beam ${beam}`} | ${fmt(rate(t))} | ${fmt(t.tokens / t.seconds)} |`;
          trainedTable.push(row);
          console.log(`trained: ${row}`);
        }
      } finally {
        await trainedPool?.close();
        translator.model.dispose();
      }
    }

    const config = configModel(family);
    const model = createModel(config, VOCAB, VOCAB, 1);
    const batches = batchesOf(srcIds);
    const search: SearchOptions = { ...IDS, maxLenA: 0, maxLenB: fixedLength, minLen: fixedLength };
    const greedy = DecodeSchema.parse({ beam_size: 1 });
    const beam = DecodeSchema.parse({ beam_size: BEAM, length_penalty: ALPHA, nbest: 1 });
    const pool = await poolFor(model);
    /** Target tokens of the best hypotheses of `some` batches. */
    const decodeAll = async (some: number[][][], decode: DecodeConfig): Promise<number> => {
      const nbest: Hypothesis[][][] = pool ? await Promise.all(some.map((b) => pool.decode(b, decode, search))) : some.map((b) => decodeBatch(model, b, decode, search));
      return nbest.reduce((n, batch) => n + batch.reduce((m, h) => m + h[0]!.ids.length, 0), 0);
    };
    let mtGreedy: Timing;
    let mtBeam: Timing;
    try {
      await decodeAll(Array.from({ length: threads }, () => batches[0]!), greedy); // warm-up (every worker)
      mtGreedy = await time(() => decodeAll(batches, greedy), srcIds.length);
      mtBeam = await time(() => decodeAll(batches, beam), srcIds.length);
    } finally {
      await pool?.close();
    }
    const params = `${(model.parameterCount() / 1e6).toFixed(1)} M`;
    model.dispose();
    let torch: TorchResult | undefined;
    if (python) {
      const job = {
        config,
        src_vocab: VOCAB,
        tgt_vocab: VOCAB,
        batches,
        bos: IDS.bosId,
        eos: IDS.eosId,
        pad: IDS.padId,
        beam: BEAM,
        alpha: ALPHA,
        max_len: fixedLength,
        min_len: fixedLength,
        threads: torchThreads,
      };
      const blasThreads = String(job.threads);
      const r = spawnSync(python, [path.join(ROOT, 'bench', 'decode_reference.py')], {
        input: JSON.stringify(job),
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        env: { ...process.env, OMP_NUM_THREADS: blasThreads, OPENBLAS_NUM_THREADS: blasThreads, MKL_NUM_THREADS: blasThreads },
      });
      if (r.status !== 0) throw new Error(`decode_reference.py failed (${r.status}): ${r.stderr.slice(-2000)}`);
      torch = JSON.parse(r.stdout) as TorchResult;
      blas = torch.blas;
    }
    for (const [name, mt, ref] of [
      ['greedy', mtGreedy, torch?.greedy],
      [`beam ${BEAM}`, mtBeam, torch?.beam],
    ] as const) {
      if (ref && ref.tokens !== mt.tokens) console.log(`warning: ${family} ${name}: mt produced ${mt.tokens} tokens, PyTorch ${ref.tokens}`);
      const row = `| ${family} | ${params} | ${name} | ${fmt(rate(mt))} | ${ref ? fmt(rate(ref)) : '-'} | ${ref ? (rate(mt) / rate(ref)).toFixed(2) : '-'} |`;
      table.push(row);
      console.log(`fixed length ${fixedLength}: ${row}`);
    }
  }
  console.log(`\nUntrained models of the configs' sizes, vocabulary ${VOCAB}, every output ${fixedLength} tokens; ${activeBackend()?.name} ${threads} thread(s) vs PyTorch ${torchThreads} thread(s)${blas ? `, BLAS ${blas.join(', ') || 'none mapped'}` : ''}:\n`);
  console.log(table.join('\n'));
  if (trainedTable.length > 2) console.log(`\nTrained runs, end to end (subwords, natural lengths, mt only):\n\n${trainedTable.join('\n')}`);
}

await main();
