/**
 * Checkpoints: one folder per checkpoint under `checkpoints/` in the run directory, in a format
 * other tools can read (docs/checkpoints.md):
 *
 *   checkpoints/step-000500/model.safetensors      weights, by stable variable name
 *                           optimizer.safetensors  Adam moments m/<name>, v/<name>
 *                           state.json             step, model config, vocab sizes, hashes, resume state
 *                           subword/*.model        the SentencePiece models the weights go with
 *                           manifest.json          sha256 and size of every other file
 *   checkpoints/last.json, best.json               pointers: {"checkpoint": "step-000500", …}
 *
 * A folder is filled under a temporary name and renamed into place, so it is either complete
 * or absent; the checksums catch later damage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { createModel } from '../models/index.ts';
import type { NmtModel } from '../models/types.ts';
import { canonicalJson, identityOf, LAYOUT, sha256, type RunDir } from '../run/rundir.ts';
import { replaceDirAtomic, writeFileAtomic, writeJsonAtomic } from '../util/atomic.ts';
import { MT_VERSION } from '../version.ts';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from './safetensors.ts';
import type { TrainingState, ValidationResult } from './training-state.ts';

export const CHECKPOINT_FORMAT_VERSION = 1;
const FILES = { model: 'model.safetensors', optimizer: 'optimizer.safetensors', state: 'state.json', manifest: 'manifest.json' };

export interface CheckpointState {
  format: 'mt-checkpoint';
  format_version: number;
  mt_version: string;
  created_at: string;
  step: number;
  model: ModelConfig;
  src_vocab_size: number;
  tgt_vocab_size: number;
  parameters: number;
  /** sha256 of the run's identity sections and of its whole config when this was saved. */
  identity_hash: string;
  config_hash: string;
  /** sha256 of each subword model the weights go with, by file name. */
  subword: Record<string, string>;
  /** Validation at this step, if it was validated. */
  validation: ValidationResult | null;
  training: TrainingState;
}

interface ManifestFile {
  format: 'mt-checkpoint-manifest';
  files: Record<string, { sha256: string; bytes: number }>;
}

export interface CheckpointInfo {
  name: string;
  step: number;
  dir: string;
}

