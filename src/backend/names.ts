/** Backend names, kept apart from the loader so that config parsing does not load tfjs. */
import * as os from 'node:os';

export const BACKEND_NAMES = ['auto', 'gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** Most worker threads `--threads auto` starts on wasm and cpu. */
export const MAX_AUTO_WORKERS = 8;

/** How mt spreads work over cores on one backend: worker threads, or the backend's own threads. */
export interface Parallelism {
  /**
   * `workers`: wasm and cpu compute on one thread each, so mt runs one tfjs per worker thread
   * (data-parallel training ranks, decoding workers). `native`: tfjs-node(-gpu) computes on its
   * own thread pool, and cannot run in more than one worker thread (tensorflow/tfjs#8388), so
   * mt runs one tfjs, in the main thread.
   */
  mode: 'workers' | 'native';
  /** tfjs instances computing: 1 is the main thread alone, no worker threads. Always 1 when native. */
  workers: number;
  /** The native backend's intra-op threads (TensorFlow's thread pool); null on wasm and cpu. */
  nativeThreads: number | null;
  /** One line for the log saying how an explicit `--threads N` was applied; null when there is nothing to say. */
  note: string | null;
}

export interface ParallelismContext {
  /** Cores to count `auto` from (default: os.availableParallelism()). */
  cores?: number;
  /**
   * TF_NUM_INTRAOP_THREADS as it was when the native backend loaded (BackendInfo.intraOpThreads):
   * null when unset (TensorFlow then uses every core). Absent: as initBackend sets it for an
   * explicit count, i.e. that count.
   */
  intraOpThreads?: number | null;
}

/**
 * What `--threads` (or MT_THREADS; a count or auto) means on `backend`: the one rule that
 * `mt train`, `mt translate`, `mt quickstart`, `mt info`, the trainer and the decoding session
 * follow. wasm and cpu: worker threads, auto = every core (at most 8). node and gpu: no worker
 * threads; an explicit count becomes TensorFlow's intra-op thread count (initBackend sets
 * TF_NUM_INTRAOP_THREADS before tfjs-node loads), auto leaves TensorFlow's default (every core).
 * Applying it to its own `workers` gives the same workers again, so callers handed an already
 * resolved count may apply it once more as a guard.
 */
export function parallelismFor(backend: string, threads: number | 'auto', ctx: ParallelismContext = {}): Parallelism {
  const cores = ctx.cores ?? os.availableParallelism();
  if (backend !== 'node' && backend !== 'gpu') {
    return { mode: 'workers', workers: threads === 'auto' ? Math.min(cores, MAX_AUTO_WORKERS) : threads, nativeThreads: null, note: null };
  }
  const intraOp = ctx.intraOpThreads === undefined ? (threads === 'auto' ? null : threads) : ctx.intraOpThreads;
  const nativeThreads = intraOp ?? cores;
  const what = backend === 'gpu' ? 'the gpu backend (tfjs-node-gpu) runs its CPU-side ops' : 'the node backend (tfjs-node) computes';
  let note: string | null = null;
  if (threads !== 'auto') {
    note =
      intraOp === threads
        ? `threads ${threads}: ${what} on ${threads} threads of its own (TF_NUM_INTRAOP_THREADS=${threads}), in this one thread; mt starts no worker threads on it`
        : `threads ${threads} ignored: ${what} on ${nativeThreads} threads of its own, fixed when it loaded (TF_NUM_INTRAOP_THREADS ${intraOp ?? 'unset'}); mt starts no worker threads on it`;
  }
  return { mode: 'native', workers: 1, nativeThreads, note };
}

/**
 * Refuse to start worker threads for a native backend: tfjs-node fails from the second worker
 * thread on (tensorflow/tfjs#8388), and computes on its own thread pool anyway.
 */
export function assertWorkerBackend(backend: string, what: string): void {
  if (parallelismFor(backend, 1).mode === 'native') {
    throw new Error(`${what}: the ${backend} backend runs in one thread with its own thread pool, not in worker threads (tensorflow/tfjs#8388)`);
  }
}
