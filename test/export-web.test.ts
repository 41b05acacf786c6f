/**
 * `mt export web` in a real browser: a tiny trained attention model is exported with the real
 * `mt export web`, the site is served by a static file server on 127.0.0.1, and headless
 * Chromium (Debian's `chromium`, driven by puppeteer-core) translates 20 sentences on the wasm
 * backend with beam 1: the output must equal `mt translate --beam 1` byte for byte. The page's
 * own form is then used once (type, click, translation and heatmap shown). Skipped, saying why,
 * where /usr/bin/chromium is absent (a failure under MT_TEST_REQUIRE_ALL=1).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunDir } from '../src/run/rundir.ts';
import { runMt } from './helpers/cli.ts';
import { launchChromium, missingChromium } from './helpers/requirements.ts';
import { TINY_MODELS, quietLog, tinyConfig, tinyRun } from './train-fixture.ts';

const WORDS = ['ka', 'lo', 'mi', 'nu', 'pe', 'ri', 'so', 'tu', 'va', 'ze', 'bo', 'di'];
/** 20 sentences of the fixture's words, 1 to 8 words long (deterministic). */
const SENTENCES = Array.from({ length: 20 }, (_, i) => Array.from({ length: 1 + ((i * 5) % 8) }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' '));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** A static file server for `root` on 127.0.0.1 (what any static host does). */
function serveStatic(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) });
    }),
  );
}

interface Exported {
  run: RunDir;
  site: string;
  served: { url: string; close: () => Promise<void> };
  /** `mt translate --beam 1` of SENTENCES, one line each. */
  expected: string[];
}

/** Train a tiny run of `family`, translate SENTENCES with `mt translate --beam 1`, export it with `mt export web` and serve the site. */
async function exported(family: keyof typeof TINY_MODELS): Promise<Exported> {
  const { train } = await import('../src/train/trainer.ts');
  const config = tinyConfig(TINY_MODELS[family], { max_steps: 3 });
  const run = await tinyRun({ ...config, decode: { ...(config.decode as object), batch_size: 4, beam_size: 3 } });
  await train(run, { log: quietLog() });
  const input = path.join(path.dirname(run.root), 'input.src');
  fs.writeFileSync(input, SENTENCES.join('\n') + '\n');
  const translated = runMt(['--backend', 'wasm', 'translate', '--run', run.root, '--beam', '1', '-i', input]);
  assert.equal(translated.code, 0, translated.stderr);
  const expected = translated.stdout.split('\n').slice(0, -1);
  assert.equal(expected.length, SENTENCES.length);
  // Something to compare: not every output the same.
  assert.ok(new Set(expected).size > 1, `${family}: all outputs alike: ${expected[0]}`);

  const site = path.join(path.dirname(run.root), 'site');
  const out = runMt(['--json', 'export', 'web', '--run', run.root, '--out', site]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout).model, family);
  for (const f of ['index.html', 'mt-web.js', 'mt-model.json', 'model.safetensors', 'joint.model', 'tfjs-backend-wasm-simd.wasm']) {
    assert.ok(fs.existsSync(path.join(site, f)), f);
  }
  return { run, site, served: await serveStatic(site), expected };
}

/** Open the site on `backend` and translate SENTENCES with beam 1; timings for docs/web.md. */
async function translateInPage(page: import('puppeteer-core').Page, url: string, backend: string) {
  const t0 = Date.now();
  await page.goto(`${url}/index.html?backend=${backend}`, { waitUntil: 'load' });
  const info = await page.evaluate(async () => {
    const s = await window.MT_READY;
    return { backend: s.backend, loadMs: s.loadMs };
  });
  assert.equal(info.backend, backend);
  const first = await page.evaluate(async (one) => {
    const t1 = performance.now();
    const out = await window.mtTranslate([one], { beam: 1 });
    return { text: out[0]!.text, ms: performance.now() - t1 };
  }, SENTENCES[0]!);
  const firstMs = Date.now() - t0;
  const all = await page.evaluate(async (lines) => {
    const t1 = performance.now();
    const out = await window.mtTranslate(lines, { beam: 1 });
    return { texts: out.map((x) => x.text), ms: performance.now() - t1 };
  }, SENTENCES);
  const timing = `${backend}: model loaded in ${info.loadMs.toFixed(0)} ms; page open to first translation ${firstMs} ms; 20 sentences in ${all.ms.toFixed(0)} ms (${((20 * 1000) / all.ms).toFixed(1)} sentences/s)`;
  return { first: first.text, texts: all.texts, timing };
}

