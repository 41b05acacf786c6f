/**
 * Decoding on several cores. tfjs-wasm computes on one thread in Node, so translating used one
 * core. Here a pool of worker threads each owns its own backend and a copy of the model, and
 * decodes whole batches: the caller's thread encodes the lines, cuts them into batches exactly
 * as one-thread translation does (planLines), hands each batch to whichever worker is free and
 * detokenizes the results. Each batch is decoded by the same code on the same weights whichever
 * thread runs it, so the output is byte-identical to one thread's for any number of threads.
 *
 * The weights travel once, as one flat float32 array (the stable variable names in order) in a
 * buffer shared by all workers; each request carries a batch's source ids and search settings.
 */
import { assertWorkerBackend, type ConcreteBackend } from '../backend/names.ts';
import { flatLength, writeVariables } from '../backend/transfer.ts';
import type { DecodeConfig, ModelConfig } from '../config/schema.ts';
import type { NmtModel } from '../models/types.ts';
import type { SubwordPair } from '../subword/types.ts';
import { WorkerLink } from '../util/worker.ts';
import type { Hypothesis, SearchOptions } from './search.ts';
import { batchSources, fillBatch, planLines, type TranslateOptions, type Translation } from './translate.ts';

/**
 * Sentences each decoding worker must have for starting it to pay: a worker takes 1–2 s to start
 * (its own backend and a copy of the weights), about the time one thread takes to decode 20–100
 * sentences (docs/performance.md); a single line took 3.5–4 s on 2 workers and 1.7 s without.
 */
export const MIN_SENTENCES_PER_WORKER = 64;

/**
 * How many decoding workers `sentences` (Infinity: a stream with more to come) in batches of
 * `batchSize` are worth, at most `threads`; 1 means decode on the calling thread, with no pool.
 */
export function decodeWorkers(threads: number, sentences: number, batchSize: number): number {
  return Math.max(1, Math.min(threads, Math.floor(sentences / MIN_SENTENCES_PER_WORKER), Math.ceil(sentences / batchSize)));
}

/** What a worker needs to build its copy of the model. */
export interface DecoderSpec {
  backend: ConcreteBackend;
  model: ModelConfig;
  srcVocab: number;
  tgtVocab: number;
  /** Stable variable names: the layout of `weights`. */
  names: string[];
  weights: SharedArrayBuffer;
}

/** Decode one batch (as decodeBatch does). */
export interface BatchRequest {
  srcIds: number[][];
  decode: DecodeConfig;
  search: SearchOptions;
}

export type DecoderReply = { type: 'ready' } | { type: 'decoded'; nbest: Hypothesis[][] };

interface Job {
  request: BatchRequest;
  resolve: (nbest: Hypothesis[][]) => void;
  reject: (e: Error) => void;
}

export class DecodePool {
  /** Workers waiting for a batch. */
  private readonly idle: WorkerLink<BatchRequest, DecoderReply>[];
  /** Batches waiting for a worker, first come first served. */
  private readonly queue: Job[] = [];
  private failure: Error | undefined;

  private constructor(
    private readonly workers: WorkerLink<BatchRequest, DecoderReply>[],
    private readonly config: ModelConfig,
  ) {
    this.idle = [...workers];
  }

  /** Start `threads` workers, each with a copy of `model`'s weights, on `backend`. */
  static async start(threads: number, model: NmtModel, backend: ConcreteBackend): Promise<DecodePool> {
    assertWorkerBackend(backend, 'decoding workers');
    const names = [...model.namedVariables.keys()];
    const variables = names.map((n) => model.namedVariables.get(n)!);
    const weights = new SharedArrayBuffer(4 * flatLength(variables));
    writeVariables(variables, new Float32Array(weights));
    const decoder: DecoderSpec = { backend, model: model.config, srcVocab: model.srcVocabSize, tgtVocab: model.tgtVocabSize, names, weights };
    const entry = new URL('./parallel-worker.ts', import.meta.url);
    const workers = Array.from({ length: threads }, () => new WorkerLink<BatchRequest, DecoderReply>(entry, { decoder }, 'decoding worker'));
    await WorkerLink.allReady(workers);
    return new DecodePool(workers, model.config);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** Decode one batch on the next free worker (as decodeBatch would): n-best lists, best first. */
  decode(srcIds: number[][], decode: DecodeConfig, search: SearchOptions): Promise<Hypothesis[][]> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { srcIds, decode, search }, resolve, reject });
      this.dispatch();
    });
  }

  /** translateLines on the pool: the same batches, decoded on all workers at once; results in input order. */
  async translateLines(subwords: SubwordPair, lines: string[], decode: DecodeConfig, opts: TranslateOptions = {}): Promise<Translation[]> {
    const plan = planLines(this.config, subwords, lines, decode, opts);
    await Promise.all(
      plan.batches.map(async (batch) => {
        fillBatch(plan, batch, await this.decode(batchSources(plan, batch), decode, plan.search), subwords);
        opts.onBatch?.(batch.length);
      }),
    );
    return plan.results;
  }

  /** Stop the workers; batches still queued or decoding are rejected. */
  async close(): Promise<void> {
    this.fail(new Error('decoding pool closed'));
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) void this.run(this.idle.pop()!, this.queue.shift()!);
  }

  private async run(worker: WorkerLink<BatchRequest, DecoderReply>, job: Job): Promise<void> {
    try {
      const reply = await worker.next(job.request);
      if (reply.type !== 'decoded') throw new Error(`decoding worker: unexpected '${reply.type}' reply`);
      this.idle.push(worker);
      this.dispatch();
      job.resolve(reply.nbest);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      job.reject(error);
      // A failed worker takes no more batches, and neither does the pool: the output would have gaps.
      this.fail(error);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const job of this.queue.splice(0)) job.reject(this.failure);
  }
}
