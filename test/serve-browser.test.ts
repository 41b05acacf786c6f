/**
 * The page of `mt serve` in a real browser: headless Chromium (Debian's `chromium`, driven by
 * puppeteer-core, which downloads no browser) opens the page served by the real `mt serve`,
 * types a sentence, clicks Translate, and the translation shown must be the API's; hovering a
 * target piece must light up its source weights in the heatmap. On a Transformer run the page
 * has layer and head selectors (the attention model has none), and choosing one head shows that
 * head's weights (the API's attention_heads) instead of the average. Skipped, saying why, where
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
import { TINY_MODELS } from './train-fixture.ts';

const SENTENCE = 'ka lo mi nu pe';
const LAYERS = 2;
const HEADS = 2;

type Page = import('puppeteer-core').Page;

/** Type SENTENCE, click Translate, wait for the answer; the API's answer to the same request. */
async function translateOnPage(page: Page, url: string) {
  await page.type('#source', SENTENCE);
  await page.click('#translate');
  await page.waitForFunction(() => document.body.dataset.state === 'done' || document.body.dataset.state === 'error', { timeout: 60_000 });
  assert.equal(await page.$eval('#error', (e) => e.textContent), '');
  const beam = Number(await page.$eval('#beam', (e) => (e as HTMLInputElement).value));
  const nbest = Number(await page.$eval('#nbest-count', (e) => (e as HTMLInputElement).value));
  const api = await call(`${url}/v1/translate`, { body: { text: SENTENCE, beam, nbest: Math.min(nbest, beam), attention: true } });
  assert.equal(api.status, 200);
  return api.body;
}

/** Open the page, collecting console errors, failed requests and page errors in `problems`. */
async function openPage(browser: import('puppeteer-core').Browser, url: string, problems: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  await page.setViewport({ width: 1000, height: 760 });
  await page.goto(`${url}/`, { waitUntil: 'load' });
  await page.evaluate('window.MT_READY');
  return page;
}

/** Each heatmap cell's title ("piece → piece: weight"), row by row. */
const cellTitles = (page: Page) => page.$$eval('#heatmap tbody tr', (rows) => rows.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.title)));

describe('the mt serve page in headless Chromium', { skip: missingChromium() }, () => {
  let run: RunDir;
  let served: ServeChild;
  // puppeteer-core is imported only where Chromium exists.
  let browser: import('puppeteer-core').Browser;

  let transformerRun: RunDir;
  let transformer: ServeChild;

  before(async () => {
    const { initBackend } = await import('../src/backend/index.ts');
    await initBackend('wasm');
    // For the screenshot: a model that has learned its copy task, so that its attention shows it.
    const screenshot = process.env.MT_SERVE_SCREENSHOT !== undefined;
    run = await trainedRun(Number(process.env.MT_SERVE_STEPS ?? 3), undefined, screenshot ? { learning_rate: 1e-2, valid_every: 100 } : {});
    served = await startServeChild(run.root, screenshot ? ['--checkpoint', 'last'] : []);
    transformerRun = await trainedRun(3, undefined, {}, { ...TINY_MODELS.transformer, decoder_layers: LAYERS, heads: HEADS });
    transformer = await startServeChild(transformerRun.root);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    for (const child of [served, transformer]) {
      if (!child) continue;
      child.child.kill('SIGTERM');
      await child.exited;
    }
    removeRun(run);
    removeRun(transformerRun);
  });

  it('translates what is typed as the API does, and hovering a target piece shows its source weights', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, served.url, problems);
    const model = await page.$eval('#model', (e) => e.textContent ?? '');
    assert.match(model, /attention model, xx → yy/);

    const api = await translateOnPage(page, served.url);
    const shown = await page.$eval('#translation', (e) => e.textContent);
    assert.equal(shown, api.text);
    const list = await page.$$eval('#nbest li .hyp', (lis) => lis.map((li) => li.textContent));
    assert.deepEqual(
      list,
      api.translations[0]!.hypotheses.map((h) => h.text),
    );

    // The heatmap: one row per target piece, one cell per source piece; nothing highlighted yet.
    const att = api.translations[0]!.attention!;
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
    // The attention model has one attention: no layer or head selectors.
    assert.equal(await page.$eval('#head-controls', (e) => (e as HTMLElement).hidden), true);
    assert.equal(await page.$eval('#head-controls', (e) => getComputedStyle(e).display), 'none');

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

  it('on a Transformer: layer and head selectors, the average of the last layer by default, one head on choosing it', async () => {
    const problems: string[] = [];
    const page = await openPage(browser, transformer.url, problems);
    assert.match(await page.$eval('#model', (e) => e.textContent ?? ''), /transformer model/);
    const api = await translateOnPage(page, transformer.url);
    assert.equal(await page.$eval('#translation', (e) => e.textContent), api.text);
    const t = api.translations[0]!;
    const att = t.attention!;
    const heads = t.attention_heads!;
    assert.equal(heads.length, LAYERS);

    // The selectors: shown, every layer, the average and every head; the last layer's average chosen.
    assert.equal(await page.$eval('#head-controls', (e) => getComputedStyle(e).display === 'none'), false);
    const values = (id: string) => page.$$eval(`#${id} option`, (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(await values('layer'), ['0', '1']);
    assert.deepEqual(await values('head'), ['avg', '0', '1']);
    assert.equal(await page.$eval('#layer', (e) => (e as HTMLSelectElement).value), String(LAYERS - 1));
    assert.equal(await page.$eval('#head', (e) => (e as HTMLSelectElement).value), 'avg');

    // The weight in a cell's title, to 3 decimals.
    const shownWeights = async () => (await cellTitles(page)).map((row) => row.map((title) => title.split(': ').at(-1)));
    const expected = (w: number[][]) => w.map((row) => row.map((v) => v.toFixed(3)));
    const average = await shownWeights();
    assert.deepEqual(average, expected(att.weights), 'by default: attention.weights, the average of the last layer');

    await page.hover('.tgt-piece[data-index="0"]');
    const pieceWeights = () => page.$$eval('.src-piece', (spans) => spans.map((s) => (s as HTMLElement).title));
    const hoveredAverage = await pieceWeights();
    assert.deepEqual(hoveredAverage, att.weights[0]!.map((v) => `weight ${v.toFixed(3)}`));

    // One head of the first layer: its own weights, in the heatmap and on the hovered piece.
    await page.select('#layer', '0');
    await page.select('#head', '1');
    const oneHead = await shownWeights();
    assert.deepEqual(oneHead, expected(heads[0]![1]!));
    assert.notDeepEqual(oneHead, average, 'choosing a head changes the heatmap');
    assert.equal(await page.$eval('#heatmap', (e) => (e as HTMLElement).dataset.active), '0', 'the hovered piece stays hovered');
    assert.deepEqual(await pieceWeights(), heads[0]![1]![0]!.map((v) => `weight ${v.toFixed(3)}`), "the hovered piece's source weights follow the head");

    // The average of the first layer's heads, computed by the page.
    await page.select('#head', 'avg');
    const firstLayer = heads[0]!;
    const mean = firstLayer[0]!.map((row, i) => row.map((_, j) => firstLayer.reduce((a, h) => a + h[i]![j]!, 0) / firstLayer.length));
    assert.deepEqual(await shownWeights(), expected(mean));

    assert.deepEqual(problems, []);
    await page.close();
  });
});
