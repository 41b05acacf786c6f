/**
 * A run's translator loaded once and kept: sentences in, Translations out, on this thread or on
 * worker threads. What translateRun (run.ts) translates with, and what a server would call per
 * request without loading the model again.
 */
import { initBackend } from '../backend/index.ts';
import { parallelismFor, type BackendName, type ConcreteBackend } from '../backend/names.ts';
import type { DecodeConfig } from '../config/schema.ts';
import type { RunDir } from '../run/rundir.ts';
import { loadTranslator, type Translator } from './load.ts';
import { DecodePool } from './parallel.ts';
import { translateOn, translateStream, type StreamOptions, type StreamSummary } from './stream.ts';
import type { TranslateOptions, Translation } from './translate.ts';

export interface SessionOptions {
  /** 'best', 'last' or a checkpoint folder (default: best if one was validated, else last). */
  checkpoint?: string;
  /** Translate with the average of the last K checkpoints instead. */
  average?: number;
  /** The tfjs backend (default: the run's config's; 'auto': the one in use, if any). */
  backend?: BackendName;
  /**
   * `--threads` as given (a count or auto), when this session starts the backend: on node/gpu an
   * explicit count becomes TensorFlow's own thread count, which is fixed once tfjs-node loads.
   */
  threads?: number | 'auto';
  warn?: (msg: string) => void;
}

export class TranslatorSession {
  private pool: DecodePool | undefined;

  private constructor(
    /** The model, the subword models, and which weights and why (`source`, `checkpoint`). */
    readonly translator: Translator,
    readonly backend: ConcreteBackend,
  ) {}

  /** Start the backend and load the run's model and subword models. */
  static async open(run: RunDir, opts: SessionOptions = {}): Promise<TranslatorSession> {
    const backend = await initBackend(opts.backend ?? run.config.backend, undefined, { threads: opts.threads });
    const translator = await loadTranslator(run, { checkpoint: opts.checkpoint, average: opts.average, warn: opts.warn });
    return new TranslatorSession(translator, backend.name);
  }

  /** Threads decoding: the pool's workers, or 1 (this thread). */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /**
   * Decode on `threads` worker threads from now on (1: on this thread, no pool); the output is the
   * same. On node/gpu always this thread (parallelismFor): tfjs-node cannot run in worker threads.
   */
  async useThreads(requested: number): Promise<void> {
    const threads = parallelismFor(this.backend, requested).workers;
    if (threads === this.threads) return;
    await this.pool?.close();
    this.pool = undefined;
    if (threads > 1) this.pool = await DecodePool.start(threads, this.translator.model, this.backend);
  }

  /** Translate sentences (one per string, none with a newline); results in input order. */
  translate(sentences: string[], decode: DecodeConfig, opts: TranslateOptions = {}): Promise<Translation[]> {
    return translateOn(this.translator, this.pool, sentences, decode, opts);
  }

  /** Translate windows of lines and write each window's output as soon as it is done (translateStream). */
  stream(
    windows: AsyncIterable<string[]> | Iterable<string[]>,
    write: (text: string) => Promise<boolean> | boolean,
    opts: Omit<StreamOptions, 'pool'>,
  ): Promise<StreamSummary> {
    return translateStream(this.translator, windows, write, { ...opts, pool: this.pool });
  }

  /** Stop the workers and free the model. */
  async close(): Promise<void> {
    try {
      await this.pool?.close();
    } finally {
      this.pool = undefined;
      this.translator.model.dispose();
    }
  }
}
