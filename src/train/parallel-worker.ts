/**
 * A data-parallel worker (see parallel.ts): its own backend and model replica. For each shard
 * it loads the shared weights (when they changed), takes the shard's loss and gradients, and
 * writes the gradients into its shared buffer in the replica spec's variable order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import { loadVariables, readFloats } from '../backend/transfer.ts';
import { errorMessage } from '../errors.ts';
import { createModel } from '../models/index.ts';
import type { ReplicaSpec, ShardRequest, WorkerReply } from './parallel.ts';
import { batchGradients } from './step.ts';

const port = parentPort!;
const { replica } = workerData as { replica: ReplicaSpec };
const reply = (message: WorkerReply) => port.postMessage(message);

try {
  await initBackend(replica.backend);
  const model = createModel(replica.model, replica.srcVocab, replica.tgtVocab, replica.seed);
  const variables = replica.names.map((name) => {
    const v = model.namedVariables.get(name);
    if (!v) throw new Error(`the replica has no variable ${name}`);
    return v;
  });
  const weights = new Float32Array(replica.weights);
  const grads = new Float32Array(replica.grads);

  port.on('message', (request: ShardRequest) => {
    try {
      if (request.weightsChanged) loadVariables(variables, weights);
      model.rngState = request.rngState;
      const result = batchGradients(model, request.pairs, request.ids, request.settings);
      let offset = 0;
      const present = variables.map((v) => {
        const g = result.grads[v.name];
        if (g) readFloats(g, grads, offset);
        offset += v.size;
        return g !== undefined;
      });
      tf.dispose(Object.values(result.grads));
      reply({ type: 'grads', present, loss: result.loss, nll: result.nll });
    } catch (e) {
      reply({ type: 'error', message: errorMessage(e) });
    }
  });
  reply({ type: 'ready' });
} catch (e) {
  reply({ type: 'error', message: errorMessage(e) });
}
