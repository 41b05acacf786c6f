import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import {
  attentionSpec,
  findPlotFonts,
  plotAttention,
  plotCurves,
  plotLength,
  readMetrics,
  renderFigure,
} from '../src/report/plots/index.ts';
import { UserError } from '../src/errors.ts';
import { runMt, tempDir } from './helpers/cli.ts';

interface Png {
  width: number;
  height: number;
  /** Grey level (0..255) of every pixel, row by row. */
  grey: Uint8Array;
}

/** A minimal decoder for what resvg writes: 8-bit RGBA, not interlaced. */
function decodePng(bytes: Buffer): Png {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let pos = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  while (pos < bytes.length) {
    const len = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const data = bytes.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([data[8], data[9], data[12]], [8, 6, 0], 'RGBA8, not interlaced');
    }
    if (type === 'IDAT') idat.push(data);
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= 4 ? out[y * stride + x - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= 4 && y > 0 ? out[(y - 1) * stride + x - 4]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, (a + b) >> 1, paeth][filter]!;
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  const grey = new Uint8Array(width * height);
  for (let i = 0; i < grey.length; i++) grey[i] = Math.round((out[i * 4]! + out[i * 4 + 1]! + out[i * 4 + 2]!) / 3);
  return { width, height, grey };
}

function variance(values: Uint8Array): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
}

function svgSize(svg: string): [number, number] {
  const m = /<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/.exec(svg);
  assert.ok(m, 'svg has width and height');
  return [Number(m[1]), Number(m[2])];
}

