/**
 * `mt export web`: a static site that translates in the browser with a run's checkpoint —
 * index.html, mt-web.js (src/ bundled for the browser by esbuild: the same model, search and
 * subword code as Node; see browser/entry.ts), mt-model.json, the weights (safetensors, F32 as
 * trained or F16), the SentencePiece .model files and tfjs's .wasm files. Any static file
 * server can serve it; nothing runs on a server.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { checkSubwords, readCheckpoint, resolveCheckpoint } from '../checkpoint/index.ts';
import { UserError } from '../errors.ts';
import { LAYOUT, type RunDir } from '../run/rundir.ts';
import { replaceDirAtomic } from '../util/atomic.ts';
import { MT_VERSION } from '../version.ts';
import type { WebManifest } from './manifest.ts';
import { encodeF16Safetensors } from './weights.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BROWSER = path.join(HERE, 'browser');

export interface ExportWebOptions {
  /** 'best', 'last' or a checkpoint folder (default: best if one was validated, else last). */
  checkpoint?: string;
  out: string;
  /** Store the weights as float16 (half the download; outputs may differ slightly). */
  float16?: boolean;
  /** Minify the bundle (default true; false for debugging). */
  minify?: boolean;
  warn?: (msg: string) => void;
}

export interface ExportWebSummary {
  out: string;
  checkpoint: WebManifest['checkpoint'];
  model: string;
  files: { name: string; bytes: number }[];
  /** mt-web.js: raw and gzipped bytes (the code a visitor downloads, weights not counted). */
  bundle: { bytes: number; gzip: number };
  /** The .wasm file a visitor's browser fetches (SIMD build), gzipped. */
  wasm_gzip: number;
  weights_bytes: number;
}

/** The browser bundle: src/export/browser/entry.ts and what it imports, fs/path/module shimmed. */
export async function bundleBrowser(minify = true): Promise<Uint8Array> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new UserError('mt export web needs the esbuild package (npm install esbuild)');
  }
  const shim = path.join(BROWSER, 'node-shims.ts');
  const result = await esbuild.build({
    entryPoints: [path.join(BROWSER, 'entry.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify,
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [
      {
        name: 'mt-node-shims',
        setup(build) {
          // Reached only on Node paths in the browser, except fs/path by SentencePieceModel.load (an in-memory table).
          build.onResolve({ filter: /^(node:)?(fs|path|module|url)$/ }, () => ({ path: shim }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.contents;
}

/** Where tfjs-backend-wasm's .wasm files are. */
function wasmDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** Refuse to replace a folder that is not empty and not an earlier export. */
function checkOut(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new UserError(`--out ${out}: exists and is not a folder`);
  const entries = fs.readdirSync(out);
  if (entries.length > 0 && !entries.includes('mt-model.json')) {
    throw new UserError(`--out ${out}: a folder that is not empty and holds no earlier export (mt-model.json); give a new or empty folder`);
  }
}

export async function exportWeb(run: RunDir, opts: ExportWebOptions): Promise<ExportWebSummary> {
  const out = path.resolve(opts.out);
  checkOut(out);
  const which = opts.checkpoint ?? (fs.existsSync(run.path(LAYOUT.checkpoints, 'best.json')) ? 'best' : 'last');
  const dir = resolveCheckpoint(run, which, opts.warn);
  const { state, weights } = readCheckpoint(dir);
  checkSubwords(run, state, dir);
  const cfg = run.config;
  const subwordFiles = cfg.subword.joint ? { src: 'joint.model', tgt: 'joint.model' } : { src: 'src.model', tgt: 'tgt.model' };
  const weightsName = opts.float16 ? 'model.f16.safetensors' : 'model.safetensors';
  const why = opts.checkpoint === undefined ? `the ${which} checkpoint` : `given by --checkpoint ${opts.checkpoint}`;
  const manifest: WebManifest = {
    format: 'mt-web',
    format_version: 1,
    mt_version: MT_VERSION,
    model: state.model as WebManifest['model'],
    src_vocab_size: state.src_vocab_size,
    tgt_vocab_size: state.tgt_vocab_size,
    seed: cfg.seed,
    decode: cfg.decode as unknown as Record<string, unknown>,
    subword: subwordFiles,
    weights: weightsName,
    weights_dtype: opts.float16 ? 'F16' : 'F32',
    languages: { src: cfg.data.src_lang, tgt: cfg.data.tgt_lang },
    checkpoint: { step: state.step, name: path.basename(dir), why },
  };
  for (const [name, t] of Object.entries(weights)) {
    if (t.dtype !== 'F32') throw new UserError(`${dir}: weights ${name} are ${t.dtype}, not F32`);
  }
  const weightBytes = opts.float16
    ? encodeF16Safetensors(Object.fromEntries(Object.entries(weights).map(([n, t]) => [n, { shape: t.shape, data: t.data as Float32Array }])))
    : fs.readFileSync(path.join(dir, 'model.safetensors'));
  const bundle = await bundleBrowser(opts.minify ?? true);
  const wasm = wasmDir();
  replaceDirAtomic(out, (tmp) => {
    fs.copyFileSync(path.join(BROWSER, 'index.html'), path.join(tmp, 'index.html'));
    fs.writeFileSync(path.join(tmp, 'mt-web.js'), bundle);
    fs.writeFileSync(path.join(tmp, 'mt-model.json'), JSON.stringify(manifest, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, weightsName), weightBytes);
    for (const f of new Set([subwordFiles.src, subwordFiles.tgt])) fs.copyFileSync(run.path(LAYOUT.subword, f), path.join(tmp, f));
    for (const f of WASM_FILES) fs.copyFileSync(path.join(wasm, f), path.join(tmp, f));
  });
  const files = fs.readdirSync(out).sort().map((name) => ({ name, bytes: fs.statSync(path.join(out, name)).size }));
  return {
    out,
    checkpoint: manifest.checkpoint,
    model: manifest.model.type,
    files,
    bundle: { bytes: bundle.length, gzip: zlib.gzipSync(bundle, { level: 9 }).length },
    wasm_gzip: zlib.gzipSync(fs.readFileSync(path.join(wasm, 'tfjs-backend-wasm-simd.wasm')), { level: 9 }).length,
    weights_bytes: weightBytes.length,
  };
}
