/** Backend names, kept apart from the loader so that config parsing does not load tfjs. */
import * as os from 'node:os';

export const BACKEND_NAMES = ['auto', 'gpu', 'node', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/**
 * The threads (training ranks, decoding workers) that `--threads` means on `backend`: auto is
 * every core (at most 8) on the wasm and cpu backends, which compute on one thread each, and 1 on
 * the native backends, which use all cores themselves.
 */
export function threadsFor(threads: number | 'auto', backend: string): number {
  if (threads !== 'auto') return threads;
  return backend === 'wasm' || backend === 'cpu' ? Math.min(os.availableParallelism(), 8) : 1;
}
