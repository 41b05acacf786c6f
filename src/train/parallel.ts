/**
 * Data-parallel gradients on worker threads. tfjs-wasm computes on one thread in Node, so one
 * training process used one core. Here each worker thread owns its own wasm backend and a
 * replica of the model, and R ranks use R cores: every batch is split into R shards of about
 * equal target tokens; rank 0 (the trainer's own model, on this thread) and the workers take
 * their shard's gradients at the same time, and these are averaged weighted by each shard's
 * share of the target tokens — exactly the gradient of the whole batch's per-token mean loss.
 * Clipping and the optimizer then run once, on rank 0; the workers read the new weights before
 * their next shard. Dropout masks differ from a single-rank run (each rank draws its own, from
 * a stream fixed by rank 0's), so a run is reproducible for a given number of ranks.
 *
 * Weights and gradients travel as flat float32 arrays in one fixed layout (the stable variable
 * names in order), written into buffers shared with the workers once at start (allocating and
 * first-touching 50 MB per message cost more than the copies); the messages themselves carry
 * only token ids and numbers, so the protocol would run over pipes between processes with the
 * buffers sent along.
 */
import * as tf from '@tensorflow/tfjs';
import { assertWorkerBackend, type ConcreteBackend } from '../backend/names.ts';
import { flatLength, floatTensor, writeVariables } from '../backend/transfer.ts';
import type { ModelConfig } from '../config/schema.ts';
import type { NmtModel } from '../models/types.ts';
import { WorkerLink } from '../util/worker.ts';
import type { Pair, SpecialIds } from './batching.ts';
import type { Gradients } from './optimizer.ts';
import { batchGradients, type BatchGradients, type GradientSource, type UpdateSettings } from './step.ts';

/** What a worker needs to build its replica; its weights arrive before the first shard. */
export interface ReplicaSpec {
  backend: ConcreteBackend;
  model: ModelConfig;
  srcVocab: number;
  tgtVocab: number;
  /** Seeds the replica's dropout stream (rank 0's seed + the rank). */
  seed: number;
  /** Stable variable names: the layout of the flat weights and gradients. */
  names: string[];
  /** Rank 0 writes the weights here (all workers read them). */
  weights: SharedArrayBuffer;
  /** This worker writes its shard's gradients here. */
  grads: SharedArrayBuffer;
}

export interface ShardRequest {
  type: 'shard';
  /** The shared weights changed since the last shard. */
  weightsChanged: boolean;
  pairs: Pair[];
  ids: SpecialIds;
  settings: UpdateSettings;
  /** Where the replica's dropout stream starts for this shard. */
  rngState: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  /** The gradients are in the shared buffer; `present[i]` is false where the loss does not depend on weight i. */
  | { type: 'grads'; present: boolean[]; loss: number; nll: number };

/** Target tokens of a shard (each target plus its eos): the weight of its gradients. */
function targetTokens(pairs: Pair[]): number {
  return pairs.reduce((n, p) => n + p.tgt.length + 1, 0);
}

/** `pairs` cut into `n` consecutive shards of about equal target tokens (empty when too few pairs). */
export function splitByTokens(pairs: Pair[], n: number): Pair[][] {
  const total = targetTokens(pairs);
  const shards: Pair[][] = Array.from({ length: n }, () => []);
  let seen = 0;
  for (const p of pairs) {
    shards[Math.min(n - 1, Math.floor((seen * n) / total))]!.push(p);
    seen += p.tgt.length + 1;
  }
  return shards;
}

export class DataParallel implements GradientSource {
  /** The weights' buffers as last shared (tfjs gives a variable a new buffer when assigned). */
  private sharedWeights: object[] = [];

  private constructor(
    private readonly workers: WorkerLink<ShardRequest, WorkerReply>[],
    /** Each worker's gradient buffer. */
    private readonly grads: Float32Array[],
    private readonly names: string[],
    private readonly weights: Float32Array,
  ) {}

