/**
 * The experiment config: one YAML file with a section per pipeline stage.
 * These zod schemas are the single source of the config types (see `Config` below).
 */
import { z } from 'zod';
import { BACKEND_NAMES } from '../backend/names.ts';
import { DataSchema } from './sections/data.ts';
import { DecodeSchema } from './sections/decode.ts';
import { EvalSchema } from './sections/eval.ts';
import { ModelSchema } from './sections/model.ts';
import { SubwordSchema } from './sections/subword.ts';
import { TrainSchema } from './sections/train.ts';

export const ConfigSchema = z.strictObject({
  // The run folder is runs/<name>: a path here would put it (and its writes) anywhere.
  name: z
    .string()
    .min(1)
    .max(100)
    .refine((n) => !/[/\\]/.test(n) && n !== '.' && n !== '..', { message: "must be a single folder name (no '/', '\\', '.' or '..')" })
    .optional()
    .describe('experiment name (defaults to the config file name)'),
  seed: z.number().int().default(1234),
  backend: z.enum(BACKEND_NAMES).default('auto'),
  data: DataSchema,
  subword: SubwordSchema.prefault({}),
  model: ModelSchema,
  train: TrainSchema.prefault({}),
  decode: DecodeSchema.prefault({}),
  eval: EvalSchema.prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type ModelConfig = Config['model'];
export type DataConfig = Config['data'];
export type SubwordConfig = Config['subword'];
export type TrainConfig = Config['train'];
export type DecodeConfig = Config['decode'];
export type EvalConfig = Config['eval'];

/** Sections whose change makes an existing run directory a different experiment. */
export const IDENTITY_SECTIONS = ['data', 'subword', 'model', 'train'] as const;
