/**
 * How fast mt scores 10,000 segments against 2 references (BLEU, chrF, chrF++, TER), with
 * bootstrap intervals and paired tests, and — when `sacrebleu` is on PATH — how long
 * sacreBLEU's command line takes on the same files (and whether the scores agree).
 *
 *   node --import tsx bench/eval-speed.ts
 *
 * Data: the first 10,000 English lines of shared/data/tatoeba-test-eng-deu as reference 1; a
 * lightly perturbed copy as reference 2; hypotheses perturbed more (dropped, replaced and moved words).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLines } from '../src/data/lines.ts';
import { createScorer, sumRows, type MetricId } from '../src/metrics/index.ts';
import { bootstrapInterval, pairedBootstrap, pairedRandomization } from '../src/metrics/significance.ts';
import { Xoshiro128 } from '../src/util/random.ts';

const SEGMENTS = 10_000;
const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared');
const source = (await readLines(path.join(SHARED, 'data', 'tatoeba-test-eng-deu', 'test.en'))).slice(0, SEGMENTS);

/** Drop, replace and swap words with the given rates; block-move a phrase in some lines. */
function perturb(lines: string[], rate: number, seed: number): string[] {
  const rng = new Xoshiro128(seed);
  const chance = (p: number): boolean => rng.uint32() / 0x100000000 < p;
  return lines.map((line, n) => {
    const words = line.split(' ').flatMap((w) => (chance(rate) ? [] : chance(rate) ? [lines[rng.int(lines.length)]!.split(' ')[0]!] : [w]));
    if (words.length > 3 && chance(3 * rate)) {
      const at = rng.int(words.length - 1);
      const phrase = words.splice(at, 1 + rng.int(2));
      words.splice(rng.int(words.length + 1), 0, ...phrase);
    }
    return words.join(' ') || source[n]!;
  });
}

const refs = [source, perturb(source, 0.05, 1)];
const hyps = perturb(source, 0.12, 2);
const better = perturb(source, 0.08, 3);

function timed<T>(what: string, fn: () => T): { value: T; seconds: number } {
  const t0 = process.hrtime.bigint();
  const value = fn();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`${what.padEnd(52)} ${seconds.toFixed(2).padStart(6)} s  ${Math.round(SEGMENTS / seconds).toLocaleString('en').padStart(9)} segments/s`);
  return { value, seconds };
}

console.log(`mt eval speed: ${SEGMENTS} segments, 2 references (node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'})\n`);
const ours: Partial<Record<MetricId, number>> = {};
let total = 0;
for (const metric of ['bleu', 'chrf', 'chrf++', 'ter'] as const) {
  const { value, seconds } = timed(`${metric}: corpus score`, () => {
    const scorer = createScorer(metric, refs);
    const stats = scorer.segmentStats(hyps);
    return { scorer, stats, score: scorer.score(sumRows(stats, scorer.statsSize)) };
  });
  ours[metric] = value.score;
  total += seconds;
  if (metric === 'bleu' || metric === 'chrf') {
    const betterStats = value.scorer.segmentStats(better);
    timed(`${metric}: bootstrap CI, 1000 resamples`, () => bootstrapInterval(value.scorer, value.stats, 1000, 12345));
    timed(`${metric}: paired bootstrap, 1000 resamples`, () => pairedBootstrap(value.scorer, value.stats, betterStats, 1000, 12345));
    timed(`${metric}: paired approximate randomization, 10000 trials`, () => pairedRandomization(value.scorer, value.stats, betterStats, 10000, 12345));
  }
}
console.log(`\nall four metrics: ${total.toFixed(2)} s (${Math.round(SEGMENTS / total).toLocaleString('en')} segments/s)`);
console.log(`scores: ${Object.entries(ours).map(([m, s]) => `${m} ${s!.toFixed(4)}`).join(', ')}`);

const which = spawnSync('sh', ['-c', 'command -v sacrebleu'], { encoding: 'utf8' });
if (which.status !== 0) {
  console.log('\nsacreBLEU comparison skipped: `sacrebleu` is not on PATH (pip install sacrebleu to compare).');
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-eval-bench-'));
  const file = (name: string, lines: string[]): string => {
    fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n');
    return path.join(dir, name);
  };
  const args = [file('ref1.txt', refs[0]!), file('ref2.txt', refs[1]!), '-i', file('hyp.txt', hyps), '-b', '-w', '4'];
  const runs: [string, string[]][] = [
    ['bleu, chrf, ter', ['-m', 'bleu', 'chrf', 'ter']],
    ['chrf++', ['-m', 'chrf', '--chrf-word-order', '2']],
  ];
  console.log(`\nsacreBLEU (${which.stdout.trim()}):`);
  let sacreTotal = 0;
  for (const [what, extra] of runs) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('sacrebleu', [...args, ...extra], { encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    sacreTotal += seconds;
    const scores = r.stdout.replace(/[[\]\s]+/g, ' ').trim().split(/[ ,]+/).join(', ');
    console.log(`  ${what.padEnd(16)} ${seconds.toFixed(2).padStart(6)} s  scores ${scores}${r.status === 0 ? '' : `  (exit ${r.status}: ${r.stderr.trim()})`}`);
  }
  console.log(`  total ${sacreTotal.toFixed(2)} s vs mt ${total.toFixed(2)} s (${(sacreTotal / total).toFixed(1)}× ${sacreTotal > total ? 'slower' : 'faster'} than mt)`);
  fs.rmSync(dir, { recursive: true, force: true });
}
