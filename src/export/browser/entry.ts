/**
 * The browser side of `mt export web`, bundled by esbuild into the site's mt-web.js: it loads
 * the exported model (mt-model.json, the safetensors weights, the SentencePiece .model files)
 * and translates with the same code as Node — createModel (src/models), translateLines
 * (src/decode: planning, batching, greedy and beam search, detokenizing) and SentencePieceModel
 * (src/subword, on an in-memory file table: ./node-shims.ts). Nothing here is a port.
 *
 * The backend: ?backend=webgl|wasm|cpu pins one; without it, webgl, then wasm, then cpu.
 * window.mtTranslate(lines, {beam, nbest, attention}) is the page's (and the tests') API;
 * window.MT_READY resolves once the model is loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../backend/wasm-kernels.ts';
import type { DecodeConfig, ModelConfig } from '../../config/schema.ts';
import { translateLines, type Translation } from '../../decode/translate.ts';
import { createModel } from '../../models/index.ts';
import type { NmtModel } from '../../models/types.ts';
import { SentencePieceModel } from '../../subword/sentencepiece.ts';
import type { SubwordPair } from '../../subword/types.ts';
import { putFile } from './node-shims.ts';
import type { WebManifest } from '../manifest.ts';
import { readWebSafetensors } from '../weights.ts';
import { mountPage } from './page.ts';

export interface WebTranslateOptions {
  beam?: number;
  nbest?: number;
  attention?: boolean;
}

export interface LoadedSite {
  manifest: WebManifest;
  model: NmtModel;
  subwords: SubwordPair;
  backend: string;
  /** Milliseconds from script start to a loaded model. */
  loadMs: number;
  translate(lines: string[], opts?: WebTranslateOptions): Translation[];
}

declare global {
  interface Window {
    MT_READY: Promise<LoadedSite>;
    mtTranslate: (lines: string[], opts?: WebTranslateOptions) => Promise<Translation[]>;
  }
}

const BACKENDS = ['webgl', 'wasm', 'cpu'] as const;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The backend asked for (?backend=), or the first of webgl, wasm, cpu that starts. */
async function startBackend(asked: string | null): Promise<string> {
  // The .wasm files lie beside this page.
  setWasmPaths(new URL('./', location.href).href);
  const order = asked ? [asked] : [...BACKENDS];
  for (const name of order) {
    if (!(BACKENDS as readonly string[]).includes(name)) throw new Error(`?backend=${name}: use one of ${BACKENDS.join(', ')}`);
    let ok = false;
    try {
      ok = await tf.setBackend(name);
    } catch {
      ok = false;
    }
    if (ok) {
      await tf.ready();
      // As in Node (src/backend/index.ts): the same kernels, so the same numbers.
      if (name === 'wasm') registerWasmKernels();
      return name;
    }
    if (asked) throw new Error(`the ${name} backend did not start in this browser`);
  }
  throw new Error('no tfjs backend started (webgl, wasm, cpu)');
}

async function loadSubword(file: string): Promise<SentencePieceModel> {
  putFile(file, await fetchBytes(file));
  return SentencePieceModel.load(file);
}

export async function loadSite(): Promise<LoadedSite> {
  const t0 = performance.now();
  const backend = await startBackend(new URLSearchParams(location.search).get('backend'));
  const manifest = (await (await fetch('mt-model.json')).json()) as WebManifest;
  const [weightBytes, src] = await Promise.all([fetchBytes(manifest.weights), loadSubword(manifest.subword.src)]);
  const tgt = manifest.subword.tgt === manifest.subword.src ? src : await loadSubword(manifest.subword.tgt);
  const model = createModel(manifest.model as ModelConfig, manifest.src_vocab_size, manifest.tgt_vocab_size, manifest.seed);
  const weights = readWebSafetensors(weightBytes);
  for (const [name, v] of model.namedVariables) {
    const w = weights[name];
    if (!w) throw new Error(`${manifest.weights}: no weights for ${name}`);
    if (w.shape.join(',') !== v.shape.join(',')) throw new Error(`${manifest.weights}: ${name} has shape [${w.shape}], the model expects [${v.shape}]`);
    tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')));
  }
  const subwords: SubwordPair = { src, tgt };
  const decode = manifest.decode as DecodeConfig;
  return {
    manifest,
    model,
    subwords,
    backend,
    loadMs: performance.now() - t0,
    translate(lines, opts = {}) {
      const beam = opts.beam ?? decode.beam_size;
      const settings: DecodeConfig = { ...decode, beam_size: beam, nbest: Math.min(opts.nbest ?? 1, beam) };
      // Attention weights only where the family has them (seq2seq has none).
      const attention = !!opts.attention && manifest.model.type !== 'seq2seq';
      return translateLines(model, subwords, lines, settings, { attention });
    },
  };
}

window.MT_READY = loadSite();
window.mtTranslate = async (lines, opts) => (await window.MT_READY).translate(lines, opts);
window.MT_READY.then(
  (site) => mountPage(site),
  (e: unknown) => mountPage(undefined, e instanceof Error ? e.message : String(e)),
);
