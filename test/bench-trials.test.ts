/**
 * bench/trials.ts, the measuring method of the speed benches: medians of odd and even counts,
 * summaries, per-trial ratio ranges, the idle threshold and its one-line warning, and the
 * interleaving order. No timing: every figure here is made up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compare, formatComparison, formatSummary, idleThreshold, idleWarning, interleave, median, secondsFlag, summarize, wholeNumber } from '../bench/trials.ts';

describe('bench trials: statistics', () => {
  it('median of an odd count is the middle value, whatever the order', () => {
    assert.equal(median([5]), 5);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([9, 1, 7, 3, 5]), 5);
  });

  it('median of an even count is the mean of the two middle values', () => {
    assert.equal(median([1, 2]), 1.5);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([10, 10, 0, 0]), 5);
  });

  it('median leaves its input alone and refuses no values', () => {
    const xs = [3, 1, 2];
    median(xs);
    assert.deepEqual(xs, [3, 1, 2]);
    assert.throws(() => median([]), /no values/);
  });

  it('summarize gives median, min, max and the count', () => {
    assert.deepEqual(summarize([530, 560, 549, 540, 555]), { median: 549, min: 530, max: 560, n: 5 });
    assert.equal(formatSummary(summarize([530, 560, 549])), '549 (530–560)');
    assert.equal(formatSummary(summarize([1.25, 1.5]), 2), '1.38 (1.25–1.50)');
  });

  it('compare: ratio of medians and the range of trial i over trial i', () => {
    const c = compare([500, 600, 550], [1000, 1000, 1250]);
    assert.deepEqual(c.trialRatios, [0.5, 0.6, 0.44]);
    assert.equal(c.min, 0.44);
    assert.equal(c.max, 0.6);
    assert.equal(c.ratioOfMedians, 550 / 1000);
    assert.equal(formatComparison(c), '0.55 (trials 0.44–0.60)');
  });

  it('compare pairs trials by index, not by rank: the per-trial range is not the ratio of the extremes', () => {
    // a is fast where b is fast: per-trial ratios are all 0.5, while min(a)/max(b) would be 0.25.
    const c = compare([100, 200, 400], [200, 400, 800]);
    assert.equal(c.min, 0.5);
    assert.equal(c.max, 0.5);
  });

  it('compare refuses sides with different trial counts, or none', () => {
    assert.throws(() => compare([1, 2], [1]), /same number/);
    assert.throws(() => compare([], []), /same number/);
  });
});

describe('bench trials: idle check', () => {
  const reading = (load1: number, ownThreads = 0) => ({ load: [load1, 0, 0], ownThreads });

  it('idle threshold is half the cores plus 0.5, plus the bench’s own threads', () => {
    assert.equal(idleThreshold(2), 1.5);
    assert.equal(idleThreshold(16), 8.5);
    assert.equal(idleThreshold(2, 2), 3.5);
  });

  it('no warning at or below the threshold, before and after', () => {
    assert.equal(idleWarning(reading(0.1), reading(2.9, 2), 2), undefined);
    assert.equal(idleWarning(reading(1.5), reading(3.5, 2), 2), undefined);
  });

  it('one line when the load before exceeds the threshold', () => {
    const w = idleWarning(reading(1.6), reading(2, 2), 2);
    assert.ok(w);
    assert.ok(!w.includes('\n'));
    assert.match(w, /not idle/);
    assert.match(w, /1\.60 before > 1\.50/);
    assert.doesNotMatch(w, /after/);
  });

  it('the load after counts the bench’s own threads', () => {
    const w = idleWarning(reading(0.2), reading(15.5, 2), 2);
    assert.ok(w);
    assert.match(w, /15\.50 after > 3\.50 \(incl\. the bench's own 2 thread\(s\)\)/);
    assert.doesNotMatch(w, /before >/);
  });

  it('both readings over: both named in the one line', () => {
    const w = idleWarning(reading(15), reading(16, 2), 2);
    assert.ok(w);
    assert.ok(!w.includes('\n'));
    assert.match(w, /15\.00 before.*16\.00 after/);
  });
});

describe('bench trials: interleaving and flags', () => {
  it('runs the sides in turn, trial after trial, and keeps each side’s results in order', async () => {
    const order: string[] = [];
    const side = (name: string) => ({ name, run: (trial: number) => (order.push(`${name}${trial}`), `${name}:${trial}`) });
    const out = await interleave(3, [side('mt'), side('torch')]);
    assert.deepEqual(order, ['mt0', 'torch0', 'mt1', 'torch1', 'mt2', 'torch2']);
    assert.deepEqual(out.get('mt'), ['mt:0', 'mt:1', 'mt:2']);
    assert.deepEqual(out.get('torch'), ['torch:0', 'torch:1', 'torch:2']);
  });

  it('flags: whole numbers and seconds, with the flag named in the error', () => {
    assert.equal(wholeNumber('--trials', '5', 1), 5);
    assert.throws(() => wholeNumber('--trials', '0', 1), /--trials/);
    assert.throws(() => wholeNumber('--trials', '2.5', 1), /--trials/);
    assert.throws(() => wholeNumber('--trials', '', 1), /--trials/);
    assert.equal(secondsFlag('--min-seconds', '0'), 0);
    assert.equal(secondsFlag('--min-seconds', '2.5'), 2.5);
    assert.throws(() => secondsFlag('--min-seconds', '-1'), /--min-seconds/);
  });
});
