/**
 * Perplexity of a model on a test set, from teacher-forced negative log-likelihoods.
 *
 * How training feeds it: run the model's `forward` (teacher forcing) over the test batches and
 * add up, per batch, the summed token cross-entropy in nats (natural log, no label smoothing,
 * padding masked out, end-of-sentence tokens included) and the number of target tokens it
 * covered. Sum both over all batches, then call `perplexityFromNll(totalNll, tokens)`.
 * Summing before dividing weights every token equally, whatever the batch sizes were.
 *
 * Perplexity is per *subword token* of the model's own vocabulary, so it compares models only
 * when they share the target subword model (see docs/metrics.md).
 */

/** exp(total NLL / tokens): the model's average branching factor per target token. */
export function perplexityFromNll(totalNll: number, tokens: number): number {
  if (!(tokens > 0)) throw new Error(`perplexity needs at least one target token (got ${tokens})`);
  if (!Number.isFinite(totalNll) || totalNll < 0) throw new Error(`total NLL must be a finite number ≥ 0 (got ${totalNll})`);
  return Math.exp(totalNll / tokens);
}
