/**
 * The page of `mt serve` in a real browser: headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core, which downloads no browser) opens the page served by the real `mt serve`,
 * types a sentence, clicks Translate, and the translation shown must be the API's; hovering a
 * target piece must light up its source weights in the heatmap. Skipped, saying why, where
 * /usr/bin/chromium is absent (a failure under MT_TEST_REQUIRE_ALL=1).
 * MT_SERVE_SCREENSHOT=FILE also saves a screenshot of the page (docs/serve/page.png is one),
 * from a model trained longer (MT_SERVE_STEPS, default 3) so that its attention means something.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunDir } from '../src/run/rundir.ts';
import { launchChromium, missingChromium } from './helpers/requirements.ts';
import { call, removeRun, startServeChild, trainedRun, type ServeChild } from './serve-helpers.ts';

const SENTENCE = 'ka lo mi nu pe';

describe('the mt serve page in headless Chromium', { skip: missingChromium() }, () => {
  let run: RunDir;
  let served: ServeChild;
  // puppeteer-core is imported only where Chromium exists.
  let browser: import('puppeteer-core').Browser;

  before(async () => {
    const { initBackend } = await import('../src/backend/index.ts');
    await initBackend('wasm');
    // For the screenshot: a model that has learned its copy task, so that its attention shows it.
    const screenshot = process.env.MT_SERVE_SCREENSHOT !== undefined;
    run = await trainedRun(Number(process.env.MT_SERVE_STEPS ?? 3), undefined, screenshot ? { learning_rate: 1e-2, valid_every: 100 } : {});
    served = await startServeChild(run.root, screenshot ? ['--checkpoint', 'last'] : []);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    if (served) {
      served.child.kill('SIGTERM');
      await served.exited;
    }
    removeRun(run);
  });

  it('translates what is typed as the API does, and hovering a target piece shows its source weights', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.setViewport({ width: 1000, height: 760 });
    await page.goto(`${served.url}/`, { waitUntil: 'load' });
    await page.evaluate('window.MT_READY');
    const model = await page.$eval('#model', (e) => e.textContent ?? '');
    assert.match(model, /attention model, xx → yy/);

    await page.type('#source', SENTENCE);
    await page.click('#translate');
    await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', { timeout: 60_000 });
    assert.equal(await page.$eval('#error', (e) => e.textContent), '');
    const shown = await page.$eval('#translation', (e) => e.textContent);
    const beam = Number(await page.$eval('#beam', (e) => (e as HTMLInputElement).value));
    const nbest = Number(await page.$eval('#nbest-count', (e) => (e as HTMLInputElement).value));
    const api = await call(`${served.url}/v1/translate`, { body: { text: SENTENCE, beam, nbest, attention: true } });
    assert.equal(api.status, 200);
    assert.equal(shown, api.body.text);
    const list = await page.$$eval('#nbest li .hyp', (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(
      list,
      api.body.translations[0].hypotheses.map((h: { text: string }) => h.text),
    );

    // The heatmap: one row per target piece, one cell per source piece; nothing highlighted yet.
    const att = api.body.translations[0].attention;
    assert.equal(await page.$$eval('#heatmap tbody tr', (rows) => rows.length), att.target.length);
    assert.equal(await page.$eval('#heatmap', (t) => (t as HTMLElement).dataset.active), '-1');
    const backgrounds = () => page.$$eval('.src-piece', (spans) => spans.map((s) => (s as HTMLElement).style.background));
    const before = await backgrounds();
    assert.ok(before.every((b) => b === ''));
    assert.equal(before.length, att.source.length);

    await page.hover('.tgt-piece[data-index="0"]');
    assert.equal(await page.$eval('#heatmap', (t) => (t as HTMLElement).dataset.active), '0');
    const first = await backgrounds();
    assert.ok(first.every((b) => b.startsWith('rgb(')), first.join(' '));
    assert.notDeepEqual(first, before);
    assert.equal(await page.$eval('.tgt-piece[data-index="0"]', (s) => s.classList.contains('active')), true);
    assert.equal(await page.$eval('#heatmap tbody tr', (tr) => tr.classList.contains('active')), true);

    // Hovering the last piece (</s>) moves the highlight.
    const last = att.target.length - 1;
    await page.hover(`.tgt-piece[data-index="${last}"]`);
    assert.equal(await page.$eval('#heatmap', (t) => (t as HTMLElement).dataset.active), String(last));
    // The Transformer's heads are not kept by the decoder: the selector holds the average alone.
    assert.deepEqual(await page.$$eval('#head option', (os) => os.map((o) => (o as HTMLOptionElement).value)), ['avg']);

    if (process.env.MT_SERVE_SCREENSHOT) {
      // Greedy: the tiny model's beam search prefers short outputs.
      await page.$eval('#beam', (e) => ((e as HTMLInputElement).value = '1'));
      await page.click('#translate');
      await page.waitForFunction(() => document.body.dataset.state === 'done');
      await page.hover(`.tgt-piece[data-index="${Math.min(2, (await page.$$('.tgt-piece')).length - 1)}"]`);
      fs.mkdirSync(path.dirname(process.env.MT_SERVE_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: process.env.MT_SERVE_SCREENSHOT as `${string}.png`, fullPage: true });
    }
    assert.deepEqual(problems, []);
    await page.close();
  });
});
