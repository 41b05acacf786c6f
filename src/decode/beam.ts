/**
 * Beam search batched across sentences and beams: every step is one decodeStep over all live
 * hypotheses of all sentences ([rows, V], rows ≤ B·K), then each row's 2K best tokens.
 *
 * Why 2K per row and not top-2K over a sentence's flattened [K·V] scores: the sentence's best
 * 2K candidates are always among its rows' 2K best, so the result is the same, and adding the
 * running score on the host (in float64) keeps beam size 1 bit-identical to greedy (adding it
 * in float32 on the backend can round two close candidates into a tie).
 *
 * Bookkeeping (as in fairseq): a sentence's candidates are walked best first; an eos among the
 * first K finishes a hypothesis, other tokens refill the K live beams. A sentence is done once
 * it has K finished hypotheses, or at its length limit, where eos is forced. Done sentences
 * leave the batch. Finished hypotheses are ranked by logProb / ((5 + len) / 6)^α.
 */
import type { NmtModel } from '../models/types.ts';
import { NEG, StepRunner, lengthPenalty, type BeamOptions, type Hypothesis } from './search.ts';

interface LiveBeam {
  ids: number[];
  logProb: number;
  attention?: number[][];
  /** [step][layer][head][source] (opts.attentionHeads, models with heads) */
  attentionHeads?: number[][][][];
}

interface Candidate {
  row: number;
  token: number;
  logProb: number;
}

/** The `nbest` best hypotheses of each sentence, best first. */
export function beamSearch(model: NmtModel, srcIds: number[][], opts: BeamOptions): Hypothesis[][] {
  const k = opts.beamSize;
  if (opts.nbest > k) throw new Error(`nbest (${opts.nbest}) cannot exceed the beam size (${k})`);
  const runner = new StepRunner(model, srcIds, opts);
  const finished: Hypothesis[][] = srcIds.map(() => []);
  // Live beams in row order; rows of one sentence are contiguous. Start: one bos beam each.
  let live: LiveBeam[] = srcIds.map(() => ({ ids: [], logProb: 0, ...(opts.attention ? { attention: [] } : {}) }));
  try {
    while (live.length > 0) {
      const prev = live.map((b) => (b.ids.length === 0 ? opts.bosId : b.ids[b.ids.length - 1]!));
      const step = runner.next(prev, 2 * k);
      const rowSentences = runner.rowSentences;
      const nextLive: LiveBeam[] = [];
      const origins: number[] = [];
      const sentences: number[] = [];
      // Per-head rows of this step by live row, read once however many candidates continue a row.
      const headRows = new Map<number, number[][][] | undefined>();
      const headsOf = (row: number) => {
        if (!headRows.has(row)) headRows.set(row, runner.attentionHeadsRow(step, row));
        return headRows.get(row);
      };
      for (let first = 0; first < live.length; ) {
        const s = rowSentences[first]!;
        let end = first;
        while (end < live.length && rowSentences[end] === s) end += 1;
        const candidates: Candidate[] = [];
        for (let r = first; r < end; r++) {
          for (let j = 0; j < step.k; j++) {
            const v = step.values[r * step.k + j]!;
            if (v > NEG / 2) candidates.push({ row: r, token: step.ids[r * step.k + j]!, logProb: live[r]!.logProb + v });
          }
        }
        // Stable sort: equal scores keep row-then-rank order, as greedy's top-1 would.
        candidates.sort((a, b) => b.logProb - a.logProb);
        let kept = 0;
        for (let rank = 0; rank < candidates.length && kept < k; rank++) {
          const c = candidates[rank]!;
          const parent = live[c.row]!;
          // A hypothesis's weights follow its own parents (the backpointers), step by step.
          const attention = () => {
            if (!parent.attention && !opts.attentionHeads) return {};
            const heads = opts.attentionHeads ? headsOf(c.row) : undefined;
            return {
              ...(parent.attention ? { attention: [...parent.attention, runner.attentionRow(step, c.row)] } : {}),
              ...(heads ? { attentionHeads: [...(parent.attentionHeads ?? []), heads] } : {}),
            };
          };
          if (c.token === opts.eosId) {
            if (rank < k) {
              const score = c.logProb / lengthPenalty(parent.ids.length + 1, opts.lengthPenalty);
              finished[s]!.push({ ids: parent.ids, logProb: c.logProb, score, ...attention() });
            }
            continue;
          }
          nextLive.push({ ids: [...parent.ids, c.token], logProb: c.logProb, ...attention() });
          origins.push(c.row);
          sentences.push(s);
          kept += 1;
        }
        if (finished[s]!.length >= k) {
          // Done: drop the beams just added for this sentence.
          nextLive.splice(nextLive.length - kept);
          origins.splice(origins.length - kept);
          sentences.splice(sentences.length - kept);
        }
        first = end;
      }
      if (nextLive.length > 0) runner.reorder(origins, sentences);
      live = nextLive;
    }
  } finally {
    runner.dispose();
  }
  return finished.map((hyps) => hyps.sort((a, b) => b.score - a.score).slice(0, opts.nbest));
}
