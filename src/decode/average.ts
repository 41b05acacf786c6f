/**
 * Checkpoint averaging: the element-wise mean of the weights of a run's last K checkpoints,
 * which usually translates a little better than any one of them (Vaswani et al. 2017).
 */
import type { HostTensor } from '../checkpoint/safetensors.ts';
import {
  assignWeights,
  listCheckpoints,
  loadCheckpoint,
  readCheckpoint,
  resolveCheckpoint,
  type CheckpointInfo,
  type LoadedCheckpoint,
} from '../checkpoint/index.ts';
import { UserError } from '../errors.ts';
import { canonicalJson, type RunDir } from '../run/rundir.ts';

export interface AveragedModel extends LoadedCheckpoint {
  /** The checkpoints averaged, oldest first. */
  sources: CheckpointInfo[];
}

/** Load the newest checkpoint and replace its weights with the mean over the last `k`. */
export async function loadAveragedCheckpoint(run: RunDir, k: number, warn: (msg: string) => void = () => {}): Promise<AveragedModel> {
  if (!Number.isInteger(k) || k < 1) throw new UserError(`--average ${k}: must be a positive whole number`);
  const available = listCheckpoints(run);
  if (available.length === 0) throw new UserError(`${run.path('checkpoints')}: no checkpoints yet (run mt train first)`);
  const chosen = available.slice(-k);
  if (chosen.length < k) warn(`only ${chosen.length} checkpoint(s) in ${run.path('checkpoints')}; averaging ${chosen.length}, not ${k}`);
  const newest = await loadCheckpoint(run, chosen[chosen.length - 1]!.dir, { warn });
  const sums = new Map<string, Float64Array>();
  const shapes = new Map<string, number[]>();
  try {
    for (const c of chosen) {
      const { state, weights } = readCheckpoint(resolveCheckpoint(run, c.dir, warn));
      const same =
        canonicalJson(state.model) === canonicalJson(newest.state.model) &&
        state.src_vocab_size === newest.state.src_vocab_size &&
        state.tgt_vocab_size === newest.state.tgt_vocab_size &&
        canonicalJson(state.subword) === canonicalJson(newest.state.subword);
      if (!same) throw new UserError(`${c.dir}: cannot be averaged with ${newest.dir} (different model config, vocabulary or subword models)`);
      for (const [name, t] of Object.entries(weights)) {
        let sum = sums.get(name);
        if (!sum) {
          sum = new Float64Array(t.data.length);
          sums.set(name, sum);
          shapes.set(name, t.shape);
        }
        if (sum.length !== t.data.length) throw new UserError(`${c.dir}: ${name} has shape [${t.shape}], not [${shapes.get(name)}]`);
        for (let i = 0; i < sum.length; i++) sum[i] += t.data[i]!;
      }
    }
    const mean: Record<string, HostTensor> = {};
    for (const [name, sum] of sums) {
      mean[name] = { dtype: 'F32', shape: shapes.get(name)!, data: Float32Array.from(sum, (x) => x / chosen.length) };
    }
    assignWeights(newest.model, mean, `average of ${chosen.map((c) => c.name).join(', ')}`);
  } catch (e) {
    newest.model.dispose();
    throw e;
  }
  return { ...newest, sources: chosen };
}
