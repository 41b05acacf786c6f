/**
 * Training throughput: target tokens/s, steps/s and peak RSS of mt's training step — the very
 * update `mt train` makes (src/train/step.ts: forward, label-smoothed loss, backward, clipping,
 * Adam) — next to the same model trained by an equivalent PyTorch script
 * (bench/train_reference.py) in the same invocation, and their ratio, model by model.
 *
 *   npm run bench:train -- [--models gru-attention,transformer,…] [--trials 5] [--steps 10]
 *                          [--min-seconds 20] [--warmup 2] [--batch 64] [--threads 2]
 *                          [--torch-wait-policy auto|ACTIVE|PASSIVE] [--json FILE]
 *                          [--no-torch] [--no-decode] [--ablation]
 *   npm run bench:train -- --profile [--models …] [--batch 32] [--steps 3] [--warmup 2]
 *
 * Models: the two fixed sizes of issue 8 (`gru-attention`: bi-GRU encoder, GRU decoder with
 * Bahdanau attention and input feeding, emb 256, hidden 512; `transformer`: 3+3 layers, d 256,
 * 4 heads, ff 1024, tied) with vocabulary 8000, and every config in configs/ (its model and
 * train sections, vocabulary = its subword.vocab_size). Both sides train on the same batches:
 * `--batch` sentence pairs of 10–18 random ids per side (~14 target tokens with eos); untrained
 * weights.
 *
 * Method (bench/trials.ts, docs/performance.md "How speed is measured"): the sides run
 * interleaved — mt, PyTorch, mt, PyTorch, … — for `--trials` trials each. A trial is a fresh
 * process (so its peak RSS is its own): `--warmup` steps, then measured steps until at least
 * `--steps` steps and `--min-seconds` seconds of them are done (the batches after the warm-up
 * ones are cycled, in the same order on both sides). A trial's figure is its measured target
 * tokens (with eos, as `mt train` counts them) over its measured seconds. Per side: median, min
 * and max over the trials and the peak RSS (the largest of the trials'); per model: the ratio
 * of the medians and the range of the per-trial ratios, and the load average before and after,
 * with a warning when the machine was not idle. `--json FILE` writes every trial's figures.
 *
 * PyTorch runs with --threads threads (OpenMP), on OpenBLAS's OpenMP build when it is installed
 * (Debian: libopenblas0-openmp, selected here through LD_LIBRARY_PATH); the BLAS it mapped is
 * printed. OpenMP's wait policy: `--torch-wait-policy auto` (default) times a short pilot of
 * each (ACTIVE spins and is fastest on an idle machine, PASSIVE holds up when other processes
 * compete for the cores) before each model's trials and uses the faster for all of them.
 * mt trains on --threads cores through data-parallel worker threads (src/train/parallel.ts).
 * With --ablation, mt also runs on 1 thread, and on 1 thread with tfjs-wasm's stock kernels
 * (MT_STOCK_KERNELS=1), interleaved with the other two: what the worker threads and mt's kernels
 * each add, and the peak RSS at 1 thread. Then, unless --no-decode, bench/decode-speed.ts
 * measures greedy and beam-5 decoding the same way.
 *
 * --profile (bench/profile.ts; docs/performance.md "Where a step's time goes"): instead of the
 * comparison, each model in a fresh process on ONE thread (the main-thread model on tfjs-wasm, no
 * workers): --warmup steps, --steps steps timed, the same steps again under tf.profile; per family
 * a table of ms per step and share by kernel group (the output projection's matMuls and the
 * rest, the loss, softmax, transposes, copies, elementwise, other, outside kernels), the phases,
 * and the ceiling: the step's matmul FLOPs at XNNPACK's GFLOP/s measured in the same process.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { initBackend } from '../src/backend/index.ts';
import type { ModelConfig, TrainConfig } from '../src/config/schema.ts';
import { ModelSchema } from '../src/config/sections/model.ts';
import { TrainSchema } from '../src/config/sections/train.ts';
import { createModel } from '../src/models/index.ts';
import type { Pair, SpecialIds } from '../src/train/batching.ts';
import { Adam } from '../src/train/optimizer.ts';
import { DataParallel } from '../src/train/parallel.ts';
import { optimizerUpdate } from '../src/train/step.ts';
import { mulberry32 } from '../src/util/random.ts';
import { formatReport, profileTraining, type ProfileReport } from './profile.ts';
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
const IDS: SpecialIds = { srcPad: 0, tgtPad: 0, bos: 2, eos: 3 };
const OPENBLAS_OPENMP = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
/** Measured batches generated per model (cycled when a trial needs more steps). */
const POOL = 20;

