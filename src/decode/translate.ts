/**
 * Text in, text out: apply the run's source subword model, decode in batches of similar length,
 * detokenize with the target model, and give the results back in input order.
 * Empty lines stay empty lines; over-long lines are truncated (with a warning), never dropped.
 */
import type { DecodeConfig, ModelConfig } from '../config/schema.ts';
import { modelFacts } from '../models/facts.ts';
import type { NmtModel } from '../models/types.ts';
import type { SubwordPair } from '../subword/types.ts';
import { beamSearch } from './beam.ts';
import { greedyDecode } from './greedy.ts';
import type { Hypothesis, SearchOptions } from './search.ts';

export interface TranslatedHypothesis {
  text: string;
  ids: number[];
  score: number;
  logProb: number;
}

export interface Translation {
  /** The best hypothesis, detokenized ('' for an empty line). */
  text: string;
  /** Up to `nbest` hypotheses, best first (none for an empty line). */
  hypotheses: TranslatedHypothesis[];
  /** Source subword ids fed to the model (after truncation). */
  srcIds: number[];
  truncated: boolean;
  /**
   * Source and target pieces and the best hypothesis's attention [target][source], when asked for;
   * with `attentionHeads` and a model with heads (Transformer), also every decoder layer's
   * cross-attention per head, `heads` [layer][head][target][source].
   */
  alignment?: { source: string[]; target: string[]; weights: number[][]; heads?: number[][][][] };
}

export interface TranslateOptions {
  /** Collect attention weights (attention and Transformer models). */
  attention?: boolean;
  /** With `attention`, also every layer's per-head weights where the model has heads (alignment.heads). */
  attentionHeads?: boolean;
  /** 1-based number of the first line, for warnings. */
  firstLine?: number;
  warn?: (msg: string) => void;
  /** Called after each batch with the number of sentences it held (for progress bars). */
  onBatch?: (sentences: number) => void;
}

/** Longest source (subword tokens) the model is fed: max_input_len, and a Transformer's positions. */
export function sourceLimit(model: ModelConfig, decode: DecodeConfig): number {
  return Math.min(decode.max_input_len, modelFacts(model).maxPositions);
}

/** Search settings from the decode config and the subword models' special ids. */
export function searchOptions(model: ModelConfig, decode: DecodeConfig, subwords: SubwordPair, attention = false, attentionHeads = false): SearchOptions {
  const { maxPositions } = modelFacts(model);
  return {
    bosId: subwords.tgt.bosId,
    eosId: subwords.tgt.eosId,
    padId: subwords.src.padId,
    maxLenA: decode.max_len_a,
    maxLenB: decode.max_len_b,
    // A Transformer feeds bos + every token but the last at positions 0 … max_positions − 1.
    maxLenCap: Number.isFinite(maxPositions) ? maxPositions - 1 : undefined,
    minLen: decode.min_len,
    attention,
    ...(attention && attentionHeads ? { attentionHeads: true } : {}),
  };
}

/** Decode sentences (subword ids, none empty) with the configured search: n-best lists, best first. */
export function decodeBatch(model: NmtModel, srcIds: number[][], decode: DecodeConfig, opts: SearchOptions): Hypothesis[][] {
  if (decode.beam_size === 1) return greedyDecode(model, srcIds, opts).map((h) => [h]);
  return beamSearch(model, srcIds, {
    ...opts,
    beamSize: decode.beam_size,
    lengthPenalty: decode.length_penalty,
    nbest: decode.nbest,
  });
}

/** Output text must stay on one line whatever the detokenizer gives back. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

/** Lines ready to decode: their results so far (source ids, truncation) and the batches to decode. */
export interface LinePlan {
  results: Translation[];
  /** Indices into `results` of each batch, longest sources first. */
  batches: number[][];
  search: SearchOptions;
}

/**
 * Encode `lines` (one sentence each) with the source subword model, truncating over-long ones,
 * and cut the non-empty ones, sorted by length, into batches of `decode.batch_size` to keep
 * padding low. The batches depend only on the lines and `decode`, however they are then run.
 */
