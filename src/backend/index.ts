/**
 * Backend selection. Order for `auto`: tfjs-node-gpu (CUDA) → tfjs-node → wasm (SIMD) → cpu.
 *
 * The backend must be chosen before any tensor exists: switching later corrupts tensors
 * (see docs/backends.md). Model code uses only the tfjs-core API, so it runs on all four.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError, errorMessage } from '../errors.ts';
import { registerGradientOverrides } from './gradients.ts';
import { registerWasmKernels } from './wasm-kernels.ts';

import type { BackendName, ConcreteBackend } from './names.ts';

export { BACKEND_NAMES, type BackendName, type ConcreteBackend } from './names.ts';

export interface BackendInfo {
  /** What the user asked for. */
  requested: BackendName;
  /** mt's name of the backend in use. */
  name: ConcreteBackend;
  /** tfjs's registered backend name (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  tfjsVersion: string;
  /** Threads the backend computes with (1 for cpu; wasm's XNNPACK pool size; the native backends' intra-op pool). */
  threads: number;
  /**
   * TF_NUM_INTRAOP_THREADS when the native backend loaded (set by mt for an explicit `--threads N`,
   * or by the user); null when unset (TensorFlow uses every core) and on wasm and cpu.
   */
  intraOpThreads: number | null;
  simd: boolean | null;
  /** CUDA devices, only when the native GPU backend is in use. */
  cudaDevices: string[];
  /** Why each backend tried before the chosen one was passed over. */
  skipped: { name: ConcreteBackend; reason: string }[];
}

/** How to bring one backend up; tests substitute loaders to simulate failures. */
export type BackendLoader = () => Promise<void>;

const require = createRequire(import.meta.url);

async function importNative(pkg: string): Promise<void> {
  try {
    await import(pkg);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new Error(`${pkg} is not installed`);
    }
    throw new Error(`${pkg} failed to load: ${errorMessage(e)}`);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but its backend did not initialise`);
}

async function loadWasm(): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  wasm.setWasmPaths(path.join(dist, 'dist') + path.sep);
  // Threads only take effect where tfjs can start wasm pthreads (not in Node: tfjs issue #3830).
  wasm.setThreadsCount(os.availableParallelism());
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not initialise');
}

async function loadCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not initialise');
}

export const DEFAULT_LOADERS: Record<ConcreteBackend, BackendLoader> = {
  gpu: () => importNative('@tensorflow/tfjs-node-gpu'),
  node: () => importNative('@tensorflow/tfjs-node'),
  wasm: loadWasm,
  cpu: loadCpu,
};

const AUTO_ORDER: ConcreteBackend[] = ['gpu', 'node', 'wasm', 'cpu'];

const NATIVE: readonly ConcreteBackend[] = ['gpu', 'node'];

/** TensorFlow's thread-count variables, read once, when tfjs-node creates its context (on load). */
const NATIVE_THREAD_VARS = ['TF_NUM_INTRAOP_THREADS', 'TF_NUM_INTEROP_THREADS'] as const;

export interface InitOptions {
  /**
   * `--threads` (or MT_THREADS): an explicit count becomes the native backends' thread count
   * (parallelismFor in names.ts). It must be in the environment before tfjs-node loads: the
   * binding creates its TensorFlow context when the module loads, and TensorFlow reads
   * TF_NUM_INTRAOP_THREADS once, when it creates its first CPU device.
   */
  threads?: number | 'auto';
}

/** A positive whole number from the environment, else null (as TensorFlow reads it: anything else is unset). */
function envCount(name: string): number | null {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : null;
}

/**
 * Put an explicit thread count into TensorFlow's variables before a native backend loads;
 * returns a function that puts back what was there (for when no native backend was chosen).
 */
function setNativeThreads(threads: number | 'auto' | undefined): () => void {
  if (typeof threads !== 'number') return () => {};
  const before = NATIVE_THREAD_VARS.map((name) => [name, process.env[name]] as const);
  for (const name of NATIVE_THREAD_VARS) process.env[name] = String(threads);
  return () => {
    for (const [name, value] of before) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

let active: BackendInfo | undefined;

/**
 * Whether `e` is the backend running out of memory. wasm's heap is capped at 4 GB: one too-large
 * allocation throws a RangeError, running out mid-computation aborts the module ("Aborted()"),
 * after which every call fails the same way; tfjs-node reports TensorFlow's OOM.
 */
export function isOutOfMemory(e: unknown): boolean {
  const message = e instanceof Error ? e.message : String(e);
  return /Aborted\(|Invalid typed array length|Array buffer allocation failed|Maximum memory size exceeded|OOM when allocating|out of memory/i.test(message);
}

export function activeBackend(): BackendInfo | undefined {
  return active;
}

/**
 * Bring up the requested backend (or the first that works, for `auto`).
 * Idempotent for the same request; asking for a different backend later is an error.
 * An explicit `opts.threads` becomes the native backends' own thread count (InitOptions).
 */
export async function initBackend(
  requested: BackendName = 'auto',
  loaders: Record<ConcreteBackend, BackendLoader> = DEFAULT_LOADERS,
  opts: InitOptions = {},
): Promise<BackendInfo> {
  if (active) {
    if (requested === 'auto' || requested === active.name) return active;
    throw new UserError(
      `backend '${requested}' requested but '${active.name}' is already in use in this process`,
    );
  }
  const candidates = requested === 'auto' ? AUTO_ORDER : [requested];
  const skipped: BackendInfo['skipped'] = [];
  const restoreEnv = candidates.some((c) => NATIVE.includes(c)) ? setNativeThreads(opts.threads) : () => {};
  for (const name of candidates) {
    // Past the native backends (wasm, cpu): their variables go back to what they were.
    if (!NATIVE.includes(name)) restoreEnv();
    try {
      await loaders[name]();
    } catch (e) {
      skipped.push({ name, reason: errorMessage(e) });
      continue;
    }
    registerGradientOverrides();
    // MT_STOCK_KERNELS=1 keeps tfjs-wasm's own kernels: to rule mt's out when chasing a bug, and
    // for bench/train-throughput.ts's before/after rows.
    if (name === 'wasm' && process.env.MT_STOCK_KERNELS !== '1') registerWasmKernels();
    active = describe(requested, name, skipped);
    return active;
  }
  restoreEnv();
  if (requested !== 'auto') {
    throw new UserError(`backend '${requested}' cannot be used: ${skipped[0]?.reason ?? 'unknown reason'}`);
  }
  throw new Error(`no tfjs backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

function describe(requested: BackendName, name: ConcreteBackend, skipped: BackendInfo['skipped']): BackendInfo {
  let threads = 1;
  let simd: boolean | null = null;
  let intraOpThreads: number | null = null;
  if (name === 'wasm') {
    const backend = tf.backend() as unknown as { wasm?: { _getThreadsCount?: () => number } };
    threads = backend.wasm?._getThreadsCount?.() ?? 1;
    simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  } else if (NATIVE.includes(name)) {
    intraOpThreads = envCount('TF_NUM_INTRAOP_THREADS');
    threads = intraOpThreads ?? os.availableParallelism();
  }
  return {
    requested,
    name,
    tfjsBackend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    threads,
    intraOpThreads,
    simd,
    cudaDevices: name === 'gpu' ? listCudaDevices() : [],
    skipped,
  };
}

function listCudaDevices(): string[] {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=index,name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
    return out.split('\n').map((l) => l.trim()).filter(Boolean);
  } catch {
    return ['(nvidia-smi not available)'];
  }
}