/** Checks NAME.svg and NAME.png in `dir`; returns the decoded PNG and the SVG text. */
function checkFigure(files: string[], dir: string, name: string): { png: Png; svg: string } {
  assert.deepEqual(files, [path.join(dir, `${name}.svg`), path.join(dir, `${name}.png`)]);
  const svg = fs.readFileSync(files[0]!, 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  const png = decodePng(fs.readFileSync(files[1]!));
  const [w, h] = svgSize(svg);
  assert.equal(png.width, Math.round(w * 2), 'PNG at 2× the SVG size');
  assert.equal(png.height, Math.round(h * 2));
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  return { png, svg };
}

const ATTENTION = {
  index: 0,
  source: ['▁the', '▁man', '▁saw', '▁the', '▁dog', '.', '</s>'],
  target: ['▁남자는', '▁개를', '▁봤다', '.', '</s>'],
  weights: [
    [0.1, 0.8, 0.02, 0.02, 0.02, 0.02, 0.02],
    [0.02, 0.02, 0.02, 0.1, 0.8, 0.02, 0.02],
    [0.02, 0.02, 0.9, 0.02, 0.02, 0.01, 0.01],
    [0.01, 0.01, 0.01, 0.01, 0.01, 0.9, 0.05],
    [0.01, 0.01, 0.01, 0.01, 0.01, 0.05, 0.9],
  ],
};

describe('plots: attention heatmap', () => {
  it('renders source × target pieces as SVG and a non-blank PNG into RUN/plots', async () => {
    const run = tempDir();
    const input = path.join(run, 'attention.jsonl');
    const other = { src_pieces: ['▁a'], tgt_pieces: ['▁가'], weights: [[1]] };
    fs.writeFileSync(input, JSON.stringify(other) + '\n\n' + JSON.stringify(ATTENTION) + '\n');
    const files = await plotAttention(run, input, 1);
    const { png, svg } = checkFigure(files, path.join(run, 'plots'), 'attention-1');
    for (const piece of ['▁남자는', '▁봤다', '▁dog']) assert.ok(svg.includes(piece), `label ${piece} in the SVG`);
    assert.ok(variance(png.grey) > 500, `pixel variance ${variance(png.grey)}`);
    // Weight 0.9 cells are near black, the background white.
    assert.ok(png.grey.some((v) => v < 60) && png.grey.some((v) => v > 250));
  });

  it('draws Hangul with a real font, not one box per character', async () => {
    assert.ok(findPlotFonts().hangul, 'a font with Hangul is installed (Debian: fonts-nanum)');
    const one = (piece: string) => ({ src_pieces: ['▁a'], tgt_pieces: [piece], weights: [[1]] });
    const [a, b] = await Promise.all([renderFigure(attentionSpec(one('▁가나'))), renderFigure(attentionSpec(one('▁다라')))]);
    assert.ok(a.png && b.png, 'PNGs rendered');
    assert.notDeepEqual(Buffer.from(a.png), Buffer.from(b.png), 'different syllables give different pixels');
  });

  it('warns about a missing Hangul font only for figures with Hangul text', async () => {
    const warned = async (piece: string): Promise<number> => {
      const messages: string[] = [];
      await renderFigure(attentionSpec({ src_pieces: ['▁a'], tgt_pieces: [piece], weights: [[1]] }), { warn: (m) => messages.push(m) });
      return messages.length;
    };
    assert.equal(await warned('▁dog'), 0, 'no Hangul, no warning');
    assert.equal(await warned('▁가나'), findPlotFonts().hangul ? 0 : 1, 'Hangul warns exactly when no Hangul font is installed');
  });

  it('bad input is a UserError naming the line', async () => {
    const run = tempDir();
    const input = path.join(run, 'a.jsonl');
    fs.writeFileSync(input, JSON.stringify({ ...ATTENTION, weights: ATTENTION.weights.slice(1) }) + '\n');
    await assert.rejects(plotAttention(run, input, 0), (e: Error) => e instanceof UserError && /a\.jsonl:1: weights must have one row per target piece/.test(e.message));
    await assert.rejects(plotAttention(run, input, 3), /--index 3 is past the last sentence \(1 in the file\)/);
    assert.equal(fs.existsSync(path.join(run, 'plots')), false, 'nothing written');
  });
});

function writeMetrics(run: string, lines: string[]): void {
  fs.mkdirSync(path.join(run, 'logs'), { recursive: true });
  fs.writeFileSync(path.join(run, 'logs', 'metrics.jsonl'), lines.join('\n') + '\n');
}

describe('plots: training curves', () => {
  const train = (step: number) => JSON.stringify({ kind: 'train', step, epoch: 1, loss: 6 / Math.sqrt(step), ppl: Math.exp(6 / Math.sqrt(step)), lr: 1e-3, tok_s: 900 });
  const valid = (step: number, bleu: number | null) => JSON.stringify({ kind: 'valid', step, valid_loss: 5 / Math.sqrt(step), valid_ppl: Math.exp(5 / Math.sqrt(step)), bleu, chrf: bleu === null ? null : bleu + 5, best: true });

  it('plots loss, perplexity and BLEU/chrF from mixed train and validation lines', async () => {
    const run = tempDir();
    writeMetrics(run, [train(10), train(20), valid(20, null), train(30), train(40), valid(40, 30.5), train(50), valid(50, 42)]);
    const points = readMetrics(path.join(run, 'logs', 'metrics.jsonl'));
    assert.equal(points.length, 8);
    assert.deepEqual(points[2], { step: 20, valid_loss: 5 / Math.sqrt(20), valid_ppl: Math.exp(5 / Math.sqrt(20)) });
    const { png, svg } = checkFigure(await plotCurves(run), path.join(run, 'plots'), 'curves');
    for (const title of ['loss', 'perplexity (log scale)', 'BLEU / chrF (valid)']) assert.ok(svg.includes(title), title);
    assert.ok(variance(png.grey) > 100);
  });

  it('training lines alone give loss and perplexity panels only', async () => {
    const run = tempDir();
    writeMetrics(run, [train(10), train(20)]);
    const { svg } = checkFigure(await plotCurves(run), path.join(run, 'plots'), 'curves');
    assert.ok(svg.includes('perplexity'));
    assert.ok(!svg.includes('BLEU'));
  });

  it('a broken line is a UserError naming file and line', () => {
    const run = tempDir();
    writeMetrics(run, [train(10), '{"step": 20, "loss": "x"}']);
    assert.throws(() => readMetrics(path.join(run, 'logs', 'metrics.jsonl')), /metrics\.jsonl:2: "loss" must be a number/);
    writeMetrics(run, [train(10), '{"loss": 1}']);
    assert.throws(() => readMetrics(path.join(run, 'logs', 'metrics.jsonl')), /metrics\.jsonl:2: expected a numeric "step"/);
  });
});

describe('plots: several runs\' validation curves', () => {
  /** A run folder with a metrics log: validation every 100 steps, BLEU rising to `top`; `cpu` false leaves cpu_s out. */
  function fixtureRun(folder: string, top: number, opts: { cpu?: boolean; config?: string } = {}): string {
    const run = path.join(tempDir(), folder);
    const lines: string[] = [];
    for (let step = 50; step <= 400; step += 50) {
      const time = { elapsed_s: step * 9, ...(opts.cpu === false ? {} : { cpu_s: step * 16 }) };
      lines.push(JSON.stringify({ kind: 'train', step, epoch: 1 + Math.floor(step / 200), loss: 5 / Math.sqrt(step), ppl: 30, ...time }));
      if (step % 100 === 0) {
        const bleu = top * (1 - Math.exp(-step / 150));
        lines.push(JSON.stringify({ kind: 'valid', step, epoch: 1 + Math.floor(step / 200), valid_loss: 2, valid_ppl: 7, bleu, chrf: bleu + 20, best: true, ...time }));
      }
    }
    writeMetrics(run, lines);
    if (opts.config) fs.writeFileSync(path.join(run, 'config.yaml'), opts.config);
    return run;
  }

  it('draws BLEU and chrF of every run against CPU-hours, legend = config name or folder', async () => {
    const a = fixtureRun('s2s-run', 12, { config: '# resolved\nname: seq2seq-multi30k\nseed: 1\n' });
    const b = fixtureRun('attention-run', 27);
    const c = fixtureRun('transformer-run', 35);
    const notes: string[] = [];
    const files = await plotCurves(a, { compare: [b, c], note: (m) => notes.push(m) });
    const { png, svg } = checkFigure(files, path.join(a, 'plots'), 'compare-curves-cpu-hours');
    for (const label of ['seq2seq-multi30k', 'attention-run', 'transformer-run', 'CPU-hours', 'BLEU (valid)', 'chrF (valid)']) {
      assert.ok(svg.includes(label), label);
    }
    assert.ok(!svg.includes('s2s-run'), 'the config name, not the folder');
    assert.deepEqual(notes, [], 'every run has cpu_s: no note');
    assert.ok(variance(png.grey) > 100);
  });

  it('--x and names: any axis for several runs; without cpu_s everywhere, wall-clock hours and a note', async () => {
    const a = fixtureRun('one', 20);
    const b = fixtureRun('two', 30, { cpu: false });
    const notes: string[] = [];
    const files = await plotCurves(a, { compare: [b], note: (m) => notes.push(m) });
    assert.deepEqual(files.map((f) => path.basename(f)), ['compare-curves-hours.svg', 'compare-curves-hours.png']);
    assert.ok(fs.readFileSync(files[0]!, 'utf8').includes('hours (wall clock)'));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /^x axis: hours \(wall clock\), not CPU-hours: \S*two\/logs\/metrics\.jsonl:\d+ has no cpu_s/);
    const out = path.join(tempDir(), 'figs', 'by-epoch.svg');
    const byEpoch = await plotCurves(a, { compare: [b], x: 'epoch', names: ['first', 'second'], output: out });
    assert.deepEqual(byEpoch, [out, out.replace(/svg$/, 'png')]);
    const svg = fs.readFileSync(out, 'utf8');
    for (const label of ['first', 'second', '>epoch<']) assert.ok(svg.includes(label), label);
  });

  it('a metrics.jsonl file kept apart from its run stands in for the run directory (legend: the file name)', async () => {
    const run = fixtureRun('kept-run', 30);
    const kept = path.join(tempDir(), 'multi30k-kept.metrics.jsonl');
    fs.copyFileSync(path.join(run, 'logs', 'metrics.jsonl'), kept);
    const other = fixtureRun('other-run', 20);
    const out = path.join(tempDir(), 'three.svg');
    const files = await plotCurves(kept, { compare: [other], output: out });
    assert.deepEqual(files, [out, out.replace(/svg$/, 'png')]);
    const svg = fs.readFileSync(out, 'utf8');
    for (const label of ['multi30k-kept', 'other-run', 'CPU-hours']) assert.ok(svg.includes(label), label);
    assert.ok(!svg.includes('metrics.jsonl'), 'the file name less .metrics.jsonl');
    await assert.rejects(
      plotCurves(kept, { compare: [other] }),
      (e: Error) => e instanceof UserError && /multi30k-kept\.metrics\.jsonl is a metrics file, not a run directory: say where the figure goes with -o\/--output$/.test(e.message),
    );
    await assert.rejects(plotCurves(other, { compare: [kept, kept] }), (e: Error) => e instanceof UserError && /the same run is given twice/.test(e.message));
  });

  it('a run with cpu_s only from a resume on: its earlier validations are left out of a CPU-hours figure, with a note', async () => {
    const resumed = fixtureRun('resumed', 25);
    const file = path.join(resumed, 'logs', 'metrics.jsonl');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const o of lines) if ((o.step as number) <= 200) delete o.cpu_s; // trained before CPU time was recorded
    fs.writeFileSync(file, lines.map((o) => JSON.stringify(o)).join('\n') + '\n');
    const other = fixtureRun('complete', 20);
    const notes: string[] = [];
    const out = path.join(tempDir(), 'resumed.svg');
    await plotCurves(resumed, { compare: [other], output: out, note: (m) => notes.push(m) });
    assert.equal(notes.length, 1, 'cpu-hours still the default: every run has some cpu_s');
    assert.match(notes[0]!, /resumed\/logs\/metrics\.jsonl:3: the first of 2 validation\(s\) without a value for --x cpu-hours, left out of the figure$/);
    assert.ok(fs.readFileSync(out, 'utf8').includes('CPU-hours'));
  });

  it('one run: --x picks the axis of the usual figure (curves-X)', async () => {
    const a = fixtureRun('solo', 20);
    const files = await plotCurves(a, { x: 'cpu-hours' });
    const { svg } = checkFigure(files, path.join(a, 'plots'), 'curves-cpu-hours');
    assert.ok(svg.includes('CPU-hours') && svg.includes('perplexity (log scale)'));
  });

  it('bad input is a UserError naming the file', async () => {
    const good = fixtureRun('good', 20);
    const old = fixtureRun('old', 20, { cpu: false });
    const userError = (re: RegExp) => (e: Error) => e instanceof UserError && re.test(e.message);
    await assert.rejects(plotCurves(good, { compare: [tempDir()] }), userError(/logs\/metrics\.jsonl: no such file \(has the run been trained\?\)$/));
    await assert.rejects(
      plotCurves(good, { compare: [old], x: 'cpu-hours' }),
      userError(/old\/logs\/metrics\.jsonl:3: no "cpu_s" for --x cpu-hours/),
    );
    await assert.rejects(plotCurves(old, { x: 'cpu-hours' }), userError(/old\/logs\/metrics\.jsonl:1: no "cpu_s" for --x cpu-hours/));
    const untrained = path.join(tempDir(), 'untrained');
    writeMetrics(untrained, [JSON.stringify({ kind: 'train', step: 1, loss: 3, cpu_s: 1 })]);
    await assert.rejects(plotCurves(good, { compare: [untrained] }), userError(/untrained\/logs\/metrics\.jsonl: no validation BLEU or chrF to plot/));
    await assert.rejects(plotCurves(good, { compare: [old], names: ['x'] }), userError(/--names: 1 names for 2 runs/));
    await assert.rejects(plotCurves(good, { compare: [good + '/'] }), userError(/the same run is given twice/));
    assert.equal(fs.existsSync(path.join(good, 'plots')), false, 'nothing written');
  });
});

