/** `model:` — one of the three families, chosen by `type`. */
import { z } from 'zod';

const dropout = z.number().min(0).lt(1).default(0.1);

// Upper bounds well above any model mt can train, below sizes that overflow a typed array or the
// wasm heap (hidden_size 1e12 validated and then crashed in train).
const width = z.number().int().positive().max(8192);
const depth = z.number().int().positive().max(64);

const rnnFields = {
  cell: z.enum(['lstm', 'gru']).default('gru'),
  emb_size: width.default(256),
  hidden_size: width.default(512),
  layers: depth.default(1),
  bidirectional: z.boolean().default(true).describe('bidirectional encoder'),
  dropout,
  tie_embeddings: z.boolean().default(false).describe('share target embedding and output projection'),
};

export const Seq2SeqSchema = z.strictObject({
  type: z.literal('seq2seq'),
  ...rnnFields,
  context_every_step: z.boolean().default(false).describe('feed the context vector to every decoder step (Cho et al. 2014)'),
});

export const AttentionSchema = z.strictObject({
  type: z.literal('attention'),
  ...rnnFields,
  attention: z.enum(['bahdanau', 'luong_dot', 'luong_general', 'luong_scaled_dot']).default('bahdanau'),
  input_feeding: z.boolean().default(true),
});

export const TransformerSchema = z.strictObject({
  type: z.literal('transformer'),
  d_model: width.default(256),
  heads: z.number().int().positive().max(128).default(4),
  ff_size: z.number().int().positive().max(65_536).default(1024),
  encoder_layers: depth.default(3),
  decoder_layers: depth.default(3),
  dropout,
  norm: z.enum(['pre', 'post']).default('pre'),
  positions: z.enum(['sinusoidal', 'learned']).default('sinusoidal'),
  max_positions: z.number().int().positive().max(10_000).default(256),
  tie_embeddings: z.boolean().default(true),
});

export const ModelSchema = z
  .discriminatedUnion('type', [Seq2SeqSchema, AttentionSchema, TransformerSchema])
  .refine((m) => m.type !== 'transformer' || m.d_model % m.heads === 0, {
    message: 'd_model must be divisible by heads',
    path: ['d_model'],
  })
  .refine((m) => m.type === 'transformer' || !m.bidirectional || m.hidden_size % 2 === 0, {
    message: 'must be even with a bidirectional encoder (hidden_size/2 units per direction)',
    path: ['hidden_size'],
  });