export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, '0')}`;
}

function checkpointsDir(run: RunDir): string {
  return run.path(LAYOUT.checkpoints);
}

/** Checkpoint folders of a run, oldest first (temporary and other entries are ignored). */
export function listCheckpoints(run: RunDir): CheckpointInfo[] {
  const root = checkpointsDir(run);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^step-\d+$/.test(e.name))
    .map((e) => ({ name: e.name, step: Number(e.name.slice(5)), dir: path.join(root, e.name) }))
    .sort((a, b) => a.step - b.step);
}

function hostTensor(t: tf.Tensor): HostTensor {
  if (t.dtype === 'float32') return { dtype: 'F32', shape: t.shape, data: t.dataSync() as Float32Array };
  if (t.dtype === 'int32') return { dtype: 'I32', shape: t.shape, data: t.dataSync() as Int32Array };
  throw new Error(`cannot store a ${t.dtype} tensor in a checkpoint`);
}

export interface SaveOptions {
  model: NmtModel;
  /** Optimizer state tensors by name (Adam.stateTensors()). */
  optimizer: Record<string, tf.Tensor>;
  training: TrainingState;
  validation: ValidationResult | null;
  /** The run's subword model files, copied alongside the weights. */
  subwordFiles: string[];
  /** Also point `best.json` at this checkpoint. */
  isBest: boolean;
  /** Keep this many newest checkpoints (plus the best); older ones are removed. */
  keepLast: number;
}

/** Write a checkpoint for `training.step`, update the pointers, prune old ones. Returns its folder. */
export function saveCheckpoint(run: RunDir, opts: SaveOptions): string {
  const { model, training } = opts;
  const name = checkpointName(training.step);
  const dir = path.join(checkpointsDir(run), name);
  const modelTensors = Object.fromEntries([...model.namedVariables].map(([n, v]) => [n, hostTensor(v)]));
  const optimizerTensors = Object.fromEntries(Object.entries(opts.optimizer).map(([n, t]) => [n, hostTensor(t)]));
  const subword: Record<string, string> = {};
  for (const f of opts.subwordFiles) subword[path.basename(f)] = sha256(fs.readFileSync(f));
  const state: CheckpointState = {
    format: 'mt-checkpoint',
    format_version: CHECKPOINT_FORMAT_VERSION,
    mt_version: MT_VERSION,
    created_at: new Date().toISOString(),
    step: training.step,
    model: model.config,
    src_vocab_size: model.srcVocabSize,
    tgt_vocab_size: model.tgtVocabSize,
    parameters: model.parameterCount(),
    identity_hash: sha256(canonicalJson(identityOf(run.config))),
    config_hash: sha256(canonicalJson(run.config)),
    subword,
    validation: opts.validation,
    training,
  };
  const metadata = { format: 'mt-checkpoint', step: String(training.step) };
  replaceDirAtomic(dir, (tmp) => {
    const files: Record<string, Uint8Array> = {
      [FILES.model]: encodeSafetensors(modelTensors, { ...metadata, model_type: model.config.type }),
      [FILES.optimizer]: encodeSafetensors(optimizerTensors, { ...metadata, optimizer: training.optimizer.type }),
      [FILES.state]: Buffer.from(JSON.stringify(state, null, 2) + '\n'),
    };
    for (const f of opts.subwordFiles) files[`subword/${path.basename(f)}`] = fs.readFileSync(f);
    const manifest: ManifestFile = { format: 'mt-checkpoint-manifest', files: {} };
    fs.mkdirSync(path.join(tmp, 'subword'), { recursive: true });
    for (const [rel, data] of Object.entries(files)) {
      writeFileAtomic(path.join(tmp, rel), data);
      manifest.files[rel] = { sha256: sha256(data), bytes: data.byteLength };
    }
    writeJsonAtomic(path.join(tmp, FILES.manifest), manifest);
  });
  const pointer = { checkpoint: name, step: training.step, validation: opts.validation };
  writeJsonAtomic(path.join(checkpointsDir(run), 'last.json'), pointer);
  if (opts.isBest) writeJsonAtomic(path.join(checkpointsDir(run), 'best.json'), { ...pointer, best: training.best });
  prune(run, opts.keepLast);
  return dir;
}

function readPointer(run: RunDir, which: 'best' | 'last'): string | undefined {
  const file = path.join(checkpointsDir(run), `${which}.json`);
  if (!fs.existsSync(file)) return undefined;
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as { checkpoint?: unknown };
    return typeof p.checkpoint === 'string' ? p.checkpoint : undefined;
  } catch {
    throw new UserError(`${file}: unreadable checkpoint pointer`);
  }
}

/** Remove all but the newest `keepLast` checkpoints and the best one. */
function prune(run: RunDir, keepLast: number): void {
  const all = listCheckpoints(run);
  const keep = new Set(all.slice(-keepLast).map((c) => c.name));
  const best = readPointer(run, 'best');
  if (best) keep.add(best);
  for (const c of all) {
    if (keep.has(c.name)) continue;
    // Renamed aside first: a crash mid-removal then leaves a temporary (removeStaleTemps clears
    // it), not a half-deleted folder under a name that listing, --average and fallback read.
    const aside = path.join(path.dirname(c.dir), `.${c.name}.${process.pid}.removed.old`);
    fs.renameSync(c.dir, aside);
    fs.rmSync(aside, { recursive: true, force: true });
  }
}

/** Remove folders a crashed save left under temporary names. */
export function removeStaleTemps(run: RunDir): void {
  const root = checkpointsDir(run);
  if (!fs.existsSync(root)) return;
  for (const e of fs.readdirSync(root)) {
    if (e.startsWith('.') && (e.endsWith('.tmp') || e.endsWith('.old'))) fs.rmSync(path.join(root, e), { recursive: true, force: true });
  }
}

/** Check every file against manifest.json; throws a UserError naming the first bad file. */
export function verifyCheckpoint(dir: string): void {
  const manifestPath = path.join(dir, FILES.manifest);
  let manifest: ManifestFile;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as ManifestFile;
  } catch (e) {
    const why = (e as { code?: string }).code === 'ENOENT' ? 'missing' : 'unreadable';
    throw new UserError(`${manifestPath}: checkpoint manifest is ${why}`);
  }
  if (manifest.format !== 'mt-checkpoint-manifest' || typeof manifest.files !== 'object') {
    throw new UserError(`${manifestPath}: not an mt checkpoint manifest`);
  }
  for (const required of [FILES.model, FILES.state]) {
    if (!manifest.files[required]) throw new UserError(`${manifestPath}: does not list ${required}`);
  }
  for (const [rel, expected] of Object.entries(manifest.files)) {
    const file = path.join(dir, rel);
    if (!fs.existsSync(file)) throw new UserError(`${file}: missing from checkpoint`);
    const data = fs.readFileSync(file);
    if (data.byteLength !== expected.bytes) {
      throw new UserError(`${file}: corrupted (${data.byteLength} bytes, expected ${expected.bytes})`);
    }
    if (sha256(data) !== expected.sha256) throw new UserError(`${file}: corrupted (sha256 does not match manifest.json)`);
  }
}

/**
 * The folder `which` names: 'best' (best.json), 'last' (the newest intact checkpoint; damaged
 * newer ones are skipped with a warning), or a path / folder name under checkpoints/.
 * The folder returned has been verified.
 */
export function resolveCheckpoint(run: RunDir, which: string, warn: (msg: string) => void = () => {}): string {
  const root = checkpointsDir(run);
  if (which === 'last') {
    const all = listCheckpoints(run).reverse();
    if (all.length === 0) throw new UserError(`${root}: no checkpoints yet (run mt train first)`);
    let firstProblem: UserError | undefined;
    for (const c of all) {
      try {
        verifyCheckpoint(c.dir);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        firstProblem ??= e;
        warn(`${e.message}; skipping ${c.name}`);
        continue;
      }
      if (firstProblem) warn(`using ${c.name}, the newest intact checkpoint`);
      return c.dir;
    }
    throw firstProblem!;
  }
  let dir: string;
  if (which === 'best') {
    const name = readPointer(run, 'best');
    if (!name) throw new UserError(`${path.join(root, 'best.json')}: no best checkpoint yet (none validated); use 'last'`);
    dir = path.join(root, name);
  } else {
    // An absolute path is taken as it is, found or not (joined to checkpoints/ it would name nothing sensible).
    dir = path.isAbsolute(which) || fs.existsSync(which) ? path.resolve(which) : path.join(root, which);
  }
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${dir}: no such checkpoint`);
  verifyCheckpoint(dir);
  return dir;
}