describe('plots: score by length', () => {
  it('draws one line per run, buckets in the given order', async () => {
    const [a, b] = [tempDir(), tempDir()];
    const buckets = ['1-10', '11-20', '21-30', '51+'];
    fs.mkdirSync(path.join(a, 'scores'));
    fs.mkdirSync(path.join(b, 'scores'));
    fs.writeFileSync(path.join(a, 'scores', 'by-length.json'), JSON.stringify(buckets.map((bucket, i) => ({ bucket, score: 90 - i }))));
    fs.writeFileSync(path.join(b, 'scores', 'by-length.json'), JSON.stringify({ buckets: buckets.map((bucket, i) => ({ bucket, score: 80 - 10 * i })) }));
    const files = await plotLength([a, b], { names: ['attention', 'seq2seq'] });
    const { png, svg } = checkFigure(files, path.join(a, 'plots'), 'bleu-by-length');
    for (const label of ['attention', 'seq2seq', '51+', 'source length (words)']) assert.ok(svg.includes(label), label);
    assert.ok(svg.indexOf('>21-30<') < svg.indexOf('>51+<'), 'bucket order kept');
    assert.ok(variance(png.grey) > 100);
  });

  it('a missing scores file is a UserError', async () => {
    await assert.rejects(plotLength([tempDir()]), (e: Error) => e instanceof UserError && /by-length\.json: no such file/.test(e.message));
  });
});