  /** Start `ranks − 1` workers with replicas of `model` (rank 0 is the caller's thread). */
  static async start(
    ranks: number,
    model: NmtModel,
    spec: Omit<ReplicaSpec, 'names' | 'weights' | 'grads'>,
  ): Promise<DataParallel> {
    assertWorkerBackend(spec.backend, 'data-parallel training');
    const names = [...model.namedVariables.keys()];
    const bytes = 4 * flatLength(names.map((n) => model.namedVariables.get(n)!));
    const weights = new SharedArrayBuffer(bytes);
    const replicas = Array.from({ length: ranks - 1 }, (_, k): ReplicaSpec => ({ ...spec, seed: spec.seed + k + 1, names, weights, grads: new SharedArrayBuffer(bytes) }));
    const entry = new URL('./parallel-worker.ts', import.meta.url);
    const workers = replicas.map((replica) => new WorkerLink<ShardRequest, WorkerReply>(entry, { replica }, 'training worker'));
    const grads = replicas.map((r) => new Float32Array(r.grads));
    await WorkerLink.allReady(workers);
    return new DataParallel(workers, grads, names, new Float32Array(weights));
  }

  get ranks(): number {
    return this.workers.length + 1;
  }

  /** The loss and gradients of `pairs` as one batch, its shards computed on all ranks at once. */
  async gradients(model: NmtModel, pairs: Pair[], ids: SpecialIds, settings: UpdateSettings): Promise<BatchGradients> {
    const variables = this.names.map((n) => model.namedVariables.get(n)!);
    const shards = splitByTokens(pairs, this.ranks);
    const weightsChanged = this.shareWeights(variables);
    const replies = this.workers.map((w, k) => {
      const shard = shards[k + 1]!;
      if (shard.length === 0) return undefined;
      return w.next({ type: 'shard', weightsChanged, pairs: shard, ids, settings, rngState: model.rngState });
    });
    const own = shards[0]!.length > 0 ? batchGradients(model, shards[0]!, ids, settings) : undefined;
    const results = await Promise.all(replies);
    const total = targetTokens(pairs);
    // Each rank's share of the target tokens: the weight of its loss and gradients.
    const share = shards.map((shard) => targetTokens(shard) / total);
    let loss = own ? own.loss * share[0]! : 0;
    let nll = own?.nll ?? 0;
    const answered = results.map((reply, k) => {
      if (!reply || reply.type !== 'grads') return undefined;
      loss += reply.loss * share[k + 1]!;
      nll += reply.nll;
      return reply;
    });
    // Weighted sum of the ranks' gradients, one weight at a time (rank 0's gradient freed as
    // its term is taken): all weights at once would hold several model-sized sets of temporaries.
    const grads: Gradients = {};
    let offset = 0;
    for (const [i, v] of variables.entries()) {
      const start = offset;
      offset += v.size;
      const ownGrad = own?.grads[v.name];
      const sum = tf.tidy(() => {
        let sum = ownGrad ? tf.mul(ownGrad, share[0]!) : undefined;
        answered.forEach((reply, k) => {
          if (!reply?.present[i]) return;
          const scaled = tf.mul(floatTensor(this.grads[k]!.subarray(start, offset), v.shape), share[k + 1]!);
          sum = sum ? tf.add(sum, scaled) : scaled;
        });
        return sum;
      });
      ownGrad?.dispose();
      if (sum) grads[v.name] = sum;
    }
    return { grads, loss, nll };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  /** Write the weights into the shared buffer unless they are unchanged since; whether they changed. */
  private shareWeights(variables: tf.Variable[]): boolean {
    const buffers = variables.map((v) => v.dataId);
    if (buffers.every((b, i) => b === this.sharedWeights[i])) return false;
    this.sharedWeights = buffers;
    writeVariables(variables, this.weights);
    return true;
  }
}
