/**
 * `mt export web --run DIR --out SITE/`: a static site that translates with the run's model in
 * the browser (src/export/web.ts). `mt export` is the group; `web` is its one target so far.
 */
import type { Command } from 'commander';
import { loggerFor, openStageRun, withConfigOptions, type StageOptions } from '../common.ts';

export const EXPORT_DESCRIPTION = 'export a trained run: `mt export web` writes a static site that translates in the browser (tfjs)';

interface ExportWebCliOptions extends StageOptions {
  out: string;
  checkpoint?: string;
  float16?: boolean;
  minify: boolean;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

export function registerExport(program: Command): void {
  const group = program.command('export').description(EXPORT_DESCRIPTION);
  withConfigOptions(
    group
      .command('web')
      .description('write a static site (index.html, bundled script, weights, SentencePiece models) that translates in the browser; serve it from any static host')
      .requiredOption('-o, --out <dir>', 'the site folder to write (new, empty, or an earlier export, which is replaced)')
      .option('--checkpoint <which>', "'best', 'last' or a checkpoint folder (default: best if validated, else last)")
      .option('--float16', 'store the weights as float16: half the download, outputs may differ slightly from float32')
      .option('--no-minify', 'do not minify the bundled script'),
  ).action(async (opts: ExportWebCliOptions, cmd: Command) => {
    const log = loggerFor(cmd);
    const run = openStageRun(opts, log);
    const { exportWeb } = await import('../../export/web.ts');
    const s = await exportWeb(run, { out: opts.out, checkpoint: opts.checkpoint, float16: opts.float16, minify: opts.minify, warn: (m) => log.warn(m) });
    const lines = [
      `wrote ${s.out}: ${s.model} model, checkpoint ${s.checkpoint.name} (${s.checkpoint.why})`,
      ...s.files.map((f) => `  ${f.name.padEnd(40)} ${kb(f.bytes)}`),
      `script: ${kb(s.bundle.bytes)} (${kb(s.bundle.gzip)} gzipped) + wasm ${kb(s.wasm_gzip)} gzipped; weights ${kb(s.weights_bytes)}`,
      `serve it from any static file server, e.g. python3 -m http.server -d ${opts.out}, and open index.html (?backend=wasm|webgl|cpu pins the backend)`,
    ];
    log.result(s, lines.join('\n'));
  });
}
