/**
 * Where a training step's time goes (`npm run bench:train -- --profile`): mt's real update
 * (src/train/step.ts optimizerUpdate: forward, label-smoothed loss, backward, clipping, Adam) on
 * ONE thread — the main-thread model on tfjs-wasm, no worker threads — profiled kernel by kernel
 * with tf.profile() for a few steps after warm-up, the kernels grouped (matMul: the output
 * projection to the vocabulary and its gradient vs the rest; the softmax over the vocabulary and
 * the loss; attention softmax; transposes; copies; elementwise; other), and the ceiling: the
 * step's matmul FLOPs over XNNPACK's GFLOP/s measured on this CPU in the same process.
 *
 * Kernel times. tf.profile records every kernel the engine runs with its name, input and output
 * shapes and `kernelTimeMs`, which on wasm is the wall time of the (synchronous) kernel call:
 * tfjs-wasm's backend.time() is util.now() around it. Two kinds of record contain others, and
 * tf.profile counts both the container and its contents: a customGrad op (recorded as one
 * "kernel" named after the active scope, its time covering the kernels of its forward function,
 * which are recorded too), and every kernel whose output the tape saves for the gradient (the
 * save clones it through an Identity kernel inside the enclosing kernel's call). The nesting is
 * taken from a wrapper around the engine's profiler (`profileKernel`, the one call per record):
 * each record's self time is its kernelTimeMs less its direct children's, so each millisecond
 * is counted once; customGrad containers (not registered kernels) count as time outside kernels.
 * "Outside kernels" is the step's wall time less the kernels' self times: tfjs's engine and
 * tape, mt's JavaScript (batching, dropout masks), the read-backs.
 *
 * Phases: a mark when the model's forward returns (the loss starts), a mark when the backward
 * reaches the logits (an identity with a custom gradient on them: the loss and its gradient are
 * done) and one when the batch's gradients are back (clipping and Adam follow). Kernels between
 * the first two marks are the loss group, whatever their name.
 *
 * The gradient exchange between threads (src/train/parallel.ts) does not happen on one thread;
 * it is re-enacted after the profile with the same transfer functions DataParallel uses, for 2
 * ranks (rank 0 writes its weights for the worker, the worker loads them and writes its
 * gradients back, rank 0 sums the token-weighted gradients) and reported on its own line. That
 * leaves out the message latency and the wait for the slower shard.
 *
 * The pure parts (FLOPs from shapes, the grouping, self times, the per-step breakdown, the
 * table) are tested in test/bench-profile.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { flatLength, floatTensor, loadVariables, readFloats, writeVariables } from '../src/backend/transfer.ts';
import type { ModelConfig, TrainConfig } from '../src/config/schema.ts';
import type { NmtModel } from '../src/models/types.ts';
import type { Pair, SpecialIds } from '../src/train/batching.ts';
import type { Gradients } from '../src/train/optimizer.ts';
import { Adam } from '../src/train/optimizer.ts';
import { batchGradients, optimizerUpdate, type GradientSource } from '../src/train/step.ts';

// ---------------------------------------------------------------------------------------------
// Pure parts

/** A kernel as tf.profile records it, with its self time (kernelTimeMs less nested kernels'). */
export interface KernelRecord {
  name: string;
  inputShapes: (number[] | null)[];
  outputShapes: number[][];
  /** tf.profile's kernelTimeMs: the whole call, nested kernels included */
  kernelTimeMs: number;
  /** index of the enclosing record (a kernel run inside another's call), or -1 */
  parent: number;
  /** not a registered kernel: a customGrad op, whose contents are recorded on their own */
  container: boolean;
}

