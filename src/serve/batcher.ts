/**
 * Batching across requests: sentences of concurrent requests with the same decode options wait
 * a short collection window and are decoded together, in one call of the translate stage's
 * library function (TranslatorSession.translate), which sorts them by length into batches as
 * `mt translate` does. One decode runs at a time; the queue of waiting sentences is bounded.
 */
import type { DecodeConfig } from '../config/schema.ts';
import type { Translation } from '../decode/translate.ts';

/** What decodes a batch: TranslatorSession.translate, or a stand-in in tests. */
export type TranslateFn = (sentences: string[], decode: DecodeConfig, opts: { attention: boolean }) => Promise<Translation[]>;

export interface BatcherOptions {
  /** How long the first request of a group waits for others before its group is decoded (ms). */
  windowMs: number;
  /** A group is decoded at once when it holds this many sentences … */
  maxSentences: number;
  /** … or this many source subword tokens. */
  maxTokens: number;
  /** Most sentences waiting (queued or sealed, not yet decoding); more is refused (QueueFullError). */
  maxQueue: number;
}

export interface BatchResult {
  translations: Translation[];
  /** Time from submission to the start of its batch's decode (ms). */
  queueMs: number;
  /** Time the batch's decode took (ms). */
  decodeMs: number;
  /** Sentences in the batch (this request's and others'). */
  batchSentences: number;
  /** Requests in the batch. */
  batchRequests: number;
}

/** The queue is full: answered 503 with Retry-After. */
export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`the queue is full (${waiting} sentences waiting); retry shortly`);
    this.name = 'QueueFullError';
  }
}

interface Job {
  sentences: string[];
  tokens: number;
  submitted: number;
  resolve: (r: BatchResult) => void;
  reject: (e: unknown) => void;
}

interface Group {
  key: string;
  decode: DecodeConfig;
  attention: boolean;
  jobs: Job[];
  sentences: number;
  tokens: number;
  timer?: NodeJS.Timeout;
}

/** The options that must be equal for requests to share a batch. */
export function decodeKey(decode: DecodeConfig, attention: boolean): string {
  const { beam_size, nbest, length_penalty, max_len_a, max_len_b, min_len, max_input_len, batch_size } = decode;
  return JSON.stringify([beam_size, nbest, length_penalty, max_len_a, max_len_b, min_len, max_input_len, batch_size, attention]);
}

export class Batcher {
  private readonly open = new Map<string, Group>();
  private readonly sealed: Group[] = [];
  private running = false;
  private waiting = 0;
  private idleWaiters: (() => void)[] = [];
  /** Batches decoded and sentences in them, for /v1/health. */
  readonly stats = { batches: 0, sentences: 0, requests: 0 };

  constructor(
    private readonly translate: TranslateFn,
    private readonly opts: BatcherOptions,
  ) {}

  /** Sentences waiting for a decode (not counting the batch decoding now). */
  get queued(): number {
    return this.waiting;
  }

  /** Whether a batch is decoding now. */
  get busy(): boolean {
    return this.running;
  }

  /** Translate `sentences` (with `tokens` source subword tokens in all) in the next batch with the same options. */
  submit(sentences: string[], tokens: number, decode: DecodeConfig, attention: boolean): Promise<BatchResult> {
    if (this.waiting + sentences.length > this.opts.maxQueue) return Promise.reject(new QueueFullError(this.waiting));
    return new Promise<BatchResult>((resolve, reject) => {
      const job: Job = { sentences, tokens, submitted: performance.now(), resolve, reject };
      this.waiting += sentences.length;
      const key = decodeKey(decode, attention);
      let group = this.open.get(key);
      // A job that would overflow a non-empty group starts the next one.
      if (group && (group.sentences + sentences.length > this.opts.maxSentences || group.tokens + tokens > this.opts.maxTokens)) {
        this.seal(group);
        group = undefined;
      }
      if (!group) {
        group = { key, decode, attention, jobs: [], sentences: 0, tokens: 0 };
        this.open.set(key, group);
      }
      group.jobs.push(job);
      group.sentences += sentences.length;
      group.tokens += tokens;
      if (group.sentences >= this.opts.maxSentences || group.tokens >= this.opts.maxTokens || this.opts.windowMs <= 0) this.seal(group);
      else if (!group.timer) {
        const g = group;
        g.timer = setTimeout(() => this.seal(g), this.opts.windowMs);
      }
    });
  }

  /** Decode every waiting group now and resolve once nothing is queued or decoding (shutdown). */
  drain(): Promise<void> {
    for (const g of [...this.open.values()]) this.seal(g);
    if (!this.running && this.sealed.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private seal(group: Group): void {
    if (this.open.get(group.key) === group) this.open.delete(group.key);
    if (group.timer) clearTimeout(group.timer);
    group.timer = undefined;
    this.sealed.push(group);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.sealed.length > 0) {
        const group = this.sealed.shift()!;
        await this.run(group);
        // Let requests that arrived during a decode on this thread be read before the next batch.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }

  private async run(group: Group): Promise<void> {
    const sentences = group.jobs.flatMap((j) => j.sentences);
    this.waiting -= sentences.length;
    const start = performance.now();
    let results: Translation[];
    try {
      results = await this.translate(sentences, group.decode, { attention: group.attention });
    } catch (e) {
      group.jobs.forEach((j) => j.reject(e));
      return;
    }
    const decodeMs = performance.now() - start;
    this.stats.batches += 1;
    this.stats.sentences += sentences.length;
    this.stats.requests += group.jobs.length;
    let at = 0;
    for (const job of group.jobs) {
      const translations = results.slice(at, at + job.sentences.length);
      at += job.sentences.length;
      job.resolve({ translations, queueMs: start - job.submitted, decodeMs, batchSentences: sentences.length, batchRequests: group.jobs.length });
    }
  }
}
