/**
 * The metrics library beyond the sacreBLEU vectors: API entry points, Python-semantics details,
 * TER shifts, resampling and significance, length buckets, warnings and perplexity.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../src/errors.ts';
import { evaluate, type EvalOptions } from '../src/metrics/evaluate.ts';
import { explainMetrics } from '../src/metrics/explain.ts';
import { formatEvalReport } from '../src/metrics/format.ts';
import {
  corpusBleu,
  corpusChrf,
  corpusTer,
  createScorer,
  perplexityFromNll,
  score,
  sentenceBleu,
  sentenceChrf,
  sentenceTer,
  sumRows,
} from '../src/metrics/index.ts';
import { bootstrapInterval, estimateInterval, pairedBootstrap, pairedRandomization } from '../src/metrics/significance.ts';
import { pySplit } from '../src/metrics/text.ts';
import { bleuTokenizer, tercomTokenize } from '../src/metrics/tokenizers.ts';
import { Xoshiro128 } from '../src/util/random.ts';
import { missingShared, sharedLines } from './helpers/requirements.ts';

/** Real text to score: the first 300 lines of Multi30k test2016 (suites that use it skip without it). */
const NO_MULTI30K = missingShared('data/multi30k/test2016.en', 'data/multi30k/test2016.de');
const REFS = NO_MULTI30K ? [] : sharedLines('data/multi30k/test2016.en', 300);
const SOURCES = NO_MULTI30K ? [] : sharedLines('data/multi30k/test2016.de', 300);

/** A system that drops or replaces each word with probability `rate` (deterministic). */
function degrade(lines: string[], rate: number, seed: number): string[] {
  const rng = new Xoshiro128(seed);
  return lines.map((l) =>
    l
      .split(' ')
      .filter(() => rng.uint32() / 2 ** 32 >= rate)
      .map((w) => (rng.uint32() / 2 ** 32 < rate ? 'thing' : w))
      .join(' '),
  );
}

const OPTIONS: EvalOptions = {
  metrics: ['bleu', 'chrf', 'ter'],
  tokenize: '13a',
  lowercase: false,
  confidence: false,
  paired: null,
  bootstrapSamples: 1000,
  randomizationTrials: 2000,
  seed: 12345,
  lengthBuckets: [10, 20],
};

describe('metrics API', { skip: NO_MULTI30K }, () => {
  it('an exact match scores BLEU 100, chrF 100, TER 0 at corpus and sentence level', () => {
    const refs = [REFS.slice(0, 20)];
    assert.equal(corpusBleu(REFS.slice(0, 20), refs).score, 100.00000000000004);
    assert.equal(corpusChrf(REFS.slice(0, 20), refs).score, 100);
    assert.equal(corpusTer(REFS.slice(0, 20), refs).score, 0);
    assert.equal(sentenceBleu('The cat sat.', ['The cat sat.']).score, 100.00000000000004);
    assert.equal(sentenceChrf('The cat sat.', ['The cat sat.']).name, 'chrF2');
    assert.equal(sentenceTer('the cat sat', ['The cat sat']).score, 0, 'TER lowercases by default');
  });

  it('sentence BLEU uses effective order by default; corpus BLEU does not', () => {
    const s = sentenceBleu('Yes.', ['Yes.']);
    assert.equal(s.score, 100.00000000000004);
    assert.match(s.signature, /\|eff:yes\|/);
    assert.equal(corpusBleu(['Yes.'], [['Yes.']]).score, 0, 'no 3-grams: geometric mean of a zero precision');
  });

  it('score() dispatches by metric name and chrf++ adds word n-grams', () => {
    const hyps = degrade(REFS.slice(0, 50), 0.2, 1);
    const plus = score('chrf++', hyps, [REFS.slice(0, 50)]);
    assert.equal(plus.name, 'chrF2++');
    assert.equal(plus.score, corpusChrf(hyps, [REFS.slice(0, 50)], { wordOrder: 2 }).score);
    assert.notEqual(plus.score, score('chrf', hyps, [REFS.slice(0, 50)]).score);
    assert.throws(() => score('bleu', ['a'], [['a', 'b']]), /1 hypotheses but 2 references/);
  });

  it('a smoothing value shows in the signature as sacreBLEU writes it', () => {
    assert.match(corpusBleu(['a b'], [['a b c']], { smoothMethod: 'floor' }).signature, /\|smooth:floor\[0\.10\]\|version:2\.6\.0$/);
    assert.match(corpusBleu(['a b'], [['a b c']], { smoothMethod: 'add-k', smoothValue: 2 }).signature_short, /\|s:add-k\[2\.00\]\|/);
  });
});

