import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { createModel } from '../src/models/index.ts';
import {
  VOCAB,
  checkEachVariant,
  learnTask,
  modelConfig,
} from './helpers/models.ts';

const tiny = { type: 'seq2seq', emb_size: 8, hidden_size: 10, dropout: 0.1 };
const VARIANTS: Record<string, Record<string, unknown>> = {
  'gru, bidirectional, 2 layers': { ...tiny, cell: 'gru', bidirectional: true, layers: 2 },
  'lstm, unidirectional': { ...tiny, cell: 'lstm', bidirectional: false },
  'lstm, bidirectional, context every step, tied': { ...tiny, cell: 'lstm', layers: 2, context_every_step: true, tie_embeddings: true },
  'gru, unidirectional, context every step': { ...tiny, cell: 'gru', bidirectional: false, context_every_step: true },
};

describe('seq2seq model', () => {
  before(async () => {
    await initBackend('wasm');
  });

  checkEachVariant(VARIANTS);

  it('learns to reverse random sequences through its fixed context vector (≥ 95% exact match, greedy)', async () => {
    // Reversal suits a unidirectional encoder: the first outputs are the most recent inputs.
    const config = modelConfig({ type: 'seq2seq', cell: 'lstm', emb_size: 32, hidden_size: 128, bidirectional: false, dropout: 0 });
    const model = createModel(config, VOCAB, VOCAB, 1);
    const { accuracy, steps } = await learnTask(model, { task: 'reverse', maxSteps: 600, lr: 1e-2, batchSize: 128 });
    assert.ok(accuracy >= 0.95, `accuracy ${accuracy} after ${steps} steps`);
    model.dispose();
  });
});
