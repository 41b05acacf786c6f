import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../src/backend/index.ts';
import { createModel } from '../src/models/index.ts';
import {
  VOCAB,
  checkEachVariant,
  checkForwardWithAttention,
  learnTask,
  modelConfig,
} from './helpers/models.ts';

const tiny = { type: 'attention', emb_size: 8, hidden_size: 10, dropout: 0.1 };
const VARIANTS: Record<string, Record<string, unknown>> = {
  'bahdanau, gru, bidirectional, input feeding': { ...tiny, attention: 'bahdanau', cell: 'gru' },
  'bahdanau, lstm, 2 layers, no input feeding': { ...tiny, attention: 'bahdanau', cell: 'lstm', layers: 2, input_feeding: false },
  'luong_dot, lstm, unidirectional, tied': { ...tiny, attention: 'luong_dot', cell: 'lstm', bidirectional: false, tie_embeddings: true },
  'luong_general, gru, 2 layers': { ...tiny, attention: 'luong_general', cell: 'gru', layers: 2 },
  'luong_scaled_dot, gru, no input feeding, tied': { ...tiny, attention: 'luong_scaled_dot', input_feeding: false, tie_embeddings: true },
};

describe('attention model', () => {
  before(async () => {
    await initBackend('wasm');
  });

  checkEachVariant(VARIANTS);

  it('forwardWithAttention gives the logits of forward and the weights of each decoder step', async () => {
    const model = createModel(modelConfig(VARIANTS['bahdanau, gru, bidirectional, input feeding']!), 15, VOCAB, 3);
    await checkForwardWithAttention(model);
    model.dispose();
  });

  it('learns to reverse random sequences (≥ 95% exact match, greedy)', async () => {
    const config = modelConfig({ type: 'attention', attention: 'bahdanau', cell: 'gru', emb_size: 32, hidden_size: 64, dropout: 0 });
    const model = createModel(config, VOCAB, VOCAB, 1);
    const { accuracy, steps } = await learnTask(model, { task: 'reverse', maxSteps: 600, lr: 1e-2, batchSize: 64 });
    assert.ok(accuracy >= 0.95, `accuracy ${accuracy} after ${steps} steps`);
    model.dispose();
  });
});