describe('Python string semantics', () => {
  it('str.split() whitespace: U+0085 and U+001F split, U+FEFF and U+200B do not', () => {
    assert.deepEqual(pySplit('a\u0085b\u001fc'), ['a', 'b', 'c']);
    assert.deepEqual(pySplit(' a\ufeffb\u200bc '), ['a\ufeffb\u200bc']);
    assert.deepEqual(pySplit(' \t '), []);
  });

  it('zh splits U+2001–U+2A6D (sacreBLEU\'s mistyped range) but not CJK Extension B', () => {
    const zh = bleuTokenizer('zh');
    assert.equal(zh('他说—好'), '他 说 — 好');
    assert.equal(zh('a\u2000b'), 'a b', 'U+2000 is whitespace, not a zh character');
    assert.equal(zh('x𠀀y'), 'x𠀀y', 'U+20000 stays inside the word');
  });

  it('13a splits punctuation except inside numbers; intl splits Unicode punctuation and symbols', () => {
    assert.equal(bleuTokenizer('13a')('It costs $1,000.50, right?'), 'It costs $ 1,000.50 , right ?');
    assert.equal(bleuTokenizer('13a')('&quot;Hi&quot; &amp; bye'), '" Hi " & bye');
    assert.equal(bleuTokenizer('intl')('«Ça va?» 5€'), '« Ça va ? » 5 €');
    assert.equal(bleuTokenizer('char')('한국 어'), '한 국   어');
  });

  it('the tercom tokenizer lowercases, normalizes and removes punctuation as asked', () => {
    const opts = { normalized: true, noPunct: false, asianSupport: false, caseSensitive: false };
    assert.equal(tercomTokenize("John's car, e.g. 3.5", opts), "john 's car , e . g . 3.5");
    assert.equal(tercomTokenize('Hello, World!', { ...opts, normalized: false, noPunct: true }), 'hello world');
  });
});

describe('TER', () => {
  it('a moved phrase costs one shift', () => {
    const r = corpusTer(['c d e a b'], [['a b c d e']]);
    assert.equal(r.num_edits, 1);
    assert.equal(r.ref_length, 5);
    assert.equal(r.score, 20);
  });

  it('with several references the fewest edits count, over the average reference length', () => {
    const r = corpusTer(['a b c'], [['a b c'], ['x y z w v']]);
    assert.equal(r.num_edits, 0);
    assert.equal(r.ref_length, 4);
  });

  it('an empty reference makes every hypothesis word an edit (TER 100)', () => {
    const r = corpusTer(['a b'], [['']]);
    assert.equal(r.num_edits, 2);
    assert.equal(r.score, 100);
  });
});

describe('resampling and significance', { skip: NO_MULTI30K }, () => {
  const refs = [REFS];
  const baseline = degrade(REFS, 0.3, 1);
  const better = degrade(REFS, 0.1, 2);
  const scorer = createScorer('bleu', refs);
  const baseStats = scorer.segmentStats(baseline);
  const betterStats = scorer.segmentStats(better);

  it('the generator is seeded: same seed, same numbers; integers stay in range', () => {
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    const xs = Array.from({ length: 1000 }, () => a.int(10));
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.int(10)));
    assert.ok(xs.every((x) => x >= 0 && x < 10));
    assert.equal(new Set(xs).size, 10);
    assert.notDeepEqual(xs.slice(0, 20), Array.from({ length: 20 }, () => new Xoshiro128(8).int(10)));
  });

  it('the 95% interval takes the 25th and 975th of 1000 sorted scores, as sacreBLEU', () => {
    const scores = Float64Array.from({ length: 1000 }, (_, i) => 999 - i);
    assert.deepEqual(estimateInterval(scores), { mean: 499.5, ci: 0.5 * (974 - 25) });
  });

  it('bootstrap intervals repeat exactly for a seed and contain the corpus score', () => {
    const a = bootstrapInterval(scorer, baseStats, 1000, 12345);
    assert.deepEqual(bootstrapInterval(scorer, baseStats, 1000, 12345), a);
    assert.notDeepEqual(bootstrapInterval(scorer, baseStats, 1000, 1), a);
    const actual = scorer.score(sumRows(baseStats, scorer.statsSize));
    assert.ok(Math.abs(a.mean - actual) < a.ci, `${a.mean} ± ${a.ci} vs ${actual}`);
    assert.ok(a.ci > 0.5 && a.ci < 10);
  });

  for (const [name, test] of [
    ['paired bootstrap', (s: Float64Array) => pairedBootstrap(scorer, baseStats, s, 1000, 12345)],
    ['approximate randomization', (s: Float64Array) => pairedRandomization(scorer, baseStats, s, 2000, 12345)],
  ] as const) {
    it(`${name}: a clearly better system gets p < 0.05, an identical one does not, reruns agree`, () => {
      const better1 = test(betterStats);
      assert.ok(better1.pValue < 0.05, `p = ${better1.pValue}`);
      assert.deepEqual(test(betterStats), better1);
      const same = test(Float64Array.from(baseStats));
      assert.ok(same.pValue >= 0.05, `p = ${same.pValue}`);
      assert.equal(same.pValue, 1);
    });
  }
});