export const MATMUL_KERNELS: ReadonlySet<string> = new Set(['BatchMatMul', '_FusedMatMul']);
export const SOFTMAX_KERNELS: ReadonlySet<string> = new Set(['Softmax', 'LogSoftmax']);
/** Kernels that only move elements. */
export const COPY_KERNELS: ReadonlySet<string> = new Set([
  'Slice', 'StridedSlice', 'Concat', 'GatherV2', 'GatherNd', 'Identity', 'Reshape', 'Pack', 'Unpack',
  'SplitV', 'Tile', 'ScatterNd', 'PadV2', 'MirrorPad', 'Reverse', 'BroadcastTo', 'ExpandDims',
]);
/** One output element from the same element of each input (broadcast). */
export const ELEMENTWISE_KERNELS: ReadonlySet<string> = new Set([
  'Abs', 'Add', 'AddN', 'Cast', 'Ceil', 'ClipByValue', 'Cos', 'Elu', 'Equal', 'Erf', 'Exp', 'Expm1',
  'Floor', 'FloorDiv', 'Greater', 'GreaterEqual', 'IsFinite', 'IsInf', 'IsNan', 'LeakyRelu', 'Less',
  'LessEqual', 'Log', 'Log1p', 'LogicalAnd', 'LogicalNot', 'LogicalOr', 'Maximum', 'Minimum', 'Mod',
  'Multiply', 'Neg', 'NotEqual', 'Pow', 'Prelu', 'RealDiv', 'Reciprocal', 'Relu', 'Relu6', 'Round',
  'Rsqrt', 'Select', 'Selu', 'Sigmoid', 'Sign', 'Sin', 'Softplus', 'Sqrt', 'Square',
  'SquaredDifference', 'Step', 'Sub', 'Tanh',
]);

export const GROUPS = ['matmul-output', 'matmul-rest', 'loss', 'softmax', 'transpose', 'copy', 'elementwise', 'other'] as const;
export type Group = (typeof GROUPS)[number];

export function groupLabel(group: Group | 'outside' | 'step', vocab: number): string {
  switch (group) {
    case 'matmul-output': return `matMul: output projection [*, ${vocab}] and its gradient`;
    case 'matmul-rest': return 'matMul: the rest';
    case 'loss': return 'softmax over the vocabulary, loss, their gradient';
    case 'softmax': return 'softmax elsewhere (attention; forward kernel)';
    case 'transpose': return 'transposes';
    case 'copy': return 'copies (Slice, Concat, Gather, Identity, Reshape, Pack, Unpack, Split, Tile, ScatterNd)';
    case 'elementwise': return 'elementwise';
    case 'other': return 'other (reductions, Fill, Range, …)';
    case 'outside': return 'outside kernels (engine, tape, JS)';
    case 'step': return 'step (profiled)';
  }
}

/**
 * FLOPs of a (batched) matmul from its first input's and its output's shapes: 2·m·n·k per batch
 * element. The output is [..., m, n]; the first input's last two axes are m and k in either order
 * (transposeA is not in the record), so k = their product / m.
 */
export function matMulFlops(a: readonly number[], out: readonly number[]): number {
  if (a.length < 2 || out.length < 2) throw new Error(`matMulFlops: expected rank ≥ 2 shapes, got [${a}] and [${out}]`);
  const m = out[out.length - 2]!;
  const n = out[out.length - 1]!;
  if (m === 0 || n === 0) return 0;
  const k = (a[a.length - 2]! * a[a.length - 1]!) / m;
  const batch = out.slice(0, -2).reduce((p, d) => p * d, 1);
  return 2 * batch * m * n * k;
}

/** A matmul is the output projection (or its gradient) when one of its matrices has a vocabulary-sized axis. */
export function isOutputProjection(r: Pick<KernelRecord, 'inputShapes' | 'outputShapes'>, vocab: number): boolean {
  const shapes = [...r.inputShapes.slice(0, 2), r.outputShapes[0]].filter((s): s is number[] => !!s);
  return shapes.some((s) => s.slice(-2).includes(vocab));
}

/** The group of a (registered) kernel; `inLoss`: it ran between the logits and the loss, forward or backward. */
export function kernelGroup(r: Pick<KernelRecord, 'name' | 'inputShapes' | 'outputShapes'>, vocab: number, inLoss: boolean): Group {
  if (MATMUL_KERNELS.has(r.name)) return isOutputProjection(r, vocab) ? 'matmul-output' : 'matmul-rest';
  if (inLoss) return 'loss';
  if (SOFTMAX_KERNELS.has(r.name)) return 'softmax';
  if (r.name === 'Transpose') return 'transpose';
  if (COPY_KERNELS.has(r.name)) return 'copy';
  if (ELEMENTWISE_KERNELS.has(r.name)) return 'elementwise';
  return 'other';
}

