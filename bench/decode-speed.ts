/**
 * Decoding speed: sentences/s of greedy and beam-5 search on Multi30k test2016 (German sources)
 * for each model family, next to an equivalent PyTorch implementation of the same model and
 * search (bench/decode_reference.py) run in the same invocation, and their ratio.
 *
 *   node --import tsx bench/decode-speed.ts [--sentences 1000] [--families seq2seq,attention,transformer]
 *                                           [--length 25] [--batch 32] [--threads 1] [--torch-threads N]
 *                                           [--trials 5] [--min-seconds 20] [--json FILE] [--no-torch]
 *
 * --threads N decodes mt's batches on N worker threads (src/decode/parallel.ts; default 1, this
 * thread, as the figures recorded before it); PyTorch gets as many (--torch-threads, default N).
 *
 * Comparison rows: untrained models of the sizes in configs/multi30k-<family>.yaml (vocabulary
 * 8000), every output forced to exactly --length tokens (eos banned before, forced at the
 * limit), so both sides do the same steps whatever the weights. Sources are the run's subword
 * ids when a trained run of that family exists under runs/, else hashed words.
 * Method (bench/trials.ts, docs/performance.md "How speed is measured"): the two sides run
 * interleaved — mt, PyTorch, mt, PyTorch, … — for `--trials` trials each, every trial a fresh
 * process (so its peak RSS is its own) that builds the model, warms up on one batch, then
 * decodes all the sentences greedily in whole passes until `--min-seconds` seconds have passed
 * (one pass at least), and the same with beam search. A trial's figure per search is sentences
 * decoded over seconds. Per side and search: median, min and max over the trials; per family:
 * the ratio of the medians, the range of the per-trial ratios, each side's peak RSS (the largest
 * of its trials'), and the load average before and after, with a warning when the machine was
 * not idle. `--json FILE` writes every trial's figures.
 *
 * Trained rows: mt alone, end to end (subwords, natural lengths), with the newest trained
 * German-source run of the family, one pass each (no trials, no reference).
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
import {
  compare,
  formatComparison,
  formatLoad,
  formatSummary,
  idleThreshold,
  interleave,
  loadAverage,
  loadLines,
  machine,
  secondsFlag,
  summarize,
  TRIAL_OPTIONS,
  wholeNumber,
  type Comparison,
  type Summary,
} from './trials.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = path.resolve(ROOT, '..', 'shared', 'data', 'multi30k', 'test2016.de');
const FAMILIES = ['seq2seq', 'attention', 'transformer'] as const;
const VOCAB = 8000;
const BEAM = 5;
const ALPHA = 0.6;
const IDS = { bosId: 2, eosId: 3, padId: 0 };
const SEARCHES = ['greedy', 'beam'] as const;
type Search = (typeof SEARCHES)[number];

const { values: args } = parseArgs({
  options: {
    child: { type: 'boolean', default: false },
    sentences: { type: 'string', default: '1000' },
    families: { type: 'string', default: FAMILIES.join(',') },
    length: { type: 'string', default: '25' },
    batch: { type: 'string', default: '32' },
    threads: { type: 'string', default: '1' },
    'torch-threads': { type: 'string' },
    'no-torch': { type: 'boolean', default: false },
    ...TRIAL_OPTIONS,
  },
});
const count = wholeNumber('--sentences', args.sentences, 1);
const fixedLength = wholeNumber('--length', args.length, 1);
const batchSize = wholeNumber('--batch', args.batch, 1);
const threads = wholeNumber('--threads', args.threads, 1);
const torchThreads = wholeNumber('--torch-threads', args['torch-threads'] ?? args.threads, 1);
const trials = wholeNumber('--trials', args.trials, 1);
const minSeconds = secondsFlag('--min-seconds', args['min-seconds']);

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

/** One search in one trial: whole passes over the sentences. */
interface Timing {
  /** all passes together */
  seconds: number;
  passes: number;
  pass_seconds: number[];
  /** per pass */
  sentences: number;
  /** target tokens of the best hypotheses, per pass */
  tokens: number;
}

/** What one side's process reports: one trial. */
interface TrialResult {
  greedy: Timing;
  beam: Timing;
  peak_rss_mb: number;
  threads: number;
  /** mt */
  parameters?: number;
  backend?: string;
  /** PyTorch */
  torch?: string;
  blas?: string[];
}