describe('mt export web in headless Chromium', { skip: missingChromium() }, () => {
  const made: Exported[] = [];
  let browser: import('puppeteer-core').Browser;

  before(async () => {
    const { initBackend } = await import('../src/backend/index.ts');
    await initBackend('wasm');
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const e of made) {
      await e.served.close();
      fs.rmSync(path.dirname(e.run.root), { recursive: true, force: true });
    }
  });

  for (const family of ['attention', 'transformer', 'seq2seq'] as const) {
    it(`${family}: translates 20 sentences on wasm with beam 1 exactly as mt translate --beam 1`, async (t) => {
      const e = await exported(family);
      made.push(e);
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(String(err)));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
      const got = await translateInPage(page, e.served.url, 'wasm');
      t.diagnostic(`${family} ${got.timing}`);
      assert.equal(got.first, e.expected[0]);
      assert.equal(got.texts.join('\n') + '\n', e.expected.join('\n') + '\n');

      if (family !== 'seq2seq') {
        // The page's own form: type, click, the translation and the heatmap appear.
        await page.type('#source', SENTENCES[3]!);
        await page.$eval('#beam', (el) => ((el as HTMLInputElement).value = '1'));
        await page.click('#translate');
        await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', { timeout: 60_000 });
        assert.equal(await page.$eval('#error', (el) => el.textContent), '');
        assert.equal(await page.$eval('#translation', (el) => el.textContent), e.expected[3]);
        assert.ok((await page.$$eval('#heatmap tbody tr', (r) => r.length)) >= 1, 'heatmap rows');
        await page.hover('.tgt-piece[data-index="0"]');
        assert.equal(await page.$eval('#heatmap', (el) => (el as HTMLElement).dataset.active), '0');
      }
      assert.deepEqual(problems, []);
      await page.close();
    });
  }

  it('attention on webgl (SwiftShader): the same output on at least 19 of 20 sentences', async (t) => {
    const e = made.find((m) => m.run.config.model.type === 'attention');
    assert.ok(e, 'the attention test ran first');
    // WebGL needs a GL: Chromium's software one (SwiftShader), as FINDINGS.md notes.
    const gl = await launchChromium('software');
    try {
      const page = await gl.newPage();
      const got = await translateInPage(page, e.served.url, 'webgl');
      const same = got.texts.filter((x, i) => x === e.expected[i]).length;
      t.diagnostic(`attention ${got.timing}; ${same}/20 identical to wasm/Node`);
      assert.ok(same >= 19, `only ${same}/20 identical on webgl`);
    } finally {
      await gl.close();
    }
  });

  it('attention with --float16 weights on wasm: half the weight bytes, outputs reported', async (t) => {
    const e = made.find((m) => m.run.config.model.type === 'attention');
    assert.ok(e, 'the attention test ran first');
    const site16 = path.join(path.dirname(e.run.root), 'site-f16');
    const out = runMt(['--json', 'export', 'web', '--run', e.run.root, '--out', site16, '--float16']);
    assert.equal(out.code, 0, out.stderr);
    const f32 = fs.statSync(path.join(e.site, 'model.safetensors')).size;
    const f16 = fs.statSync(path.join(site16, 'model.f16.safetensors')).size;
    assert.ok(f16 < 0.6 * f32, `${f16} vs ${f32}`);
    const served = await serveStatic(site16);
    try {
      const page = await browser.newPage();
      const got = await translateInPage(page, served.url, 'wasm');
      const same = got.texts.filter((x, i) => x === e.expected[i]).length;
      t.diagnostic(`float16: weights ${f16} bytes vs ${f32}; ${same}/20 outputs identical to float32`);
      assert.equal(got.texts.length, 20);
      await page.close();
    } finally {
      await served.close();
    }
  });
});