/** Each record's kernelTimeMs less its direct children's (never below 0: timer granularity). */
export function selfTimes(records: readonly Pick<KernelRecord, 'kernelTimeMs' | 'parent'>[]): number[] {
  const self = records.map((r) => r.kernelTimeMs);
  records.forEach((r, i) => {
    if (r.parent >= 0) self[r.parent]! -= records[i]!.kernelTimeMs;
  });
  return self.map((s) => Math.max(0, s));
}

/** Record indices (counts of records completed) at the marks of one step. */
export interface Marks {
  /** the model's forward returned: the loss starts */
  lossStart: number;
  /** the backward reached the logits: the loss and its gradient are done */
  lossEnd: number;
}

export const PHASES = ['forward', 'loss', 'backward', 'update'] as const;
export type Phase = (typeof PHASES)[number];

export interface GroupTime {
  ms: number;
  /** self ms by kernel name */
  kernels: Record<string, number>;
}

/** One step, or the mean of several. */
export interface Breakdown {
  /** wall time of the (profiled) step */
  stepMs: number;
  groups: Record<Group, GroupTime>;
  /** the step's wall time less the kernels' self times */
  outsideMs: number;
  /** wall ms per phase: forward, loss and its gradient, the rest of the backward, clipping + Adam */
  phases: Record<Phase, number>;
  /** matmul FLOPs */
  flops: number;
  /** kernel records (containers included) */
  kernels: number;
}

function emptyGroups(): Record<Group, GroupTime> {
  return Object.fromEntries(GROUPS.map((g) => [g, { ms: 0, kernels: {} }])) as Record<Group, GroupTime>;
}

/** One profiled step's breakdown from its records, marks, wall time and phase wall times. */
export function breakdown(records: readonly KernelRecord[], marks: Marks, vocab: number, stepMs: number, phases: Record<Phase, number>): Breakdown {
  const self = selfTimes(records);
  const groups = emptyGroups();
  let flops = 0;
  let kernelMs = 0;
  records.forEach((r, i) => {
    if (r.container) return;
    const group = kernelGroup(r, vocab, i >= marks.lossStart && i < marks.lossEnd);
    const g = groups[group];
    g.ms += self[i]!;
    g.kernels[r.name] = (g.kernels[r.name] ?? 0) + self[i]!;
    kernelMs += self[i]!;
    if (MATMUL_KERNELS.has(r.name)) flops += matMulFlops(r.inputShapes[0]!, r.outputShapes[0]!);
  });
  return { stepMs, groups, outsideMs: stepMs - kernelMs, phases, flops, kernels: records.length };
}

/** The mean of several steps' breakdowns. */
export function meanBreakdown(steps: readonly Breakdown[]): Breakdown {
  if (steps.length === 0) throw new Error('meanBreakdown: no steps');
  const n = steps.length;
  const mean = (f: (b: Breakdown) => number) => steps.reduce((s, b) => s + f(b), 0) / n;
  const groups = emptyGroups();
  for (const g of GROUPS) {
    groups[g].ms = mean((b) => b.groups[g].ms);
    for (const b of steps) for (const [name, ms] of Object.entries(b.groups[g].kernels)) groups[g].kernels[name] = (groups[g].kernels[name] ?? 0) + ms / n;
  }
  return {
    stepMs: mean((b) => b.stepMs),
    groups,
    outsideMs: mean((b) => b.outsideMs),
    phases: Object.fromEntries(PHASES.map((p) => [p, mean((b) => b.phases[p])])) as Record<Phase, number>,
    flops: mean((b) => b.flops),
    kernels: mean((b) => b.kernels),
  };
}

