/**
 * Trivially checkable sequence tasks for tests and smoke runs: the target is the source copied,
 * reversed or sorted. Tokens are single lowercase letters, so any model output can be checked
 * by eye and by a one-line function.
 */
import type { Rng } from './random.ts';

export type TaskName = 'copy' | 'reverse' | 'sort';

export interface TaskOptions {
  /** Number of distinct tokens (letters a, b, c …), at most 26. */
  vocab: number;
  minTokens: number;
  maxTokens: number;
}

export const TASK_DEFAULTS: TaskOptions = { vocab: 20, minTokens: 3, maxTokens: 15 };

const TASKS: Record<TaskName, (tokens: string[]) => string[]> = {
  copy: (tokens) => [...tokens],
  reverse: (tokens) => [...tokens].reverse(),
  sort: (tokens) => [...tokens].sort(),
};

export function generateTaskPair(task: TaskName, rng: Rng, opts: TaskOptions = TASK_DEFAULTS): { src: string; tgt: string } {
  const length = rng.int(opts.minTokens, opts.maxTokens);
  const tokens = Array.from({ length }, () => String.fromCharCode(97 + rng.int(0, opts.vocab - 1)));
  return { src: tokens.join(' '), tgt: TASKS[task](tokens).join(' ') };
}
