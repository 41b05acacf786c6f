/**
 * The JSON of `POST /v1/translate`: the request checked field by field (every problem an
 * ApiError with its HTTP status), the decode settings it asks for, and the response built from
 * the translate stage's Translation objects.
 */
import type { DecodeConfig } from '../config/schema.ts';
import type { Translation } from '../decode/translate.ts';
import type { SubwordPair } from '../subword/types.ts';

/** An error answered as `{error: {code, message}}` with `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface RequestLimits {
  /** Sentences per request. */
  maxSentences: number;
  /** Characters (code points) per sentence. */
  maxChars: number;
  /** Largest beam (and n-best list) a request may ask for. */
  maxBeam: number;
  /** Largest max_len a request may ask for (target subword tokens). */
  maxLen: number;
}

export interface TranslateRequest {
  texts: string[];
  /** Whether the request gave `text` (one sentence) rather than `texts`. */
  single: boolean;
  decode: DecodeConfig;
  attention: boolean;
}

const FIELDS = new Set(['text', 'texts', 'beam', 'nbest', 'max_len', 'alpha', 'attention']);

const bad = (message: string): ApiError => new ApiError(400, 'invalid_request', message);

function wholeNumber(body: Record<string, unknown>, field: string, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`${field}: expected a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
  if (v > max) throw bad(`${field}: ${v} is over this server's limit of ${max}`);
  return v;
}

/** Check a parsed body against the limits and the run's decode settings (the defaults). */
export function parseTranslateRequest(body: unknown, defaults: DecodeConfig, limits: RequestLimits, hasAttention: boolean): TranslateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('expected a JSON object with "text" or "texts"');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw bad(`unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected ${[...FIELDS].join(', ')})`);
  if ((b.text === undefined) === (b.texts === undefined)) throw bad('give exactly one of "text" (a string) or "texts" (an array of strings)');
  let texts: unknown[];
  if (b.text !== undefined) {
    if (typeof b.text !== 'string') throw bad(`text: expected a string, got ${typeof b.text === 'object' ? (Array.isArray(b.text) ? 'an array' : String(b.text)) : typeof b.text}`);
    texts = [b.text];
  } else {
    if (!Array.isArray(b.texts)) throw bad('texts: expected an array of strings');
    texts = b.texts;
    if (texts.length === 0) throw bad('texts: empty, nothing to translate');
    if (texts.length > limits.maxSentences) {
      throw new ApiError(413, 'too_many_sentences', `texts: ${texts.length} sentences, over this server's limit of ${limits.maxSentences} per request`);
    }
  }
  const where = (i: number) => (b.text !== undefined ? 'text' : `texts[${i}]`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw bad(`${where(i)}: expected a string, got ${t === null ? 'null' : typeof t}`);
    if (t.trim() === '') throw bad(`${where(i)}: empty, nothing to translate`);
    if (/[\r\n]/.test(t)) throw bad(`${where(i)}: contains a line break; send one sentence per entry of "texts"`);
    if (t.includes('\0')) throw bad(`${where(i)}: contains a NUL character`);
    const chars = [...t].length;
    if (chars > limits.maxChars) throw new ApiError(413, 'sentence_too_long', `${where(i)}: ${chars} characters, over this server's limit of ${limits.maxChars}`);
  });
  const beam = wholeNumber(b, 'beam', limits.maxBeam) ?? Math.min(defaults.beam_size, limits.maxBeam);
  const nbest = wholeNumber(b, 'nbest', limits.maxBeam) ?? (b.beam !== undefined ? 1 : Math.min(defaults.nbest, beam));
  if (nbest > beam) throw bad(`nbest ${nbest}: cannot exceed the beam size (${beam})`);
  const maxLen = wholeNumber(b, 'max_len', limits.maxLen);
  let alpha = defaults.length_penalty;
  if (b.alpha !== undefined && b.alpha !== null) {
    if (typeof b.alpha !== 'number' || !Number.isFinite(b.alpha) || b.alpha < 0 || b.alpha > 10) throw bad(`alpha: expected a number from 0 to 10, got ${JSON.stringify(b.alpha)}`);
    alpha = b.alpha;
  }
  if (b.attention !== undefined && typeof b.attention !== 'boolean') throw bad(`attention: expected true or false, got ${JSON.stringify(b.attention)}`);
  const attention = b.attention === true;
  if (attention && !hasAttention) throw bad('attention: this model (seq2seq) has no attention weights');
  const decode: DecodeConfig = {
    ...defaults,
    beam_size: beam,
    nbest,
    length_penalty: alpha,
    // max_len: a fixed cap on the output, whatever the source length.
    ...(maxLen !== undefined ? { max_len_a: 0, max_len_b: maxLen } : {}),
  };
  return { texts: texts as string[], single: b.text !== undefined, decode, attention };
}

