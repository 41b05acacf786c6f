import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { corpusBleu, corpusChrf } from '../src/metrics/index.ts';
import { RunDir } from '../src/run/rundir.ts';
import { runMtAsync, tempDir } from './helpers/cli.ts';

describe('mt quickstart', () => {
  it('runs the whole pipeline on generated data and leaves scores, translations and plots', async () => {
    const run = path.join(tempDir(), 'qs');
    const r = await runMtAsync([
      '--json', 'quickstart', '--run', run, '--pairs', '400', '--max-words', '12',
      '--set', 'train.max_steps=4', '--set', 'train.valid_every=4', '--set', 'subword.vocab_size=500',
      '--set', 'model.hidden_size=32', '--set', 'model.emb_size=16',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { bleu: number; chrf: number; steps: number; plots: string[] };
    assert.equal(result.steps, 4);
    assert.ok(Number.isFinite(result.bleu) && result.bleu >= 0 && result.bleu <= 100);
    const test = fs.readFileSync(path.join(run, 'data', 'test.src'), 'utf8').split('\n').length;
    assert.equal(fs.readFileSync(path.join(run, 'translations', 'test.hyp'), 'utf8').split('\n').length, test);
    const scores = JSON.parse(fs.readFileSync(path.join(run, 'scores', 'test.json'), 'utf8')) as { systems: { scores: { bleu: { score: number } } }[] };
    assert.equal(scores.systems[0]!.scores.bleu.score, result.bleu);

    // The scores reported are those of the translations written: rescore test.hyp against the
    // prepared test references with mt's metrics library, under the run's own eval settings.
    const lines = (file: string) => fs.readFileSync(path.join(run, file), 'utf8').replace(/\n$/, '').split('\n');
    const hyps = lines('translations/test.hyp');
    const refs = [lines('data/test.tgt')];
    assert.ok(hyps.length > 0);
    assert.equal(hyps.length, refs[0]!.length);
    const { eval: evalCfg } = RunDir.open(run).config;
    const bleu = corpusBleu(hyps, refs, { tokenize: evalCfg.tokenize, lowercase: evalCfg.lowercase }).score;
    const chrf = corpusChrf(hyps, refs, { lowercase: evalCfg.lowercase }).score;
    assert.ok(Math.abs(result.bleu - bleu) < 1e-9, `reported BLEU ${result.bleu} vs rescored ${bleu}`);
    assert.ok(Math.abs(result.chrf - chrf) < 1e-9, `reported chrF ${result.chrf} vs rescored ${chrf}`);
    for (const f of ['curves.png', 'curves.svg', 'bleu-by-length.png']) assert.ok(fs.existsSync(path.join(run, 'plots', f)), f);
    assert.ok(fs.readdirSync(path.join(run, 'plots')).some((f) => /^attention-\d+\.png$/.test(f)));
    const manifest = JSON.parse(fs.readFileSync(path.join(run, 'manifest.json'), 'utf8')) as {
      stages: Record<string, { bleu?: number; chrf?: number; sentences?: number }>;
    };
    assert.deepEqual(Object.keys(manifest.stages).sort(), ['eval', 'prepare', 'train', 'translate', 'vocab']);
    assert.equal(manifest.stages.eval!.bleu, result.bleu);
    assert.equal(manifest.stages.eval!.chrf, result.chrf);
    assert.equal(manifest.stages.translate!.sentences, hyps.length);
  });

  it('takes a seq2seq model (no heatmap: it has no attention), on 2 threads', async () => {
    const run = path.join(tempDir(), 'qs-seq2seq');
    const r = await runMtAsync(
      [
        '--json', 'quickstart', '--run', run, '--pairs', '300', '--max-words', '10',
        '--set', 'train.max_steps=2', '--set', 'train.valid_every=2', '--set', 'subword.vocab_size=400',
        '--set', 'model={type: seq2seq, emb_size: 16, hidden_size: 32, context_every_step: true}',
      ],
      { env: { MT_THREADS: '2' } },
    );
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { steps: number; plots: string[] };
    assert.equal(result.steps, 2);
    assert.match(r.stderr, /data-parallel on 2 threads/);
    assert.ok(fs.existsSync(path.join(run, 'translations', 'test.hyp')));
    assert.ok(!fs.existsSync(path.join(run, 'translations', 'test.attention.jsonl')));
    assert.ok(!result.plots.some((f) => /attention/.test(f)), result.plots.join(', '));
    assert.ok(result.plots.some((f) => f.endsWith('curves.png')));
  });
});