/** "BatchMatMul 301, Transpose 12": the `top` largest kernels of a group, ms per step. */
export function topKernels(g: GroupTime, top = 3): string {
  return Object.entries(g.kernels)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => `${name} ${ms.toFixed(ms < 10 ? 1 : 0)}`)
    .join(', ');
}

const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
const ms = (x: number) => x.toFixed(x < 10 ? 1 : 0);

/** The markdown table of a breakdown: ms per step and share of the profiled step, by group. */
export function formatBreakdown(b: Breakdown, vocab: number): string[] {
  const rows = ['| where | ms / step | share | largest kernels (ms / step) |', '| --- | ---: | ---: | --- |'];
  for (const g of GROUPS) rows.push(`| ${groupLabel(g, vocab)} | ${ms(b.groups[g].ms)} | ${pct(b.groups[g].ms, b.stepMs)} | ${topKernels(b.groups[g])} |`);
  rows.push(`| ${groupLabel('outside', vocab)} | ${ms(b.outsideMs)} | ${pct(b.outsideMs, b.stepMs)} | |`);
  rows.push(`| ${groupLabel('step', vocab)} | ${ms(b.stepMs)} | 100% | ${Math.round(b.kernels)} kernel records |`);
  return rows;
}

/** What a step would take if only its matmuls remained, at `gflops`. */
export function ceilingMs(flops: number, gflops: number): number {
  return flops / (gflops * 1e9) * 1000;
}

// ---------------------------------------------------------------------------------------------
// Measuring (one child process per model; bench/train-throughput.ts starts it)

export interface ProfileJob {
  name: string;
  model: ModelConfig;
  train: TrainConfig;
  src_vocab: number;
  tgt_vocab: number;
  /** warm-up batches, then the profiled ones */
  batches: Pair[][];
  warmup: number;
  /** steps timed without the profiler, then as many profiled */
  min_steps: number;
}

export interface Exchange {
  ranks: number;
  /** rank 0: its weights into the shared buffer (DataParallel.shareWeights) */
  writeWeightsMs: number;
  /** the worker: the shared weights into its replica (loadVariables) */
  loadWeightsMs: number;
  /** the worker: its gradients into its shared buffer (readFloats per variable) */
  writeGradsMs: number;
  /** rank 0: the workers' gradients read back and the token-weighted sum (DataParallel.gradients) */
  sumGradsMs: number;
}

export interface ProfileReport {
  name: string;
  parameters: number;
  vocab: number;
  backend: string;
  /** threads XNNPACK computes with in this process (1 in Node) */
  backendThreads: number;
  batch: number;
  warmup: number;
  /** wall ms of the steps timed without the profiler */
  plainMs: number[];
  /** mean over the profiled steps */
  profile: Breakdown;
  profiledSteps: number;
  /** XNNPACK matmul throughput on this CPU, this process */
  matmul: { size: number; gflops: number[] };
  /** µs the profiler adds per kernel record (in the profiled step's outside-kernels time) */
  profilerUsPerKernel: number;
  exchange: Exchange;
}

interface EngineInternals {
  profiler: { profileKernel: (...args: unknown[]) => unknown };
}

/**
 * Wraps the engine profiler's profileKernel (called once per tf.profile record, in the order
 * the records are pushed) to learn each record's enclosing record. `completed()` is the number
 * of records so far; `parents()` the parent index of each.
 */
function nestingTracker(): { completed: () => number; parents: () => number[]; reset: () => void; restore: () => void } {
  const profiler = (tf.engine() as unknown as EngineInternals).profiler;
  if (typeof profiler?.profileKernel !== 'function') throw new Error('tfjs engine internals changed: no profiler.profileKernel to wrap');
  const original = profiler.profileKernel;
  let parents: number[] = [];
  /** per open call: the indices of the records completed inside it */
  let stack: number[][] = [];
  profiler.profileKernel = function (this: unknown, ...args: unknown[]) {
    stack.push([]);
    try {
      return original.apply(this, args);
    } finally {
      const children = stack.pop()!;
      const index = parents.length;
      parents.push(-1);
      for (const c of children) parents[c] = index;
      stack[stack.length - 1]?.push(index);
    }
  };
  return {
    completed: () => parents.length,
    parents: () => parents,
    reset: () => {
      parents = [];
      stack = [];
    },
    restore: () => {
      profiler.profileKernel = original;
    },
  };
}

