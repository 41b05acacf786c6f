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
import { startBrowserBackend } from '../../backend/browser.ts';
import type { DecodeConfig, ModelConfig } from '../../config/schema.ts';
import { translateLines, type Translation } from '../../decode/translate.ts';
import { createModel } from '../../models/index.ts';
import { SentencePieceModel } from '../../subword/sentencepiece.ts';
import type { SubwordPair } from '../../subword/types.ts';
import { putFile } from './node-shims.ts';
import type { WebManifest } from '../manifest.ts';
import { readWebSafetensors } from '../weights.ts';
import { mountPage } from './page.ts';
import type { LoadedSite, WebTranslateOptions } from './site.ts';

declare global {
  interface Window {
    MT_READY: Promise<LoadedSite>;
    mtTranslate: (lines: string[], opts?: WebTranslateOptions) => Promise<Translation[]>;
  }
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function loadSubword(file: string): Promise<SentencePieceModel> {
  putFile(file, await fetchBytes(file));
  return SentencePieceModel.load(file);
}

export async function loadSite(): Promise<LoadedSite> {
  const t0 = performance.now();
  // The .wasm files lie beside this page.
  const backend = await startBrowserBackend(new URLSearchParams(location.search).get('backend'), new URL('./', location.href).href);
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
