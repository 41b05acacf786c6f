/** `train:` — optimisation, batching, validation and checkpointing. */
import { z } from 'zod';

export const ScheduleSchema = z.strictObject({
  type: z
    .enum(['constant', 'noam', 'inverse_sqrt', 'plateau'])
    .default('constant')
    .describe('noam: learning_rate is the factor of d_model^-0.5 · min(step^-0.5, step · warmup^-1.5); inverse_sqrt peaks at learning_rate'),
  warmup_steps: z.number().int().nonnegative().default(0).describe('linear warmup (constant, plateau); the peak step (noam, inverse_sqrt)'),
  factor: z.number().positive().lt(1).default(0.5).describe('plateau: multiply the rate by this'),
  patience: z.number().int().nonnegative().default(2).describe('plateau: validations without improvement tolerated before lowering the rate'),
  min_learning_rate: z.number().nonnegative().default(1e-6),
});

export const TrainSchema = z.strictObject({
  optimizer: z.enum(['adam', 'adamw']).default('adam'),
  learning_rate: z.number().positive().default(1e-3),
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.98]),
  weight_decay: z.number().nonnegative().default(0),
  schedule: ScheduleSchema.prefault({}),
  batch_tokens: z.number().int().positive().max(1_000_000).default(2000).describe('padded tokens per batch: sentences × the longer side (target counted with its eos)'),
  max_sentences: z.number().int().positive().max(100_000).default(128).describe('cap on sentences per batch'),
  max_len: z.number().int().positive().max(10_000).default(100).describe('drop training pairs with a side longer than this in subword tokens'),
  accum_steps: z.number().int().positive().default(1).describe('batches per optimizer step (gradient accumulation)'),
  clip_norm: z.number().nonnegative().default(1.0).describe('0 disables clipping'),
  label_smoothing: z.number().min(0).lt(1).default(0.1),
  teacher_forcing: z.number().min(0).max(1).default(1.0).describe('RNN decoders: probability of feeding the gold token'),
  max_steps: z.number().int().positive().optional().describe('stop after this many optimizer steps (also bounded by max_epochs)'),
  max_epochs: z.number().int().positive().default(10),
  log_every: z.number().int().positive().default(50).describe('steps between log lines / metrics.jsonl records'),
  valid_every: z.number().int().positive().default(500).describe('steps between validations (each saves a checkpoint)'),
  keep_last: z.number().int().positive().default(3).describe('checkpoints kept besides the best'),
  early_stopping: z
    .strictObject({
      metric: z.enum(['bleu', 'chrf', 'loss', 'ppl']).default('bleu'),
      patience: z.number().int().positive().default(5).describe('stop after this many validations without a new best'),
    })
    .prefault({}),
});