describe('evaluate', { skip: NO_MULTI30K }, () => {
  const inputs = {
    systems: [
      { name: 'base.txt', lines: degrade(REFS, 0.3, 1) },
      { name: 'better.txt', lines: degrade(REFS, 0.1, 2) },
    ],
    references: [{ name: 'ref.txt', lines: REFS }],
    source: { name: 'src.txt', lines: SOURCES },
  };

  it('scores every system, with intervals, p-values and length buckets', () => {
    const report = evaluate(inputs, { ...OPTIONS, confidence: true, paired: 'bs' });
    const [base, better] = report.systems;
    assert.equal(base!.scores.bleu!.score, corpusBleu(inputs.systems[0]!.lines, [REFS]).score);
    assert.ok(better!.scores.bleu!.score > base!.scores.bleu!.score);
    assert.ok(better!.scores.bleu!.p_value! < 0.05);
    assert.equal(base!.scores.bleu!.p_value, undefined, 'the baseline has no p-value');
    assert.ok(base!.scores.ter!.ci! > 0);
    assert.match(base!.scores.chrf!.signature, /^nrefs:1\|bs:1000\|seed:12345\|case:mixed\|/);
    assert.deepEqual(report.significance, { test: 'bs', samples: 1000, seed: 12345, baseline: 'base.txt' });

    const buckets = base!.length_buckets;
    assert.deepEqual(buckets.map((b) => b.label), ['≤10', '11-20', '>20']);
    const lengths = SOURCES.map((s) => pySplit(s).length);
    assert.deepEqual(
      buckets.map((b) => b.segments),
      [lengths.filter((l) => l <= 10).length, lengths.filter((l) => l > 10 && l <= 20).length, lengths.filter((l) => l > 20).length],
    );
    const shortRows = lengths.flatMap((l, i) => (l <= 10 ? [i] : []));
    assert.equal(
      buckets[0]!.scores.bleu,
      corpusBleu(shortRows.map((i) => inputs.systems[0]!.lines[i]!), [shortRows.map((i) => REFS[i]!)]).score,
    );

    const text = formatEvalReport(report);
    assert.match(text, /system\s+BLEU \(μ ± 95% CI\)/);
    assert.match(text, /\(p = 0\.00\d+\)/);
    assert.match(text, /scores by source length in words \(src\.txt\)/);
    assert.match(explainMetrics(report), /better\.txt vs base\.txt: BLEU \+\d+\.\d\d \(better\), p = 0\.\d+ \(significant\)/);
  });

  it('refuses files that are not line-aligned, naming both files and counts', () => {
    const short = { name: 'short.txt', lines: REFS.slice(0, 299) };
    assert.throws(
      () => evaluate({ ...inputs, systems: [short] }, OPTIONS),
      (e: unknown) => e instanceof UserError && e.message === 'short.txt has 299 lines but ref.txt has 300; the files must be line-aligned',
    );
    assert.throws(() => evaluate({ ...inputs, systems: [short, short] }, { ...OPTIONS, paired: 'ar' }), UserError);
    assert.throws(() => evaluate({ ...inputs, systems: inputs.systems.slice(0, 1) }, { ...OPTIONS, paired: 'ar' }), /two or more hypothesis files/);
  });

  it('warns about tokenized hypotheses and subword markers, not about clean ones', () => {
    const tokenized = REFS.map((l) => l.replace(/([.,!?])/g, ' $1'));
    const subword = REFS.map((l, i) => (i % 10 === 0 ? l.replace(/ /g, ' \u2581') : l));
    const report = evaluate(
      { references: inputs.references, systems: [{ name: 'tok.txt', lines: tokenized }, { name: 'bpe.txt', lines: subword }, { name: 'ok.txt', lines: REFS }] },
      { ...OPTIONS, metrics: ['bleu'] },
    );
    assert.equal(report.warnings.length, 2, report.warnings.join('\n'));
    assert.match(report.warnings[0]!, /^tok\.txt: \d+% of lines look tokenized/);
    assert.match(report.warnings[1]!, /^bpe\.txt: 30 of 300 lines hold subword markers/);
  });
});

describe('perplexity', () => {
  it('is exp of the mean NLL per token and refuses empty input', () => {
    assert.ok(Math.abs(perplexityFromNll(10 * Math.log(4), 10) - 4) < 1e-12);
    assert.equal(perplexityFromNll(0, 5), 1);
    assert.throws(() => perplexityFromNll(1, 0), /at least one target token/);
    assert.throws(() => perplexityFromNll(Number.NaN, 3), /finite/);
  });
});
