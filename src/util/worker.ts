/**
 * Worker threads that run a TypeScript module, and a link to one that sends a request and
 * awaits its reply. Shared by data-parallel training (src/train/parallel.ts) and parallel
 * decoding (src/decode/parallel.ts).
 */
import { Worker } from 'node:worker_threads';

/** What a worker sends when something fails; the link turns it into a rejection. */
export interface ErrorReply {
  type: 'error';
  message: string;
}

/**
 * The worker's entry: tsx's loader is registered per thread, so a plain-JS bootstrap registers
 * it and then imports the TypeScript worker module.
 */
const BOOTSTRAP = `
  const { workerData } = require('node:worker_threads');
  import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

/**
 * One worker thread running `entry` (which reads `data` from its workerData) and its
 * outstanding request. After any failure (an error reply, a crash, an exit) every request
 * is rejected with the first error.
 */
export class WorkerLink<Request, Reply extends { type: string }> {
  private readonly worker: Worker;
  private pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  /** `label` names the worker in errors ("training worker"). */
  constructor(entry: URL, data: object, private readonly label: string) {
    const workerData = { ...data, tsx: import.meta.resolve('tsx/esm/api'), entry: entry.href };
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData });
    this.worker.on('message', (reply: Reply | ErrorReply) => {
      const waiting = this.pending;
      this.pending = undefined;
      if (reply.type === 'error') this.fail(new Error(`${label}: ${(reply as ErrorReply).message}`), waiting);
      else waiting?.resolve(reply as Reply);
    });
    this.worker.on('error', (e) => this.fail(e, this.pending));
    this.worker.on('exit', (code) => this.fail(new Error(`${label} exited (code ${code})`), this.pending));
  }

  /** The next reply (the first one a worker sends unasked, e.g. `ready`), after sending `request` if given. */
  next(request?: Request): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      if (request) this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error(`${this.label} closed`);
    await this.worker.terminate();
  }

  /** Wait for every link's first reply (`ready`); if one fails, close them all and rethrow. */
  static async allReady<Q, R extends { type: string }>(links: readonly WorkerLink<Q, R>[]): Promise<void> {
    try {
      await Promise.all(links.map((w) => w.next()));
    } catch (e) {
      await Promise.all(links.map((w) => w.close()));
      throw e;
    }
  }

  private fail(e: Error, waiting: WorkerLink<Request, Reply>['pending']): void {
    this.failure ??= e;
    waiting?.reject(this.failure);
  }
}