interface Job {
  name: string;
  model: ModelConfig;
  train: TrainConfig;
  src_vocab: number;
  tgt_vocab: number;
  pad: number;
  bos: number;
  eos: number;
  /** warm-up batches first, then the measured ones (cycled) */
  batches: Pair[][];
  warmup: number;
  /** measured steps go on until both minimums are reached */
  min_steps: number;
  min_seconds: number;
  threads: number;
  /** --profile: profile the step on one thread instead of timing it (bench/profile.ts) */
  profile?: boolean;
}

/** What each side's process reports for its measured steps: one trial. */
interface Measured {
  seconds: number[];
  tokens: number[];
  peak_rss_mb: number;
  threads: number;
  /** mt: the model's parameter count */
  parameters?: number;
  blas?: string[];
  torch?: string;
}

const FIXED: Record<string, { model: unknown; train: unknown; vocab: number }> = {
  'gru-attention': {
    model: { type: 'attention', cell: 'gru', emb_size: 256, hidden_size: 512, layers: 1, bidirectional: true, attention: 'bahdanau', input_feeding: true, dropout: 0.1 },
    train: {},
    vocab: 8000,
  },
  transformer: {
    model: { type: 'transformer', d_model: 256, heads: 4, ff_size: 1024, encoder_layers: 3, decoder_layers: 3, dropout: 0.1, tie_embeddings: true },
    train: {},
    vocab: 8000,
  },
};

function configModels(): Record<string, { model: unknown; train: unknown; vocab: number }> {
  const out: Record<string, { model: unknown; train: unknown; vocab: number }> = {};
  for (const file of fs.readdirSync(path.join(ROOT, 'configs')).filter((f) => f.endsWith('.yaml')).sort()) {
    const doc = parseYaml(fs.readFileSync(path.join(ROOT, 'configs', file), 'utf8')) as { model: unknown; train?: unknown; subword?: { vocab_size?: number } };
    out[file.replace(/\.yaml$/, '')] = { model: doc.model, train: doc.train ?? {}, vocab: doc.subword?.vocab_size ?? 8000 };
  }
  return out;
}

/** mulberry32: the same batches for both sides, every run. */
function random(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}

function makeBatches(count: number, size: number, srcVocab: number, tgtVocab: number): Pair[][] {
  const rand = random(8);
  const sentence = (vocab: number) => Array.from({ length: 10 + rand(9) }, () => 4 + rand(vocab - 4));
  return Array.from({ length: count }, () => Array.from({ length: size }, () => ({ src: sentence(srcVocab), tgt: sentence(tgtVocab) })));
}

/** The batch of step k: the warm-up ones in order, then the measured ones cycled. */
function batchOf(job: Job, k: number): Pair[] {
  return k < job.warmup ? job.batches[k]! : job.batches[job.warmup + ((k - job.warmup) % (job.batches.length - job.warmup))]!;
}

/** Child process: mt's training step on the job's batches. */
async function runMt(job: Job): Promise<Measured> {
  const backend = await initBackend('auto');
  const model = createModel(job.model, job.src_vocab, job.tgt_vocab, 1);
  const { train } = job;
  const optimizer = new Adam(model.namedVariables, {
    decoupled: train.optimizer === 'adamw',
    beta1: train.betas[0],
    beta2: train.betas[1],
    weightDecay: train.weight_decay,
  });
  const parallel =
    job.threads > 1
      ? await DataParallel.start(job.threads, model, { backend: backend.name, model: job.model, srcVocab: job.src_vocab, tgtVocab: job.tgt_vocab, seed: 1 })
      : undefined;
  const parameters = model.parameterCount();
  const seconds: number[] = [];
  const tokens: number[] = [];
  let total = 0;
  for (let k = 0; seconds.length < job.min_steps || total < job.min_seconds; k++) {
    const pairs = batchOf(job, k);
    const started = performance.now();
    const { applied } = await optimizerUpdate(model, optimizer, [pairs], IDS, train, train.learning_rate, parallel);
    const elapsed = (performance.now() - started) / 1000;
    if (!applied) throw new Error(`${job.name}: step ${k} diverged`);
    if (k < job.warmup) continue;
    seconds.push(elapsed);
    tokens.push(pairs.reduce((n, p) => n + p.tgt.length + 1, 0));
    total += elapsed;
  }
  await parallel?.close();
  optimizer.dispose();
  model.dispose();
  // Peak RSS counts the worker threads' wasm heaps too: they live in this process.
  return { seconds, tokens, peak_rss_mb: process.resourceUsage().maxRSS / 1024, threads: parallel?.ranks ?? 1, parameters };
}