/** An identity whose gradient calls `onGradient` when the backward reaches it. */
function gradientMark(onGradient: () => void): (x: tf.Tensor) => tf.Tensor {
  return tf.customGrad((...args: unknown[]) => {
    const x = args[0] as tf.Tensor;
    return {
      value: tf.reshape(x, x.shape),
      gradFunc: (dy: tf.Tensor) => {
        onGradient();
        return tf.reshape(dy, dy.shape);
      },
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}

function kernelMs(t: unknown): number {
  if (typeof t !== 'number') throw new Error(`tf.profile gave no kernel time (${JSON.stringify(t)})`);
  return t;
}

/** XNNPACK's throughput: GFLOP/s of each of `reps` n×n×n tf.matMul calls (after 3 warm-up ones), same operands. */
export function measureMatMul(n: number, reps: number): number[] {
  const [a, b] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  const out: number[] = [];
  for (let i = 0; i < reps + 3; i++) {
    const start = performance.now();
    const c = tf.matMul(a, b);
    const elapsed = performance.now() - start;
    c.dispose();
    if (i >= 3) out.push((2 * n ** 3) / (elapsed / 1000) / 1e9);
  }
  tf.dispose([a, b]);
  return out;
}

/**
 * What tf.profile (and the nesting wrapper) add per kernel record, in µs: `n` scalar adds under
 * tf.profile less the same unprofiled, the median of 3 tries. That much of each record's
 * bookkeeping falls in the profiled step's "outside kernels".
 */
async function profilerOverheadUs(n: number): Promise<number> {
  const [a, b] = [tf.scalar(1), tf.scalar(2)];
  const run = () => {
    const start = performance.now();
    for (let i = 0; i < n; i++) tf.add(a, b).dispose();
    return performance.now() - start;
  };
  run();
  const tries: number[] = [];
  for (let k = 0; k < 3; k++) {
    const plain = run();
    let profiled = 0;
    await tf.profile(() => {
      profiled = run();
    });
    tries.push(((profiled - plain) / n) * 1000);
  }
  tf.dispose([a, b]);
  return medianOf(tries);
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * DataParallel's exchange for 2 ranks, re-enacted here with its transfer functions on real
 * gradients of `pairs` (the median of `reps` rounds, ms each part). Changes the variables'
 * buffers (loadVariables), not their values.
 */
function reenactExchange(model: NmtModel, pairs: Pair[], ids: SpecialIds, train: TrainConfig, reps: number): Exchange {
  const names = [...model.namedVariables.keys()];
  const variables = names.map((n) => model.namedVariables.get(n)!);
  const { grads } = batchGradients(model, pairs, ids, train);
  const weights = new Float32Array(flatLength(variables));
  const gradsFlat = new Float32Array(weights.length);
  const time = (f: () => void) => {
    const start = performance.now();
    f();
    return performance.now() - start;
  };
  const rounds: Exchange[] = [];
  for (let r = 0; r < reps; r++) {
    const writeWeightsMs = time(() => writeVariables(variables, weights));
    const loadWeightsMs = time(() => loadVariables(variables, weights));
    const writeGradsMs = time(() => {
      let offset = 0;
      for (const v of variables) {
        const g = grads[v.name];
        if (g) readFloats(g, gradsFlat, offset);
        offset += v.size;
      }
    });
    const sumGradsMs = time(() => {
      // As DataParallel.gradients: own gradients and the worker's, each scaled by its token share.
      const sum: Gradients = tf.tidy(() => {
        const out: Gradients = {};
        const add = (v: tf.Variable, g: tf.Tensor, weight: number) => {
          const scaled = tf.mul(g, weight);
          out[v.name] = out[v.name] ? tf.add(out[v.name]!, scaled) : scaled;
        };
        for (const v of variables) if (grads[v.name]) add(v, grads[v.name]!, 0.5);
        let offset = 0;
        for (const v of variables) {
          if (grads[v.name]) add(v, floatTensor(gradsFlat.subarray(offset, offset + v.size), v.shape), 0.5);
          offset += v.size;
        }
        return out;
      });
      tf.dispose(Object.values(sum));
    });
    rounds.push({ ranks: 2, writeWeightsMs, loadWeightsMs, writeGradsMs, sumGradsMs });
  }
  tf.dispose(Object.values(grads));
  const med = (k: keyof Exchange) => medianOf(rounds.map((x) => x[k]));
  return { ranks: 2, writeWeightsMs: med('writeWeightsMs'), loadWeightsMs: med('loadWeightsMs'), writeGradsMs: med('writeGradsMs'), sumGradsMs: med('sumGradsMs') };
}

/**
 * Child process: `warmup` steps, `min_steps` steps timed without the profiler, the same batches
 * again under tf.profile (one profile per step), the matmul throughput before and after, and the
 * exchange. Needs the wasm backend up (initBackend('wasm')) and `createModel`'s model.
 */
export async function profileTraining(job: ProfileJob, model: NmtModel, ids: SpecialIds, backend: { name: string; threads: number }): Promise<ProfileReport> {
  const { train } = job;
  const optimizer = new Adam(model.namedVariables, { decoupled: train.optimizer === 'adamw', beta1: train.betas[0], beta2: train.betas[1], weightDecay: train.weight_decay });
  const step = async (pairs: Pair[], source?: GradientSource) => {
    const { applied } = await optimizerUpdate(model, optimizer, [pairs], ids, train, train.learning_rate, source);
    if (!applied) throw new Error(`${job.name}: a step diverged`);
  };
  const batchOf = (k: number) => job.batches[k % job.batches.length]!;
  for (let k = 0; k < job.warmup; k++) await step(batchOf(k));
  const measured = Array.from({ length: job.min_steps }, (_, i) => batchOf(job.warmup + i));
  const plainMs: number[] = [];
  for (const pairs of measured) {
    const start = performance.now();
    await step(pairs);
    plainMs.push(performance.now() - start);
  }

  const gflops = measureMatMul(512, 10);
  const tracker = nestingTracker();
  const steps: Breakdown[] = [];
  const forward = model.forward;
  let profilerUsPerKernel = NaN;
  try {
    for (const pairs of measured) {
      tracker.reset();
      const t: Record<string, number> = {};
      const marks: Marks = { lossStart: -1, lossEnd: -1 };
      const markLossEnd = gradientMark(() => {
        marks.lossEnd = tracker.completed();
        t.lossEnd = performance.now();
      });
      // The model's forward, marked where it returns and where the backward reaches its logits.
      model.forward = (...args: Parameters<NmtModel['forward']>) => {
        const logits = forward.apply(model, args);
        marks.lossStart = tracker.completed();
        t.lossStart = performance.now();
        return markLossEnd(logits) as tf.Tensor3D;
      };
      // The batch's gradients, as optimizerUpdate computes them without a GradientSource.
      const source: GradientSource = {
        gradients: async (m, p, i, s) => {
          const result = batchGradients(m, p, i, s);
          t.backwardEnd = performance.now();
          return result;
        },
      };
      let stepMs = 0;
      const profile = await tf.profile(async () => {
        t.start = performance.now();
        await step(pairs, source);
        t.end = performance.now();
        stepMs = t.end - t.start;
      });
      if (marks.lossStart < 0 || marks.lossEnd < 0) throw new Error(`${job.name}: the loss marks were not reached`);
      const parents = tracker.parents();
      if (parents.length !== profile.kernels.length) throw new Error(`profile: ${profile.kernels.length} records but ${parents.length} profiled kernel calls`);
      const records: KernelRecord[] = profile.kernels.map((k, i) => ({
        name: k.name,
        inputShapes: k.inputShapes,
        outputShapes: k.outputShapes,
        kernelTimeMs: kernelMs(k.kernelTimeMs),
        parent: parents[i]!,
        container: tf.getKernel(k.name, tf.getBackend()) === undefined,
      }));
      const phases = { forward: t.lossStart! - t.start!, loss: t.lossEnd! - t.lossStart!, backward: t.backwardEnd! - t.lossEnd!, update: t.end! - t.backwardEnd! };
      steps.push(breakdown(records, marks, job.tgt_vocab, stepMs, phases));
    }
    tracker.reset();
    profilerUsPerKernel = await profilerOverheadUs(2000);
  } finally {
    model.forward = forward;
    tracker.restore();
  }
  gflops.push(...measureMatMul(512, 10));
  const exchange = reenactExchange(model, measured[0]!, ids, train, 3);
  const report: ProfileReport = {
    name: job.name,
    parameters: model.parameterCount(),
    vocab: job.tgt_vocab,
    backend: backend.name,
    backendThreads: backend.threads,
    batch: measured[0]!.length,
    warmup: job.warmup,
    plainMs,
    profile: meanBreakdown(steps),
    profiledSteps: steps.length,
    matmul: { size: 512, gflops },
    profilerUsPerKernel,
    exchange,
  };
  optimizer.dispose();
  return report;
}

/** The report's lines: a header, the table, phases, the ceiling and the exchange. */
export function formatReport(r: ProfileReport): string[] {
  const b = r.profile;
  const plain = medianOf(r.plainMs);
  const gflops = medianOf(r.matmul.gflops);
  const matmulMs = b.groups['matmul-output'].ms + b.groups['matmul-rest'].ms;
  const ceiling = ceilingMs(b.flops, gflops);
  const phase = (p: Phase, label: string) => `${label} ${ms(b.phases[p])} ms (${pct(b.phases[p], b.stepMs)})`;
  const x = r.exchange;
  // Measured as a difference of two timings: below 0 is noise.
  const overhead = Math.max(0, r.profilerUsPerKernel);
  return [
    `${r.name} (${(r.parameters / 1e6).toFixed(1)} M parameters, vocabulary ${r.vocab}): ${r.backend}, ${r.backendThreads} thread(s), main thread only; batch of ${r.batch} pairs; ${r.warmup} warm-up step(s), then ${r.plainMs.length} step(s) unprofiled and the same ${r.profiledSteps} under tf.profile`,
    `  step: ${ms(plain)} ms unprofiled (median), ${ms(b.stepMs)} ms profiled (mean); shares are of the profiled step, whose outside-kernels row holds the profiler's own ≈ ${overhead.toFixed(1)} µs per record × ${Math.round(b.kernels)} = ${ms((overhead * b.kernels) / 1000)} ms`,
    ...formatBreakdown(b, r.vocab).map((l) => `  ${l}`),
    `  phases (wall): ${phase('forward', 'forward')}, ${phase('loss', 'loss + its gradient')}, ${phase('backward', 'rest of the backward')}, ${phase('update', 'clip + Adam')}`,
    `  ceiling: ${(b.flops / 1e9).toFixed(2)} GFLOP of matmuls per step; XNNPACK ${r.matmul.size}×${r.matmul.size}×${r.matmul.size} tf.matMul on ${r.backend}, 1 thread: ${gflops.toFixed(1)} GFLOP/s (median of ${r.matmul.gflops.length}, ${Math.min(...r.matmul.gflops).toFixed(1)}–${Math.max(...r.matmul.gflops).toFixed(1)}) → a step would take ${ms(ceiling)} ms if only the matmuls remained at ${gflops.toFixed(1)} GFLOP/s, against ${ms(plain)} ms measured (${pct(ceiling, plain)}); the step's matmuls ran at ${(b.flops / 1e9 / (matmulMs / 1000)).toFixed(1)} GFLOP/s`,
    `  gradient exchange (not in the table: one thread exchanges nothing), DataParallel's for ${x.ranks} ranks re-enacted on this thread: rank 0 writes its weights ${ms(x.writeWeightsMs)} ms, sums the gradients ${ms(x.sumGradsMs)} ms; the worker loads the weights ${ms(x.loadWeightsMs)} ms, writes its gradients ${ms(x.writeGradsMs)} ms (message latency and the wait for the slower shard not included)`,
  ];
}
