/** mt's library API: what the CLI calls and what tests and other programs can call directly. */
export { initBackend, activeBackend, type BackendInfo } from './backend/index.ts';
export { BACKEND_NAMES, type BackendName } from './backend/names.ts';
export { loadConfigFile, parseConfigText, parseOverride, ConfigError, type ConfigProblem } from './config/load.ts';
export { ConfigSchema, type Config, type ModelConfig } from './config/schema.ts';
export { RunDir, LAYOUT, type Manifest } from './run/rundir.ts';
export { UserError } from './errors.ts';
export { writeFileAtomic, writeJsonAtomic } from './util/atomic.ts';
export { MT_VERSION } from './version.ts';
export { createModel, type Batch, type DecoderState, type EncoderState, type NmtModel, type StepOutput } from './models/index.ts';
export {
  GENERATED_NAMES,
  generateCorpus,
  summarizeCorpus,
  writeCorpus,
  type GeneratedCorpus,
  type GeneratedName,
  type GenerateOptions,
} from './data/generate/index.ts';
export { plotAttention, plotCurves, plotLength, renderFigure, type Figure } from './report/plots/index.ts';
export { prepareData, dataFiles } from './data/prepare.ts';
export { formatReport, type DataReport, type SetReport } from './data/report.ts';
export { fetchMulti30k, MULTI30K_FILES } from './data/fetch.ts';
export {
  trainSubwords,
  loadSubwords,
  trainSentencePiece,
  trainerOptions,
  SentencePieceModel,
  type SubwordModel,
  type SubwordPair,
  type VocabSummary,
} from './subword/index.ts';
export { normalizeNmtNfkc } from './text/normalize.ts';
export { greedyDecode } from './decode/greedy.ts';
export { beamSearch } from './decode/beam.ts';
export { lengthPenalty, type BeamOptions, type Hypothesis, type SearchOptions } from './decode/search.ts';
export { translateLines, decodeBatch, searchOptions, type Translation, type TranslateOptions } from './decode/translate.ts';
export { translateStream, type StreamSummary } from './decode/stream.ts';
export { DecodePool } from './decode/parallel.ts';
export { loadTranslator, type Translator } from './decode/load.ts';
export { translateRun, type TranslateRunOptions, type TranslateRunResult, type TranslateRecord } from './decode/run.ts';
export { TranslatorSession, type SessionOptions } from './decode/session.ts';
export { loadAveragedCheckpoint } from './decode/average.ts';
export { train, type TrainOptions, type TrainSummary, type StepReport } from './train/trainer.ts';
export {
  loadCheckpoint,
  saveCheckpoint,
  listCheckpoints,
  readCheckpoint,
  resolveCheckpoint,
  verifyCheckpoint,
  type CheckpointState,
  type LoadedCheckpoint,
} from './checkpoint/index.ts';
export { encodeSafetensors, decodeSafetensors } from './checkpoint/safetensors.ts';
export {
  score,
  sentenceScores,
  createScorer,
  corpusBleu,
  sentenceBleu,
  corpusChrf,
  sentenceChrf,
  corpusTer,
  sentenceTer,
  perplexityFromNll,
  SACREBLEU_VERSION,
  type MetricId,
  type MetricResult,
  type MetricOptions,
  type MetricResults,
  type BleuOptions,
  type BleuResult,
  type ChrfOptions,
  type ChrfResult,
  type TerOptions,
  type TerResult,
  type Scorer,
} from './metrics/index.ts';
export { evaluate, type EvalOptions, type EvalInputs, type EvalReport } from './metrics/evaluate.ts';
export { evaluateRun, evaluateFiles, evalOptionsFor, writeLengthScores, type EvalRecord, type EvaluateRunOptions, type RunScores } from './metrics/run.ts';
export { formatEvalReport } from './metrics/format.ts';
export { explainMetrics } from './metrics/explain.ts';
export { bootstrapInterval, pairedBootstrap, pairedRandomization } from './metrics/significance.ts';
export { runVectorsCase, VectorsCaseSchema } from './metrics/vectors.ts';