function findTorchPython(): string | undefined {
  for (const py of [process.env.MT_BENCH_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    if (spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return py;
  }
  return undefined;
}

function runChild(command: string, args: string[], job: Job, env: NodeJS.ProcessEnv): Measured {
  const r = spawnSync(command, args, { input: JSON.stringify(job), encoding: 'utf8', maxBuffer: 64 << 20, env });
  if (r.status !== 0) throw new Error(`${[command, ...args].join(' ')} failed (${r.status}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
}

function torchEnv(threads: number, waitPolicy: string | undefined): NodeJS.ProcessEnv {
  const n = String(threads);
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  if (waitPolicy) env.OMP_WAIT_POLICY = waitPolicy;
  if (fs.existsSync(OPENBLAS_OPENMP)) env.LD_LIBRARY_PATH = [OPENBLAS_OPENMP, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return env;
}

/** One trial's figures. */
interface Trial {
  tok_s: number;
  steps_s: number;
  steps: number;
  measured_seconds: number;
  peak_rss_mb: number;
  /** per measured step */
  seconds: number[];
  tokens: number[];
}

function trialOf(m: Measured): Trial {
  const total = m.seconds.reduce((a, b) => a + b, 0);
  const tokens = m.tokens.reduce((a, b) => a + b, 0);
  return { tok_s: tokens / total, steps_s: m.seconds.length / total, steps: m.seconds.length, measured_seconds: total, peak_rss_mb: m.peak_rss_mb, seconds: m.seconds, tokens: m.tokens };
}

interface SideRecord {
  label: string;
  threads: number;
  trials: Trial[];
  tok_s: Summary;
  steps_s: Summary;
  /** the largest peak RSS of the trials */
  peak_rss_mb: number;
}

function sideRecord(label: string, threads: number, trials: Trial[]): SideRecord {
  return {
    label,
    threads,
    trials,
    tok_s: summarize(trials.map((t) => t.tok_s)),
    steps_s: summarize(trials.map((t) => t.steps_s)),
    peak_rss_mb: Math.max(...trials.map((t) => t.peak_rss_mb)),
  };
}

/**
 * The reference at its best: OpenMP's default (spinning) wait policy is fastest on an idle
 * machine but collapses when other processes compete for the cores (5–10× slower steps at load
 * 7 on 2 cores), where the passive policy holds up. A short pilot of each (the warm-up and
 * `steps` steps, no minimum time) picks the one the trials use.
 */
function pilotWaitPolicy(python: string, job: Job, steps: number): { policy: string; tok_s: Record<string, number> } {
  const tokS: Record<string, number> = {};
  for (const policy of ['ACTIVE', 'PASSIVE']) {
    tokS[policy] = trialOf(runChild(python, [path.join(ROOT, 'bench', 'train_reference.py')], { ...job, min_steps: steps, min_seconds: 0 }, torchEnv(job.threads, policy))).tok_s;
  }
  return { policy: tokS.ACTIVE! >= tokS.PASSIVE! ? 'ACTIVE' : 'PASSIVE', tok_s: tokS };
}

const mb = (x: number) => `${x.toFixed(0)} MB`;

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      child: { type: 'boolean', default: false },
      models: { type: 'string' },
      steps: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      batch: { type: 'string', default: '64' },
      threads: { type: 'string', default: String(os.availableParallelism()) },
      'torch-wait-policy': { type: 'string', default: 'auto' },
      'no-torch': { type: 'boolean', default: false },
      'no-decode': { type: 'boolean', default: false },
      ablation: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      ...TRIAL_OPTIONS,
    },
  });
  if (args.child) {
    const job = JSON.parse(fs.readFileSync(0, 'utf8')) as Job;
    console.log(JSON.stringify(job.profile ? await runProfile(job) : await runMt(job)));
    return;
  }
  const all = { ...FIXED, ...configModels() };
  const names = args.models ? args.models.split(',') : Object.keys(all);
  for (const n of names) if (!all[n]) throw new Error(`unknown model ${n}; known: ${Object.keys(all).join(', ')}`);
  const threads = wholeNumber('--threads', args.threads, 1);
  const warmup = wholeNumber('--warmup', args.warmup, 0);
  const steps = wholeNumber('--steps', args.steps, 1);
  const batch = wholeNumber('--batch', args.batch, 1);
  const trials = wholeNumber('--trials', args.trials, 1);
  const minSeconds = secondsFlag('--min-seconds', args['min-seconds']);
  const waitPolicy = args['torch-wait-policy'].toUpperCase();
  if (!['AUTO', 'ACTIVE', 'PASSIVE'].includes(waitPolicy)) throw new Error(`--torch-wait-policy: expected auto, ACTIVE or PASSIVE, got ${args['torch-wait-policy']}`);
  if (args.profile) {
    profileModels(names.map((name) => jobFor(name, all[name]!, { warmup, steps, batch, minSeconds: 0, threads: 1 })), args.json);
    return;
  }
  const python = args['no-torch'] ? undefined : findTorchPython();
  const host = machine();
  const start = loadAverage(0);
  console.log(
    `mt training throughput: batches of ${batch} sentence pairs (10–18 ids a side); ${trials} interleaved trial(s) a side, each ${warmup} warm-up step(s) then ≥ ${steps} measured step(s) and ≥ ${minSeconds} s; node ${host.node}, ${host.cpu} × ${host.cores}, load ${formatLoad(start.load)} (idle threshold ${idleThreshold(host.cores).toFixed(2)})`,
  );
  if (trials < 5) console.log(`note: ${trials} trial(s) a side: a smoke run, not a measurement (the method asks for ≥ 5)`);
  if (!python) console.log('reference: skipped (no python3 with torch; apt-get install python3-torch)');
  const table = [
    `| model | parameters | mt tok/s, ${threads} thread(s): median (min–max) | mt steps/s | mt peak RSS | PyTorch tok/s, ${threads} thread(s) | PyTorch steps/s | PyTorch peak RSS | mt / PyTorch (per-trial range) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const notes = new Set<string>();
  const ablation = [
    `| model | mt tok/s, 1 thread, stock tfjs-wasm kernels | mt tok/s, 1 thread | mt tok/s, ${threads} thread(s) | mt peak RSS, 1 thread | mt peak RSS, ${threads} thread(s) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const records: unknown[] = [];
  for (const [index, name] of names.entries()) {
    const job = jobFor(name, all[name]!, { warmup, steps, batch, minSeconds, threads });
    // The previous model's trials ran `threads` threads in the last minute.
    const before = loadAverage(index === 0 ? 0 : threads);
    const pilot = python && waitPolicy === 'AUTO' ? pilotWaitPolicy(python, job, Math.min(steps, 3)) : undefined;
    const policy = pilot?.policy ?? waitPolicy;
    if (pilot) console.log(`${name}: PyTorch wait-policy pilot (${Math.min(steps, 3)} steps each): ACTIVE ${pilot.tok_s.ACTIVE!.toFixed(0)}, PASSIVE ${pilot.tok_s.PASSIVE!.toFixed(0)} tok/s: ${policy} for the trials`);
    const mtChild = (j: Job, env: NodeJS.ProcessEnv) => runChild(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], j, env);
    const sides = [
      { name: 'mt', threads, run: () => mtChild(job, process.env) },
      ...(python ? [{ name: 'PyTorch', threads, run: () => runChild(python, [path.join(ROOT, 'bench', 'train_reference.py')], job, torchEnv(threads, policy)) }] : []),
      ...(args.ablation
        ? [
            { name: 'mt, 1 thread', threads: 1, run: () => mtChild({ ...job, threads: 1 }, process.env) },
            { name: 'mt, 1 thread, stock kernels', threads: 1, run: () => mtChild({ ...job, threads: 1 }, { ...process.env, MT_STOCK_KERNELS: '1' }) },
          ]
        : []),
    ];
    const measured = await interleave(trials, sides, (side, trial, m) => {
      const t = trialOf(m);
      console.log(`  ${name} trial ${trial + 1}/${trials} ${side}: ${t.tok_s.toFixed(0)} tok/s (${t.steps} steps, ${t.measured_seconds.toFixed(1)} s), peak RSS ${mb(t.peak_rss_mb)}`);
    });
    const after = loadAverage(threads);
    const first = measured.get('mt')![0]!;
    const torchFirst = measured.get('PyTorch')?.[0];
    if (torchFirst) notes.add(`PyTorch ${torchFirst.torch}, ${torchFirst.threads} thread(s), BLAS ${torchFirst.blas?.join(', ') || 'none mapped'}`);
    notes.add(`mt: ${first.threads} thread(s) (${first.threads > 1 ? 'data-parallel workers, each with a wasm backend' : 'tfjs-wasm'})`);
    const record = new Map(sides.map((s) => [s.name, sideRecord(s.name, s.threads, measured.get(s.name)!.map(trialOf))]));
    const mt = record.get('mt')!;
    const torch = record.get('PyTorch');
    const ratio: Comparison | undefined = torch && compare(mt.trials.map((t) => t.tok_s), torch.trials.map((t) => t.tok_s));
    console.log(`${name} (${(first.parameters! / 1e6).toFixed(1)} M parameters), target tokens/s over ${trials} trial(s):`);
    for (const s of record.values()) {
      const label = s.label === 'PyTorch' ? `PyTorch (OMP_WAIT_POLICY=${policy})` : s.label;
      console.log(`  ${label}${s.label.includes('thread') ? '' : `, ${s.threads} thread(s)`}: median ${s.tok_s.median.toFixed(0)}, min ${s.tok_s.min.toFixed(0)}, max ${s.tok_s.max.toFixed(0)}; ${s.steps_s.median.toFixed(2)} steps/s; peak RSS ${mb(s.peak_rss_mb)}`);
    }
    if (ratio) console.log(`  mt / PyTorch: ${ratio.ratioOfMedians.toFixed(2)} (ratio of medians), per-trial ratios ${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)}`);
    for (const line of loadLines(before, after, host.cores)) console.log(`  ${line}`);
    table.push(
      `| ${[
        name,
        `${(first.parameters! / 1e6).toFixed(1)} M`,
        formatSummary(mt.tok_s),
        formatSummary(mt.steps_s, 2),
        mb(mt.peak_rss_mb),
        torch ? formatSummary(torch.tok_s) : '-',
        torch ? formatSummary(torch.steps_s, 2) : '-',
        torch ? mb(torch.peak_rss_mb) : '-',
        ratio ? formatComparison(ratio) : '-',
      ].join(' | ')} |`,
    );
    if (args.ablation) {
      const one = record.get('mt, 1 thread')!;
      const stock = record.get('mt, 1 thread, stock kernels')!;
      ablation.push(`| ${name} | ${formatSummary(stock.tok_s)} | ${formatSummary(one.tok_s)} | ${formatSummary(mt.tok_s)} | ${mb(one.peak_rss_mb)} | ${mb(mt.peak_rss_mb)} |`);
    }
    records.push({
      name,
      parameters: first.parameters,
      torch_wait_policy: python ? policy : undefined,
      reference: torchFirst && { torch: torchFirst.torch, blas: torchFirst.blas },
      pilot,
      load: { before, after },
      sides: Object.fromEntries(record),
      ratio,
    });
  }
  const end = loadAverage(threads);
  console.log(`\n${[...notes].join('; ')}`);
  for (const line of loadLines(start, end, host.cores)) console.log(line);
  console.log(`\n${table.join('\n')}`);
  if (args.ablation) console.log(`\n${ablation.join('\n')}`);
  const json = args.json;
  const decode = args['no-decode'] ? undefined : decodeRatios(threads, !python, trials, minSeconds, json ? `${json}.decode.tmp` : undefined);
  if (json) {
    const settings = { batch, warmup, min_steps: steps, min_seconds: minSeconds, trials, threads, torch_wait_policy: args['torch-wait-policy'], ablation: args.ablation };
    const doc = { bench: 'bench/train-throughput.ts', argv: process.argv.slice(2), machine: host, settings, load: { before: start, after: end }, models: records, decode };
    fs.writeFileSync(json, `${JSON.stringify(doc, null, 1)}\n`);
    console.log(`\nall trials: ${json}`);
  }
}

interface Spec {
  model: unknown;
  train: unknown;
  vocab: number;
}

function jobFor(name: string, spec: Spec, o: { warmup: number; steps: number; batch: number; minSeconds: number; threads: number }): Job {
  return {
    name,
    model: ModelSchema.parse(spec.model),
    train: TrainSchema.parse(spec.train),
    src_vocab: spec.vocab,
    tgt_vocab: spec.vocab,
    pad: IDS.tgtPad,
    bos: IDS.bos,
    eos: IDS.eos,
    batches: makeBatches(o.warmup + Math.max(o.steps, POOL), o.batch, spec.vocab, spec.vocab),
    warmup: o.warmup,
    min_steps: o.steps,
    min_seconds: o.minSeconds,
    threads: o.threads,
  };
}

/** Child process of --profile: one model on one thread, on wasm (bench/profile.ts). */
async function runProfile(job: Job): Promise<ProfileReport> {
  const backend = await initBackend('wasm');
  const model = createModel(job.model, job.src_vocab, job.tgt_vocab, 1);
  try {
    return await profileTraining(job, model, IDS, backend);
  } finally {
    model.dispose();
  }
}

/** --profile: each model's step profiled in a fresh process, one after the other. */
function profileModels(jobs: Job[], json: string | undefined): void {
  const host = machine();
  const start = loadAverage(0);
  const batch = jobs[0]?.batches[0]?.length ?? 0;
  console.log(`mt training step profile: one thread (main-thread model, no workers), tfjs-wasm; batches of ${batch} sentence pairs (10–18 ids a side); node ${host.node}, ${host.cpu} × ${host.cores}, ${host.date}, load ${formatLoad(start.load)}`);
  console.log("kernel times: tf.profile's kernelTimeMs (on wasm the wall time of each synchronous kernel call), less the kernels nested in it; ms are per step, the mean of the profiled steps");
  const reports: ProfileReport[] = [];
  for (const job of jobs) {
    const report = JSON.parse(
      (() => {
        const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child'], { input: JSON.stringify({ ...job, profile: true }), encoding: 'utf8', maxBuffer: 64 << 20 });
        if (r.status !== 0) throw new Error(`${job.name}: profile failed (${r.status}): ${r.stderr.slice(-3000)}`);
        return r.stdout.trim().split('\n').pop()!;
      })(),
    ) as ProfileReport;
    reports.push(report);
    console.log(`\n${formatReport(report).join('\n')}`);
  }
  const end = loadAverage(1);
  console.log(`\n${loadLines(start, end, host.cores).join('\n')}`);
  if (json) {
    fs.writeFileSync(json, `${JSON.stringify({ bench: 'bench/train-throughput.ts --profile', argv: process.argv.slice(2), machine: host, load: { before: start, after: end }, models: reports }, null, 1)}\n`);
    console.log(`all figures: ${json}`);
  }
}

/**
 * Decoding: bench/decode-speed.ts (greedy and beam 5 against its PyTorch reference, interleaved
 * trials the same way, with this run's --trials and --min-seconds) with the reference on
 * --threads threads (mt on decode-speed's default of 1, as before); OpenMP's passive wait policy,
 * which holds up on a shared machine. With `json`, its record (read back and removed).
 */
function decodeRatios(threads: number, noTorch: boolean, trials: number, minSeconds: number, json: string | undefined): unknown {
  console.log(`\nDecoding (bench/decode-speed.ts, PyTorch on ${threads} thread(s)):`);
  const args = ['--sentences', '320', '--length', '20', '--torch-threads', String(threads), '--trials', String(trials), '--min-seconds', String(minSeconds)];
  if (noTorch) args.push('--no-torch');
  if (json) args.push('--json', json);
  const r = spawnSync(process.execPath, [...process.execArgv, path.join(ROOT, 'bench', 'decode-speed.ts'), ...args], {
    stdio: 'inherit',
    // The training trials ran `threads` threads in the minute before decoding starts.
    env: { ...torchEnv(threads, 'PASSIVE'), MT_BENCH_OWN_THREADS: String(threads) },
  });
  if (r.status !== 0) throw new Error(`bench/decode-speed.ts failed (${r.status})`);
  if (!json) return undefined;
  const record = JSON.parse(fs.readFileSync(json, 'utf8')) as unknown;
  fs.rmSync(json, { force: true });
  return record;
}

await main();
