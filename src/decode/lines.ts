/**
 * Lines of a stream in windows, for translating in a pipe: a window holds whatever lines have
 * arrived (up to `max`), so a fast producer gets full windows (good batching) and a slow one
 * gets its lines translated as they come instead of waiting for the end of the input.
 */
import * as readline from 'node:readline';
import type { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

export async function* lineWindows(input: Readable, max: number): AsyncGenerator<string[]> {
  const queue: string[] = [];
  let ended = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const rl = readline.createInterface({ input, crlfDelay: Infinity, terminal: false });
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  rl.on('line', (line) => {
    queue.push(line);
    // Stop reading ahead while a few windows are waiting (decoding is the slow part).
    if (queue.length >= 4 * max) rl.pause();
    notify();
  });
  rl.on('close', () => {
    ended = true;
    notify();
  });
  input.on('error', (e) => {
    failure = e;
    ended = true;
    notify();
  });
  try {
    for (;;) {
      if (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
      if (failure) throw failure;
      if (queue.length === 0 && ended) return;
      // Let lines already read from the current chunk arrive before cutting the window.
      await nextTurn();
      const window = queue.splice(0, max);
      if (queue.length < 4 * max) rl.resume();
      yield window;
    }
  } finally {
    rl.close();
  }
}
