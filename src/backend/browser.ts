/**
 * The tfjs backend in a browser page (`mt export web`): webgl, then wasm, then cpu — or the one
 * asked for. On wasm it registers the same kernels as Node (index.ts), so the numbers are the same.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels.ts';

export const BROWSER_BACKENDS = ['webgl', 'wasm', 'cpu'] as const;

/** Start `asked` (or the first of BROWSER_BACKENDS that starts); the wasm files are under `wasmBase`. */
export async function startBrowserBackend(asked: string | null, wasmBase: string): Promise<string> {
  setWasmPaths(wasmBase);
  const order = asked ? [asked] : [...BROWSER_BACKENDS];
  for (const name of order) {
    if (!(BROWSER_BACKENDS as readonly string[]).includes(name)) throw new Error(`?backend=${name}: use one of ${BROWSER_BACKENDS.join(', ')}`);
    let ok = false;
    try {
      ok = await tf.setBackend(name);
    } catch {
      ok = false;
    }
    if (ok) {
      await tf.ready();
      if (name === 'wasm') registerWasmKernels();
      return name;
    }
    if (asked) throw new Error(`the ${name} backend did not start in this browser`);
  }
  throw new Error(`no tfjs backend started (${BROWSER_BACKENDS.join(', ')})`);
}
