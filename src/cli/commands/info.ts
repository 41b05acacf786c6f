/** `mt info`: the backend actually in use and the machine it runs on. */
import * as os from 'node:os';
import type { Command } from 'commander';
import type { BackendName } from '../../backend/names.ts';
import { MT_VERSION } from '../../version.ts';
import { loggerFor, parallelismFor, parseThreads, type GlobalOptions } from '../common.ts';

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the tfjs backend in use (and why others were skipped), threads, versions, CUDA devices')
    .action(async (_opts: object, cmd: Command) => {
      const log = loggerFor(cmd);
      const requested = (cmd.optsWithGlobals<GlobalOptions>().backend ?? 'auto') as BackendName;
      // Loaded on demand: tfjs takes a second to import, which `mt --help` should not pay.
      const { initBackend } = await import('../../backend/index.ts');
      // Started as train and translate start it (MT_THREADS), so that what follows is what they would do.
      const flag = parseThreads(undefined);
      const info = await initBackend(requested, undefined, { threads: flag });
      // How train and translate spread over cores on this backend: worker threads, or its own threads.
      const parallelism = parallelismFor(info.name, flag, info);
      const threads = parallelism.mode === 'workers' ? parallelism.workers : parallelism.nativeThreads!;
      const { MIN_SENTENCES_PER_WORKER } = await import('../../decode/parallel.ts');
      const how =
        parallelism.mode === 'workers'
          ? `worker threads, one tfjs each (train and translate; --threads or MT_THREADS to change; translate starts a worker per ${MIN_SENTENCES_PER_WORKER} sentences, up to this)`
          : `native threads: one tfjs in the main thread, computing on the backend's own pool (TF_NUM_INTRAOP_THREADS ${info.intraOpThreads ?? 'unset: every core'}); no worker threads (--threads or MT_THREADS sets the count)`;
      const lines = [
        `mt ${MT_VERSION} (node ${process.version}, ${os.platform()}-${os.arch()}, ${os.availableParallelism()} cores)`,
        `backend:      ${info.name} (tfjs backend '${info.tfjsBackend}', requested '${info.requested}')`,
        `tfjs:         ${info.tfjsVersion}`,
        `threads:      ${threads} ${how}`,
      ];
      if (info.simd !== null) lines.push(`wasm simd:    ${info.simd ? 'yes' : 'no'}`);
      if (info.name === 'gpu') lines.push(`cuda devices: ${info.cudaDevices.join('; ') || 'none found'}`);
      for (const s of info.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
      log.result(
        {
          mt_version: MT_VERSION,
          node: process.version,
          cores: os.availableParallelism(),
          ...info,
          threads,
          parallelism: parallelism.mode,
          workers: parallelism.workers,
          native_threads: parallelism.nativeThreads,
          backend_threads: info.threads,
        },
        lines.join('\n'),
      );
    });
}