export interface CheckpointContents {
  dir: string;
  state: CheckpointState;
  weights: Record<string, HostTensor>;
  /** Empty when the checkpoint has no optimizer file. */
  optimizer: Record<string, HostTensor>;
}

function readSafetensors(file: string): Record<string, HostTensor> {
  try {
    return decodeSafetensors(fs.readFileSync(file)).tensors;
  } catch (e) {
    throw new UserError(`${file}: not a valid safetensors file (${(e as Error).message})`);
  }
}

/** Read a verified checkpoint folder (see resolveCheckpoint). */
export function readCheckpoint(dir: string): CheckpointContents {
  const statePath = path.join(dir, FILES.state);
  const state = JSON.parse(fs.readFileSync(statePath, 'utf8')) as CheckpointState;
  if (state.format !== 'mt-checkpoint') throw new UserError(`${statePath}: not an mt checkpoint`);
  if (state.format_version !== CHECKPOINT_FORMAT_VERSION) {
    throw new UserError(`${statePath}: checkpoint format ${state.format_version} (mt ${state.mt_version}) is not supported by mt ${MT_VERSION}`);
  }
  const optimizerPath = path.join(dir, FILES.optimizer);
  return {
    dir,
    state,
    weights: readSafetensors(path.join(dir, FILES.model)),
    optimizer: fs.existsSync(optimizerPath) ? readSafetensors(optimizerPath) : {},
  };
}

/** Assign stored weights to a model's variables; every variable must be present with its shape. */
export function assignWeights(model: NmtModel, weights: Record<string, HostTensor>, source: string): void {
  const names = new Set(model.namedVariables.keys());
  for (const name of Object.keys(weights)) {
    if (!names.has(name)) throw new UserError(`${source}: has weights ${name} that the model does not`);
  }
  for (const [name, v] of model.namedVariables) {
    const w = weights[name];
    if (!w) throw new UserError(`${source}: has no weights for ${name}`);
    if (w.shape.join(',') !== v.shape.join(',')) {
      throw new UserError(`${source}: ${name} has shape [${w.shape}] but the model expects [${v.shape}]`);
    }
    tf.tidy(() => v.assign(tf.tensor(w.data, w.shape, 'float32')));
  }
}

/** Host tensors → tfjs tensors (the caller disposes them). */
export function toTensors(host: Record<string, HostTensor>): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(host).map(([n, t]) => [n, tf.tensor(t.data, t.shape, t.dtype === 'F32' ? 'float32' : 'int32')]),
  );
}

/**
 * Refuse a checkpoint whose subword models differ from the run's (its ids would mean other pieces).
 * The one rule for both resuming training and translating.
 */
export function checkSubwords(run: RunDir, state: CheckpointState, dir: string): void {
  for (const [name, hash] of Object.entries(state.subword)) {
    const file = run.path(LAYOUT.subword, name);
    if (!fs.existsSync(file)) throw new UserError(`${file}: missing; checkpoint ${dir} was trained with it`);
    if (sha256(fs.readFileSync(file)) !== hash) {
      throw new UserError(`${file}: differs from the subword model checkpoint ${dir} was trained with`);
    }
  }
}

export interface LoadedCheckpoint {
  model: NmtModel;
  step: number;
  dir: string;
  state: CheckpointState;
}

/**
 * Load `which` ('best', 'last', or a path) of a run: verify checksums, rebuild the model from
 * the checkpoint's model config and vocabulary sizes, and assign its weights.
 */
export async function loadCheckpoint(
  run: RunDir,
  which: 'best' | 'last' | string,
  opts: { warn?: (msg: string) => void } = {},
): Promise<LoadedCheckpoint> {
  const dir = resolveCheckpoint(run, which, opts.warn);
  const { state, weights } = readCheckpoint(dir);
  checkSubwords(run, state, dir);
  const model = createModel(state.model, state.src_vocab_size, state.tgt_vocab_size, run.config.seed);
  try {
    assignWeights(model, weights, path.join(dir, FILES.model));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, step: state.step, dir, state };
}
