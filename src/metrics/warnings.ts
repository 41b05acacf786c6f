/**
 * Checks for the classic causes of a wrong BLEU: hypotheses that are still tokenized (sacreBLEU
 * tokenizes by itself, so pre-tokenized output is tokenized twice and scores differ from
 * everyone else's) or that still hold subword markers (SentencePiece `▁`, subword-nmt `@@ `).
 */

/** Punctuation split off as its own token, and split English contractions: "word ," "end ." "do n't". */
const TOKENIZED = /\S [,.!?;:)\]](?: |$)|(?:^| )[(\[] \S| n't\b| '(?:s|re|ve|ll|d|m)\b| &(?:amp|quot|apos|lt|gt);/;
const SUBWORD = /\u2581|@@(?: |$)/;

/** Share of non-empty lines that look tokenized. */
function tokenizedShare(lines: readonly string[]): number {
  const nonEmpty = lines.filter((l) => l.trim() !== '');
  if (nonEmpty.length === 0) return 0;
  return nonEmpty.filter((l) => TOKENIZED.test(l)).length / nonEmpty.length;
}

const percent = (x: number): string => `${(100 * x).toFixed(0)}%`;

/** Warnings (one line each) about the hypotheses of system `name`; empty when all looks fine. */
export function hypothesisWarnings(name: string, hyps: readonly string[], refs: readonly (readonly string[])[]): string[] {
  const warnings: string[] = [];
  const subword = hyps.filter((l) => SUBWORD.test(l)).length;
  if (subword > 0) {
    warnings.push(
      `${name}: ${subword} of ${hyps.length} lines hold subword markers ('▁' or '@@ '); decode the subwords (spm_decode, or sed -r 's/(@@ )|(@@ ?$)//g') before scoring`,
    );
  }
  const hypShare = tokenizedShare(hyps);
  const refShare = Math.max(0, ...refs.map(tokenizedShare));
  // References tokenized the same way make the comparison consistent, if unusual; warn on a mismatch.
  if (hypShare >= 0.1 && hypShare > 2 * refShare) {
    warnings.push(
      `${name}: ${percent(hypShare)} of lines look tokenized (detached punctuation such as ' ,' ' .' or " n't") but only ${percent(refShare)} of reference lines do; detokenize the output first (metrics tokenize by themselves), or BLEU will not be comparable`,
    );
  }
  return warnings;
}
