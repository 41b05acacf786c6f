/**
 * `mt eval --explain`: what each metric measures, how it is computed and when it misleads, with
 * the numbers of the current evaluation woven in when there is one. docs/metrics.md is the long form.
 */
import type { BleuResult } from './bleu.ts';
import type { EvalReport, SystemReport } from './evaluate.ts';
import type { TerResult } from './ter.ts';
import type { MetricId } from './types.ts';

const f2 = (x: number): string => x.toFixed(2);

const BLEU_TEXT = `BLEU — n-gram precision with a length penalty (0–100, higher is better).
  How: both sides are tokenized (13a by default); for n = 1..4 it counts hypothesis n-grams that
  also occur in a reference (each clipped to its most frequent count in any one reference), sums
  the counts over the whole test set, and takes the geometric mean of the four precisions times a
  brevity penalty exp(1 − ref_len/hyp_len) when the output is shorter than the references.
  Misleads when: the tokenization differs (compare only scores with equal signatures); the output
  is correct but worded differently from the single reference (synonyms, word order); the language
  is morphologically rich or agglutinative (Korean, German: a wrong ending loses the whole word);
  it is read per sentence (sparse and noisy) or differences are under ~1 point without a test.`;

const CHRF_TEXT = `chrF — character n-gram F-score (0–100, higher is better); chrF++ adds word 1- and 2-grams.
  How: character n-grams of orders 1..6 (spaces removed) are matched against the reference;
  precision and recall are averaged over the orders and combined with beta = 2, so recall counts
  twice as much as precision. With several references each segment uses its best one.
  Strengths: partial credit for a right stem with a wrong ending, no dependence on a tokenizer,
  better agreement with human judgements than BLEU, usable per sentence.
  Misleads when: character overlap rewards near-misses that change the meaning (negation, names,
  numbers), and recall weighting favours long outputs somewhat.`;

const TER_TEXT = `TER — translation edit rate (0–100+, lower is better).
  How: the fewest word insertions, deletions, substitutions and block shifts (moving a phrase
  costs one edit) that turn the hypothesis into the closest reference, divided by the average
  reference length; lowercased by default. It approximates post-editing effort.
  Misleads when: valid paraphrases count as edits, punctuation tokens count like words, and
  hypotheses much longer than the references can go above 100.`;

const PERPLEXITY_TEXT = `Perplexity — exp(mean negative log-likelihood per target token) under teacher forcing
  (lower is better; 1 would be certainty). It measures how well the model predicts the reference
  given the correct previous words, not the quality of what it generates: decoding (greedy or beam,
  its own previous words) is not involved. It compares models only when they share the target
  subword vocabulary, since it is per subword token. mt eval does not compute it: training reports
  it on the validation set (see docs/metrics.md for the API).`;

/** Each metric's text and the metrics whose numbers follow it. */
const SECTIONS: [string, MetricId[]][] = [
  [BLEU_TEXT, ['bleu']],
  [CHRF_TEXT, ['chrf', 'chrf++']],
  [TER_TEXT, ['ter']],
];

const COMPARING = `Comparing a seq2seq (fixed context vector) and an attention model:
  Use corpus BLEU and chrF (chrF++ for Korean or German targets) on the same detokenized test set
  with the same signature, and a paired test (--paired-bs or --paired-ar, baseline first): a
  difference only counts when p < 0.05. Read the length buckets: a fixed-size context vector has
  to hold the whole source sentence, so seq2seq scores drop faster as sentences get longer
  (Cho et al., 2014), while attention reads the source states at every step (Bahdanau et al.,
  2015); the gap between the two should grow with length. Compare validation perplexity only
  between runs with the same subword model. TER adds an estimate of post-editing effort.`;

function bleuNumbers(b: BleuResult): string {
  const ratio = b.ref_len > 0 ? b.sys_len / b.ref_len : 0;
  const length =
    ratio < 1
      ? `the output is ${f2(100 * (1 - ratio))}% shorter than the references, so the brevity penalty multiplies by ${b.bp.toFixed(3)}`
      : `the output is not shorter than the references (length ratio ${ratio.toFixed(3)}), so there is no brevity penalty`;
  return `BLEU = ${f2(b.score)}: ${b.precisions.map((p) => p.toFixed(1)).join('/')}% of hypothesis 1/2/3/4-grams match; ${length}.`;
}

function terNumbers(t: TerResult): string {
  return `TER = ${f2(t.score)}: ${t.num_edits} edits for ${t.ref_length.toFixed(1)} reference words, about ${f2(t.score / 100)} edits per word.`;
}

function numbersFor(metric: MetricId, system: SystemReport, label: string): string {
  const e = system.scores[metric];
  if (!e) return '';
  const text = metric === 'bleu' ? bleuNumbers(e as BleuResult) : metric === 'ter' ? terNumbers(e as TerResult) : `${e.name} = ${f2(e.score)}.`;
  return `  ${label}: ${text}`;
}

/** How the first metric changes from the shortest to the longest bucket, per system. */
function lengthTrend(report: EvalReport): string {
  const metric = report.metrics[0];
  if (!metric) return '';
  const lines = report.systems.map((s) => {
    const filled = s.length_buckets.filter((b) => b.scores[metric] !== undefined);
    const shortest = filled[0];
    const longest = filled[filled.length - 1];
    if (!shortest || !longest || shortest === longest) return `  ${s.name}: one length bucket only`;
    const name = s.scores[metric]?.name ?? metric;
    return `  ${s.name}: ${name} ${f2(shortest.scores[metric]!)} for ${shortest.label} words → ${f2(longest.scores[metric]!)} for ${longest.label} words`;
  });
  return `By length (${report.length_basis} words):\n${lines.join('\n')}`;
}

function comparison(report: EvalReport): string {
  const [baseline, ...others] = report.systems;
  if (!baseline || others.length === 0) return '';
  const lines = others.flatMap((s) =>
    report.metrics.map((m) => {
      const a = baseline.scores[m];
      const b = s.scores[m];
      if (!a || !b) return '';
      const delta = b.score - a.score;
      const better = delta === 0 ? 'equal' : (delta > 0) === (m !== 'ter') ? 'better' : 'worse';
      const p = b.p_value !== undefined ? `, p = ${b.p_value.toFixed(4)}${b.p_value < 0.05 ? ' (significant)' : ' (not significant)'}` : ' (no paired test run)';
      return `  ${s.name} vs ${baseline.name}: ${b.name} ${delta >= 0 ? '+' : ''}${f2(delta)} (${better})${p}`;
    }),
  );
  return `Against the baseline:\n${lines.filter(Boolean).join('\n')}`;
}

/** The explanation, with the report's numbers when one is given. */
export function explainMetrics(report?: EvalReport): string {
  const first = report?.systems[0];
  // With several systems the numbers are the baseline's; the comparison follows at the end.
  const label = first && report && report.systems.length > 1 ? `Here (${first.name})` : 'Here';
  const sections = SECTIONS.map(([text, metrics]) =>
    [text, ...(first ? metrics.map((m) => numbersFor(m, first, label)).filter(Boolean) : [])].join('\n'),
  );
  sections.push(PERPLEXITY_TEXT, COMPARING);
  if (report) {
    const extra = [comparison(report), lengthTrend(report)].filter(Boolean);
    if (extra.length) sections.push(`This evaluation (${report.segments} segments, ${report.references.length} reference(s)):\n${extra.join('\n')}`);
  }
  return sections.join('\n\n');
}
