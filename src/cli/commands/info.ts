/** `mt info`: the backend actually in use and the machine it runs on. */
import * as os from 'node:os';
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { MT_VERSION } from '../../version.ts';
import { loggerFor, parseThreads, threadsFor, type GlobalOptions } from '../common.ts';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the tfjs backend in use (and why others were skipped), threads, versions, CUDA devices')
    .action(async (_opts: object, cmd: Command) => {
      const log = loggerFor(cmd);
      const requested = (cmd.optsWithGlobals<GlobalOptions>().backend ?? 'auto') as BackendName;
      // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
      const { initBackend } = await import('../../backend/index.ts');
      const info = await initBackend(requested);
      // What train and translate would run on (--threads / MT_THREADS), not the backend's own thread pool.
      const threads = threadsFor(parseThreads(undefined), info.name);
      const { MIN_SENTENCES_PER_WORKER } = await import('../../decode/parallel.ts');
      const lines = [
        `mt ${MT_VERSION} (node ${process.version}, ${os.platform()}-${os.arch()}, ${os.availableParallelism()} cores)`,
        `backend:      ${info.name} (tfjs backend '${info.tfjsBackend}', requested '${info.requested}')`,
        `tfjs:         ${info.tfjsVersion}`,
        `threads:      ${threads} (train and translate; --threads or MT_THREADS to change; translate starts a worker per ${MIN_SENTENCES_PER_WORKER} sentences, up to this)`,
      ];
      if (info.simd !== null) lines.push(`wasm simd:    ${info.simd ? 'yes' : 'no'}`);
      if (info.name === 'gpu') lines.push(`cuda devices: ${info.cudaDevices.join('; ') || 'none found'}`);
      for (const s of info.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
      log.result({ mt_version: MT_VERSION, node: process.version, cores: os.availableParallelism(), ...info, threads, backend_threads: info.threads }, lines.join('\n'));
    });
}
