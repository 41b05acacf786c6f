/**
 * A decoding worker (see parallel.ts): its own backend and copy of the model, built from the
 * shared weights once; then it decodes each batch it is sent and replies with the n-best lists.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend } from '../backend/index.ts';
import { loadVariables } from '../backend/transfer.ts';
import { errorMessage } from '../errors.ts';
import { createModel } from '../models/index.ts';
import type { ErrorReply } from '../util/worker.ts';
import type { BatchRequest, DecoderReply, DecoderSpec } from './parallel.ts';
import { decodeBatch } from './translate.ts';

const port = parentPort!;
const { decoder } = workerData as { decoder: DecoderSpec };
const reply = (message: DecoderReply | ErrorReply) => port.postMessage(message);

try {
  await initBackend(decoder.backend);
  // The seed only sets initial weights, all of which are replaced.
  const model = createModel(decoder.model, decoder.srcVocab, decoder.tgtVocab, 0);
  const variables = decoder.names.map((name) => {
    const v = model.namedVariables.get(name);
    if (!v) throw new Error(`the decoder's model has no variable ${name}`);
    return v;
  });
  loadVariables(variables, new Float32Array(decoder.weights));
  port.on('message', (request: BatchRequest) => {
    try {
      reply({ type: 'decoded', nbest: decodeBatch(model, request.srcIds, request.decode, request.search) });
    } catch (e) {
      reply({ type: 'error', message: errorMessage(e) });
    }
  });
  reply({ type: 'ready' });
} catch (e) {
  reply({ type: 'error', message: errorMessage(e) });
}