/** The job both sides' trial processes read on stdin (bench/decode_reference.py's format). */
interface Job {
  config: ModelConfig;
  src_vocab: number;
  tgt_vocab: number;
  batches: number[][][];
  bos: number;
  eos: number;
  pad: number;
  beam: number;
  alpha: number;
  max_len: number;
  min_len: number;
  threads: number;
  min_seconds: number;
}

async function time(fn: () => Promise<number> | number, sentences: number): Promise<{ seconds: number; sentences: number; tokens: number }> {
  const start = performance.now();
  const tokens = await fn();
  return { seconds: (performance.now() - start) / 1000, sentences, tokens };
}

/** Whole passes of `pass` until `minimum` seconds have passed (one at least). */
async function passes(pass: () => Promise<number>, sentences: number, minimum: number): Promise<Timing> {
  const passSeconds: number[] = [];
  let tokens = 0;
  let total = 0;
  while (passSeconds.length === 0 || total < minimum) {
    const t = await time(pass, sentences);
    passSeconds.push(t.seconds);
    total += t.seconds;
    tokens = t.tokens;
  }
  return { seconds: total, passes: passSeconds.length, pass_seconds: passSeconds, sentences, tokens };
}

/** A pool of `n` decoding workers with copies of `model`, or none for one thread. */
async function poolFor(model: NmtModel, n: number): Promise<DecodePool | undefined> {
  return n > 1 ? DecodePool.start(n, model, activeBackend()!.name) : undefined;
}

/** Child process: one mt trial of the comparison, on an untrained model of the job's config. */
async function mtTrial(job: Job): Promise<TrialResult> {
  const backend = await initBackend('auto');
  const model = createModel(job.config, job.src_vocab, job.tgt_vocab, 1);
  const search: SearchOptions = { bosId: job.bos, eosId: job.eos, padId: job.pad, maxLenA: 0, maxLenB: job.max_len, minLen: job.min_len };
  const decodes: Record<Search, DecodeConfig> = {
    greedy: DecodeSchema.parse({ beam_size: 1 }),
    beam: DecodeSchema.parse({ beam_size: job.beam, length_penalty: job.alpha, nbest: 1 }),
  };
  const pool = await poolFor(model, job.threads);
  const sentences = job.batches.reduce((n, b) => n + b.length, 0);
  /** Target tokens of the best hypotheses of `some` batches. */
  const decodeAll = async (some: number[][][], decode: DecodeConfig): Promise<number> => {
    const nbest: Hypothesis[][][] = pool ? await Promise.all(some.map((b) => pool.decode(b, decode, search))) : some.map((b) => decodeBatch(model, b, decode, search));
    return nbest.reduce((n, batch) => n + batch.reduce((m, h) => m + h[0]!.ids.length, 0), 0);
  };
  try {
    await decodeAll(Array.from({ length: job.threads }, () => job.batches[0]!), decodes.greedy); // warm-up (every worker)
    const greedy = await passes(() => decodeAll(job.batches, decodes.greedy), sentences, job.min_seconds);
    const beam = await passes(() => decodeAll(job.batches, decodes.beam), sentences, job.min_seconds);
    const parameters = model.parameterCount();
    // Peak RSS counts the decoding workers' wasm heaps too: they live in this process.
    return { greedy, beam, peak_rss_mb: process.resourceUsage().maxRSS / 1024, threads: pool ? job.threads : 1, parameters, backend: backend.name };
  } finally {
    await pool?.close();
    model.dispose();
  }
}