/** What the attention weights are, said in every response that carries them. */
export const ATTENTION_KIND: Record<string, string> = {
  attention: 'the decoder attention over the encoder states',
  transformer: "the last decoder layer's cross-attention, mean over its heads (every layer's and head's: attention_heads)",
};

/** The JSON of an error: `{error: {code, message}}`, with a 4xx/5xx status. */
export interface ErrorJson {
  error: { code: string; message: string };
}

/** The best hypothesis's attention: weights [target][source] (a Transformer's: the last layer's mean over heads). */
export interface AttentionJson {
  source: string[];
  /** The target pieces of the best hypothesis and the final </s>. */
  target: string[];
  weights: number[][];
  /** What the weights are (ATTENTION_KIND). */
  kind: string;
}

export interface HypothesisJson {
  text: string;
  score: number;
  log_prob: number;
  pieces: string[];
}

/** One sentence's result in `translations`. */
export interface TranslationJson {
  text: string;
  score: number;
  truncated: boolean;
  source_pieces: string[];
  hypotheses: HypothesisJson[];
  /** With `attention: true`. */
  attention?: AttentionJson;
  /** With `attention: true`, for a Transformer: every decoder layer's cross-attention per head, [layer][head][target][source]. */
  attention_heads?: number[][][][];
}

/** What `POST /v1/translate` answers. */
export interface TranslateResponseJson {
  /** The best translation, for a `text` request. */
  text?: string;
  translations: TranslationJson[];
  decode: { beam: number; nbest: number; alpha: number; max_len_a: number; max_len_b: number };
  timing: TimingJson;
}

/** What `GET /v1/health` answers. */
export interface HealthJson {
  status: 'ok';
  queued_sentences: number;
  decoding: boolean;
  batches: number;
  sentences: number;
  requests: number;
  uptime_s: number;
  auth_required: boolean;
}

export interface TimingJson {
  queue_ms: number;
  decode_ms: number;
  total_ms: number;
  /** Sentences and requests decoded in the same batch as this request. */
  batch_sentences: number;
  batch_requests: number;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export function timingJson(t: { queueMs: number; decodeMs: number; totalMs: number; batchSentences: number; batchRequests: number }): TimingJson {
  return { queue_ms: round(t.queueMs), decode_ms: round(t.decodeMs), total_ms: round(t.totalMs), batch_sentences: t.batchSentences, batch_requests: t.batchRequests };
}

/**
 * One sentence's result: the best text, its n-best list with scores and pieces, and its attention:
 * `attention.weights` [target][source]; for a Transformer also `attention_heads`
 * [layer][head][target][source], every decoder layer's cross-attention per head, whose mean over
 * the last layer's heads is `attention.weights`.
 */
export function translationJson(t: Translation, subwords: SubwordPair, modelType: string): TranslationJson {
  const hypotheses = t.hypotheses.map((h) => ({
    text: h.text,
    score: h.score,
    log_prob: h.logProb,
    pieces: h.ids.map((id) => subwords.tgt.idToPiece(id)),
  }));
  return {
    text: t.text,
    score: t.hypotheses[0]?.score ?? 0,
    truncated: t.truncated,
    source_pieces: t.srcIds.map((id) => subwords.src.idToPiece(id)),
    hypotheses,
    ...(t.alignment
      ? {
          attention: {
            source: t.alignment.source,
            // The target pieces of the best hypothesis and the final </s>.
            target: t.alignment.target,
            weights: t.alignment.weights,
            kind: ATTENTION_KIND[modelType] ?? 'attention weights',
          },
        }
      : {}),
    ...(t.alignment?.heads ? { attention_heads: t.alignment.heads } : {}),
  };
}
