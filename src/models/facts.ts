/**
 * What a model family's config says about the model, known before it is built (no tfjs here,
 * so the CLI can check options without loading it). Every NmtModel carries the same facts.
 */
import type { ModelConfig } from '../config/schema.ts';
import type { ModelFacts } from './types.ts';

export function modelFacts(config: ModelConfig): ModelFacts {
  switch (config.type) {
    case 'seq2seq':
      return { maxPositions: Infinity, hasAttention: false, width: config.hidden_size };
    case 'attention':
      return { maxPositions: Infinity, hasAttention: true, width: config.hidden_size };
    case 'transformer':
      return { maxPositions: config.max_positions, hasAttention: true, width: config.d_model };
  }
}