export function planLines(config: ModelConfig, subwords: SubwordPair, lines: string[], decode: DecodeConfig, opts: TranslateOptions = {}): LinePlan {
  const limit = sourceLimit(config, decode);
  const first = opts.firstLine ?? 1;
  const results: Translation[] = lines.map((line, i) => {
    let srcIds = line.trim() === '' ? [] : subwords.src.encodeIds(line);
    const truncated = srcIds.length > limit;
    if (truncated) {
      opts.warn?.(`input line ${first + i}: ${srcIds.length} subword tokens, truncated to the model's limit of ${limit}`);
      srcIds = srcIds.slice(0, limit);
    }
    return { text: '', hypotheses: [], srcIds, truncated };
  });
  const order = results
    .map((_, i) => i)
    .filter((i) => results[i]!.srcIds.length > 0)
    .sort((a, b) => results[b]!.srcIds.length - results[a]!.srcIds.length);
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += decode.batch_size) batches.push(order.slice(start, start + decode.batch_size));
  return { results, batches, search: searchOptions(config, decode, subwords, opts.attention, opts.attentionHeads) };
}

/** The source ids of a batch of the plan. */
export function batchSources(plan: LinePlan, batch: number[]): number[][] {
  return batch.map((i) => plan.results[i]!.srcIds);
}

/** Store a decoded batch's n-best lists (detokenized) in the plan's results. */
export function fillBatch(plan: LinePlan, batch: number[], nbest: Hypothesis[][], subwords: SubwordPair): void {
  batch.forEach((i, b) => {
    const r = plan.results[i]!;
    r.hypotheses = nbest[b]!.map((h) => ({ text: oneLine(subwords.tgt.decodeIds(h.ids)), ids: h.ids, score: h.score, logProb: h.logProb }));
    r.text = r.hypotheses[0]?.text ?? '';
    const best = nbest[b]![0];
    if (plan.search.attention && best?.attention) {
      r.alignment = {
        source: r.srcIds.map((id) => subwords.src.idToPiece(id)),
        target: [...best.ids, plan.search.eosId].map((id) => subwords.tgt.idToPiece(id)),
        weights: best.attention,
        ...(best.attentionHeads ? { heads: layerHeadMajor(best.attentionHeads) } : {}),
      };
    }
  });
}

/** Per-step per-head weights [step][layer][head][source] → [layer][head][step][source]. */
export function layerHeadMajor(steps: number[][][][]): number[][][][] {
  const first = steps[0];
  if (!first) return [];
  return first.map((layer, l) => layer.map((_, h) => steps.map((step) => step[l]![h]!)));
}

/** Translate `lines` (one sentence each) on this thread, batched as `planLines` says; results in input order. */
export function translateLines(
  model: NmtModel,
  subwords: SubwordPair,
  lines: string[],
  decode: DecodeConfig,
  opts: TranslateOptions = {},
): Translation[] {
  const plan = planLines(model.config, subwords, lines, decode, opts);
  for (const batch of plan.batches) {
    fillBatch(plan, batch, decodeBatch(model, batchSources(plan, batch), decode, plan.search), subwords);
    opts.onBatch?.(batch.length);
  }
  return plan.results;
}

/** `index\tscore\ttext` lines of an n-best list (one line with an empty text for an empty input). */
export function formatNbest(index: number, t: Translation): string {
  if (t.hypotheses.length === 0) return `${index}\t0\t\n`;
  return t.hypotheses.map((h) => `${index}\t${h.score.toFixed(4)}\t${h.text}\n`).join('');
}

/** One JSON line per input line. */
export function formatJson(index: number, t: Translation): string {
  const hypotheses = t.hypotheses.map((h) => ({ text: h.text, score: h.score, log_prob: h.logProb, tokens: h.ids.length }));
  return JSON.stringify({ index, text: t.text, truncated: t.truncated, hypotheses }) + '\n';
}

/** The attention JSON line of one input line: source and target pieces, weights [target][source]. */
export function formatAttention(index: number, t: Translation): string {
  const { source, target, weights } = t.alignment ?? { source: [], target: [], weights: [] };
  return JSON.stringify({ index, source, target, weights }) + '\n';
}