function runChild(command: string, argv: string[], job: Job, env: NodeJS.ProcessEnv): TrialResult {
  const r = spawnSync(command, argv, { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 64 << 20, env });
  if (r.status !== 0) throw new Error(`${[command, ...argv].join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as TrialResult;
}

const rate = (t: Timing) => (t.sentences * t.passes) / t.seconds;
const fmt = (x: number) => x.toFixed(1);
const mb = (x: number) => `${x.toFixed(0)} MB`;

interface SideRecord {
  label: string;
  threads: number;
  trials: TrialResult[];
  /** sentences/s per search over the trials */
  greedy: Summary;
  beam: Summary;
  peak_rss_mb: number;
}

async function main(): Promise<void> {
  if (args.child) {
    const job = JSON.parse(fs.readFileSync(0, 'utf8')) as Job;
    console.log(JSON.stringify(await mtTrial(job)));
    return;
  }
  const backend = await initBackend('auto');
  const lines = fs.readFileSync(SOURCES, 'utf8').split('\n').filter(Boolean).slice(0, count);
  const python = findTorchPython();
  const host = machine();
  const busy = Math.max(threads, python ? torchThreads : 0);
  // Run from bench/train-throughput.ts, the training trials kept its threads busy just before.
  const start = loadAverage(Number(process.env.MT_BENCH_OWN_THREADS ?? 0) || 0);
  console.log(`mt decoding benchmark: ${lines.length} sentences of ${path.basename(SOURCES)}, batch ${batchSize}, beam ${BEAM}, α ${ALPHA}`);
  console.log(`backend ${backend.name} (${backend.threads} thread(s) reported; tfjs wasm computes on 1 in Node), node ${process.version}, ${host.cpu} × ${host.cores}`);
  console.log(`mt: ${threads > 1 ? `${threads} decoding worker threads` : '1 thread (no workers)'}`);
  console.log(python ? `reference: PyTorch via ${python}, ${torchThreads} thread(s)` : 'reference: skipped (no python3 with torch; apt-get install python3-torch)');
  console.log(
    `comparison: ${trials} interleaved trial(s) a side, each a fresh process decoding all sentences in whole passes for ≥ ${minSeconds} s per search; load ${formatLoad(start.load)} (idle threshold ${idleThreshold(host.cores, start.ownThreads).toFixed(2)})`,
  );
  if (trials < 5) console.log(`note: ${trials} trial(s) a side: a smoke run, not a measurement (the method asks for ≥ 5)`);
  const table: string[] = [
    '| family | parameters | search | mt sent/s: median (min–max) | PyTorch sent/s | mt / PyTorch (per-trial range) | mt peak RSS | PyTorch peak RSS |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const trainedTable: string[] = ['| family | run | search | sentences/s | target tokens/s |', '| --- | --- | --- | --- | --- |'];
  const trainedRecords: unknown[] = [];
  const records: unknown[] = [];
  let blas: string[] | undefined;

  for (const [index, family] of args.families.split(',').entries()) {
    const run = trainedRun(family);
    let srcIds = lines.map(hashedIds);
    if (run) {
      const translator = await loadTranslator(run);
      const trainedPool = await poolFor(translator.model, threads);
      const translate = async (input: string[], decode: DecodeConfig) =>
        trainedPool ? trainedPool.translateLines(translator.subwords, input, decode) : translateLines(translator.model, translator.subwords, input, decode);
      try {
        srcIds = lines.map((l) => translator.subwords.src.encodeIds(l)).filter((ids) => ids.length > 0);
        for (const beam of [1, BEAM]) {
          const decode = DecodeSchema.parse({ ...run.config.decode, beam_size: beam, nbest: 1, batch_size: batchSize });
          await translate(lines.slice(0, batchSize * threads), decode); // warm-up (every worker)
          const t = await time(async () => (await translate(lines, decode)).reduce((n, r) => n + (r.hypotheses[0]?.ids.length ?? 0), 0), lines.length);
          const search = beam === 1 ? 'greedy' : `beam ${beam}`;
          const row = `| ${family} | ${path.basename(run.root)} (${translator.source}) | ${search} | ${fmt(t.sentences / t.seconds)} | ${fmt(t.tokens / t.seconds)} |`;
          trainedTable.push(row);
          trainedRecords.push({ family, run: path.basename(run.root), source: translator.source, search, ...t });
          console.log(`trained: ${row}`);
        }
      } finally {
        await trainedPool?.close();
        translator.model.dispose();
      }
    }

    const job: Job = {
      config: configModel(family),
      src_vocab: VOCAB,
      tgt_vocab: VOCAB,
      batches: batchesOf(srcIds),
      bos: IDS.bosId,
      eos: IDS.eosId,
      pad: IDS.padId,
      beam: BEAM,
      alpha: ALPHA,
      max_len: fixedLength,
      min_len: fixedLength,
      threads,
      min_seconds: minSeconds,
    };
    const sides = [
      { name: 'mt', threads, run: () => runChild(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], job, process.env) },
      ...(python
        ? [
            {
              name: 'PyTorch',
              threads: torchThreads,
              run: () => {
                const n = String(torchThreads);
                const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
                return runChild(python, [path.join(ROOT, 'bench', 'decode_reference.py')], { ...job, threads: torchThreads }, env);
              },
            },
          ]
        : []),
    ];
    // Earlier families (and this one's trained rows) kept `busy` threads busy just before.
    const before = index === 0 && !run ? start : loadAverage(busy);
    const measured = await interleave(trials, sides, (side, trial, r) => {
      console.log(`  ${family} trial ${trial + 1}/${trials} ${side}: greedy ${fmt(rate(r.greedy))} sent/s (${r.greedy.passes} pass(es), ${r.greedy.seconds.toFixed(1)} s), beam ${BEAM} ${fmt(rate(r.beam))} sent/s (${r.beam.passes} pass(es), ${r.beam.seconds.toFixed(1)} s), peak RSS ${mb(r.peak_rss_mb)}`);
    });
    const after = loadAverage(busy);
    const record = new Map<string, SideRecord>(
      sides.map((s) => {
        const results = measured.get(s.name)!;
        return [
          s.name,
          {
            label: s.name,
            threads: s.threads,
            trials: results,
            greedy: summarize(results.map((r) => rate(r.greedy))),
            beam: summarize(results.map((r) => rate(r.beam))),
            peak_rss_mb: Math.max(...results.map((r) => r.peak_rss_mb)),
          },
        ];
      }),
    );
    const mt = record.get('mt')!;
    const torch = record.get('PyTorch');
    const first = mt.trials[0]!;
    if (torch) blas = torch.trials[0]!.blas;
    const params = `${(first.parameters! / 1e6).toFixed(1)} M`;
    const ratios: Partial<Record<Search, Comparison>> = {};
    console.log(`${family} (${params} parameters), sentences/s over ${trials} trial(s):`);
    for (const search of SEARCHES) {
      const name = search === 'greedy' ? 'greedy' : `beam ${BEAM}`;
      const mtTrials = mt.trials.map((r) => rate(r[search]));
      const ref = torch?.trials.map((r) => rate(r[search]));
      const refTokens = torch?.trials[0]![search].tokens;
      if (refTokens !== undefined && refTokens !== first[search].tokens) console.log(`warning: ${family} ${name}: mt produced ${first[search].tokens} tokens a pass, PyTorch ${refTokens}`);
      const ratio = ref && compare(mtTrials, ref);
      if (ratio) ratios[search] = ratio;
      for (const s of record.values()) console.log(`  ${name}: ${s.label}, ${s.threads} thread(s): median ${fmt(s[search].median)}, min ${fmt(s[search].min)}, max ${fmt(s[search].max)}`);
      if (ratio) console.log(`  ${name}: mt / PyTorch ${ratio.ratioOfMedians.toFixed(2)} (ratio of medians), per-trial ratios ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}`);
      const row = `| ${family} | ${params} | ${name} | ${formatSummary(mt[search], 1)} | ${torch ? formatSummary(torch[search], 1) : '-'} | ${ratio ? formatComparison(ratio) : '-'} | ${mb(mt.peak_rss_mb)} | ${torch ? mb(torch.peak_rss_mb) : '-'} |`;
      table.push(row);
    }
    console.log(`  peak RSS: mt ${mb(mt.peak_rss_mb)} (${mt.threads} thread(s))${torch ? `, PyTorch ${mb(torch.peak_rss_mb)} (${torch.threads} thread(s))` : ''}`);
    for (const line of loadLines(before, after, host.cores)) console.log(`  ${line}`);
    records.push({ family, parameters: first.parameters, load: { before, after }, sides: Object.fromEntries(record), ratio: ratios });
  }
  const end = loadAverage(busy);
  console.log(
    `\nUntrained models of the configs' sizes, vocabulary ${VOCAB}, every output ${fixedLength} tokens; ${activeBackend()?.name} ${threads} thread(s) vs PyTorch ${torchThreads} thread(s)${blas ? `, BLAS ${blas.join(', ') || 'none mapped'}` : ''}; ${trials} interleaved trial(s) a side:`,
  );
  for (const line of loadLines(start, end, host.cores)) console.log(line);
  console.log(`\n${table.join('\n')}`);
  if (trainedTable.length > 2) console.log(`\nTrained runs, end to end (subwords, natural lengths, mt only, one pass):\n\n${trainedTable.join('\n')}`);
  if (args.json) {
    const settings = { sentences: lines.length, length: fixedLength, batch: batchSize, beam: BEAM, alpha: ALPHA, threads, torch_threads: torchThreads, trials, min_seconds: minSeconds };
    const doc = { bench: 'bench/decode-speed.ts', argv: process.argv.slice(2), machine: host, settings, load: { before: start, after: end }, families: records, trained: trainedRecords };
    fs.writeFileSync(args.json, `${JSON.stringify(doc, null, 1)}\n`);
    console.log(`\nall trials: ${args.json}`);
  }
}

await main();
