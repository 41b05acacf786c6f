/**
 * Greedy decoding, batched across sentences: encode once, then take the most likely token for
 * every unfinished sentence per step. Finished sentences leave the batch, so the long tail of
 * a batch costs only what its longest sentences need.
 */
import type { NmtModel } from '../models/types.ts';
import { StepRunner, type Hypothesis, type SearchOptions } from './search.ts';

/** One hypothesis per sentence of `srcIds` (each a non-empty list of source ids, no bos/eos). */
export function greedyDecode(model: NmtModel, srcIds: number[][], opts: SearchOptions): Hypothesis[] {
  const runner = new StepRunner(model, srcIds, opts);
  const hyps: Hypothesis[] = srcIds.map(() => ({ ids: [], logProb: 0, score: 0, ...(opts.attention ? { attention: [] } : {}) }));
  try {
    let prev = srcIds.map(() => opts.bosId);
    while (prev.length > 0) {
      const step = runner.next(prev, 1);
      const origins: number[] = [];
      const sentences: number[] = [];
      const next: number[] = [];
      runner.rowSentences.forEach((s, r) => {
        const hyp = hyps[s]!;
        const token = step.ids[r]!;
        hyp.logProb += step.values[r]!;
        hyp.attention?.push(runner.attentionRow(step, r));
        if (opts.attentionHeads) {
          const heads = runner.attentionHeadsRow(step, r);
          if (heads) (hyp.attentionHeads ??= []).push(heads);
        }
        if (token === opts.eosId) return;
        hyp.ids.push(token);
        origins.push(r);
        sentences.push(s);
        next.push(token);
      });
      if (next.length > 0) runner.reorder(origins, sentences);
      prev = next;
    }
  } finally {
    runner.dispose();
  }
  for (const h of hyps) h.score = h.logProb;
  return hyps;
}
