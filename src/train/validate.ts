/**
 * Validation: loss and perplexity of the validation pairs under teacher forcing, and BLEU / chrF
 * of greedy translations of the validation source, detokenized and scored like sacreBLEU.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodeConfig, EvalConfig } from '../config/schema.ts';
import { translateLines } from '../decode/translate.ts';
import { corpusBleu, corpusChrf } from '../metrics/index.ts';
import type { NmtModel } from '../models/types.ts';
import type { SubwordPair } from '../subword/types.ts';
import { disposeBatch, makeBatch, type Pair, type SpecialIds } from './batching.ts';
import { labelSmoothedLoss } from './loss.ts';

/**
 * Per-token negative log-likelihood (no label smoothing) and its perplexity, with the totals they
 * come from: `nll` summed in nats over `tokens` target tokens (each target's eos included).
 * What training validates with and `mt eval --perplexity` (src/train/perplexity.ts) reuses.
 */
export function validationLoss(
  model: NmtModel,
  pairs: Pair[],
  batches: number[][],
  ids: SpecialIds,
): { loss: number; ppl: number; nll: number; tokens: number } {
  let nll = 0;
  let tokens = 0;
  for (const indices of batches) {
    const batch = makeBatch(pairs, indices, ids);
    const terms = tf.tidy(() => {
      const t = labelSmoothedLoss(model.forward(batch, false), batch.tgtOut, batch.tgtMask, 0);
      return tf.stack([t.nllSum, t.tokens]);
    });
    disposeBatch(batch);
    const [n, k] = terms.dataSync();
    terms.dispose();
    nll += n!;
    tokens += k!;
  }
  const loss = nll / Math.max(tokens, 1);
  return { loss, ppl: Math.exp(loss), nll, tokens };
}

/**
 * BLEU and chrF of greedy translations of `srcLines` against `refLines` (one reference each),
 * with the run's decode limits and BLEU tokenizer.
 */
export function validationScores(
  model: NmtModel,
  subwords: SubwordPair,
  srcLines: string[],
  refLines: string[],
  decode: DecodeConfig,
  evalCfg: EvalConfig,
): { bleu: number; chrf: number; hypotheses: string[] } {
  const greedy: DecodeConfig = { ...decode, beam_size: 1, nbest: 1 };
  const hypotheses = translateLines(model, subwords, srcLines, greedy).map((t) => t.text);
  return {
    bleu: corpusBleu(hypotheses, [refLines], { tokenize: evalCfg.tokenize, lowercase: evalCfg.lowercase }).score,
    chrf: corpusChrf(hypotheses, [refLines]).score,
    hypotheses,
  };
}