describe('mt plot (CLI)', () => {
  it('mt plot curves writes the figures; bad input exits 2 with one line', () => {
    const run = tempDir();
    writeMetrics(run, [JSON.stringify({ step: 1, loss: 3, ppl: 20 }), JSON.stringify({ step: 2, loss: 2, ppl: 7 })]);
    const ok = runMt(['plot', 'curves', '--run', run]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trim().split('\n'), [path.join(run, 'plots', 'curves.svg'), path.join(run, 'plots', 'curves.png')]);
    const bad = runMt(['plot', 'attention', '--run', run, '--input', path.join(run, 'none.jsonl')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mt: error: \S*none\.jsonl: no such file\n$/);
  });

  it('mt plot curves --compare: the figure, and exit 2 with one line for a log without cpu_s under --x cpu-hours', () => {
    const [a, b] = [path.join(tempDir(), 'alpha'), path.join(tempDir(), 'beta')];
    const valid = (step: number, extra: object) => JSON.stringify({ kind: 'valid', step, bleu: step / 10, chrf: step / 5, elapsed_s: step, ...extra });
    writeMetrics(a, [valid(100, { cpu_s: 150 }), valid(200, { cpu_s: 310 })]);
    writeMetrics(b, [valid(100, {}), valid(200, {})]);
    const out = path.join(tempDir(), 'compare.png');
    const ok = runMt(['plot', 'curves', '--run', a, '--compare', b, '--x', 'step', '-o', out]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(ok.stdout.trim().split('\n'), [out.replace(/png$/, 'svg'), out]);
    const svg = fs.readFileSync(out.replace(/png$/, 'svg'), 'utf8');
    for (const label of ['alpha', 'beta', '>step<']) assert.ok(svg.includes(label), label);
    const bad = runMt(['plot', 'curves', '--run', a, '--compare', b, '--x', 'cpu-hours']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^mt: error: \S*beta\/logs\/metrics\.jsonl:1: no "cpu_s" for --x cpu-hours[^\n]*\n$/);
    const axis = runMt(['plot', 'curves', '--run', a, '--x', 'minutes']);
    assert.equal(axis.code, 2);
    assert.match(axis.stderr, /^mt: error: --x: expected step, epoch, hours, cpu-hours; got 'minutes'\n$/);
  });

  it('without resvg\'s platform package (npm install --omit=optional): the SVG, a one-line warning, exit 0', () => {
    const run = tempDir();
    writeMetrics(run, [JSON.stringify({ step: 1, loss: 3, ppl: 20 }), JSON.stringify({ step: 2, loss: 2, ppl: 7 })]);
    // A module hook that makes @resvg/resvg-js fail to load, as its missing native binary does.
    const hooks = path.join(run, 'no-resvg-hooks.mjs');
    fs.writeFileSync(hooks, "export async function resolve(s, c, next) {\n  if (s === '@resvg/resvg-js') throw new Error(\"Cannot find module '@resvg/resvg-js-linux-x64-gnu'\");\n  return next(s, c);\n}\n");
    const preload = path.join(run, 'no-resvg.mjs');
    fs.writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const r = runMt(['plot', 'curves', '--run', run], { nodeArgs: ['--import', preload] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [path.join(run, 'plots', 'curves.svg')]);
    assert.match(r.stderr, /^warning: PNG figures need @resvg\/resvg-js's platform package, which is not installed \(.*\); only the SVG was written/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(fs.readFileSync(path.join(run, 'plots', 'curves.svg'), 'utf8').startsWith('<svg'));
    assert.ok(!fs.existsSync(path.join(run, 'plots', 'curves.png')));
  });
});
