/**
 * Translate a stream of line windows and write each window's output, in input order, as soon as
 * it is decoded: what translateRun (run.ts) runs, whether the lines come from a file or a pipe.
 */
import type { DecodeConfig } from '../config/schema.ts';
import type { Translator } from './load.ts';
import type { DecodePool } from './parallel.ts';
import { formatAttention, formatJson, formatNbest, translateLines, type TranslateOptions, type Translation } from './translate.ts';

export type OutputFormat = 'text' | 'nbest' | 'json';

export interface StreamOptions {
  decode: DecodeConfig;
  format: OutputFormat;
  /** Where the attention JSON lines go, if anywhere. */
  writeAttention?: (text: string) => void;
  warn?: (msg: string) => void;
  /** Called after every batch with the sentences done so far. */
  onProgress?: (sentences: number, seconds: number) => void;
  /** Decode on these worker threads instead of this thread (same batches, same output). */
  pool?: DecodePool;
}

export interface StreamSummary {
  sentences: number;
  /** Target subword tokens of the best hypotheses (eos not counted). */
  tokens: number;
  empty: number;
  truncated: number;
  seconds: number;
}

function format(kind: OutputFormat, index: number, t: Translation): string {
  if (kind === 'json') return formatJson(index, t);
  if (kind === 'nbest') return formatNbest(index, t);
  return t.text + '\n';
}

/** Translate `lines` with `translator`, on the pool's worker threads when there is one (the same output either way). */
export async function translateOn(translator: Translator, pool: DecodePool | undefined, lines: string[], decode: DecodeConfig, opts: TranslateOptions = {}): Promise<Translation[]> {
  if (pool) return pool.translateLines(translator.subwords, lines, decode, opts);
  return translateLines(translator.model, translator.subwords, lines, decode, opts);
}

/**
 * `write` receives each window's text; when it returns false the output was closed downstream
 * (a pipe into `head`) and translation stops early. With a pool, the next window is decoded
 * while the current one finishes (so workers do not idle between windows) and is written as
 * soon as it and the windows before it are done, whether or not more input has arrived.
 */
export async function translateStream(
  translator: Translator,
  windows: AsyncIterable<string[]> | Iterable<string[]>,
  write: (text: string) => Promise<boolean> | boolean,
  opts: StreamOptions,
): Promise<StreamSummary> {
  const start = performance.now();
  const elapsed = () => (performance.now() - start) / 1000;
  const summary: StreamSummary = { sentences: 0, tokens: 0, empty: 0, truncated: 0, seconds: 0 };
  let done = 0;
  const progress = (n: number) => {
    done += n;
    opts.onProgress?.(done, elapsed());
  };
  const translate = (lines: string[], first: number): Promise<Translation[]> =>
    translateOn(translator, opts.pool, lines, opts.decode, { attention: opts.writeAttention !== undefined, firstLine: first + 1, warn: opts.warn, onBatch: progress });
  const output = async (first: number, lines: string[], results: Translation[]): Promise<boolean> => {
    results.forEach((r) => {
      summary.tokens += r.hypotheses[0]?.ids.length ?? 0;
      if (r.srcIds.length === 0) summary.empty += 1;
      if (r.truncated) summary.truncated += 1;
    });
    summary.sentences += lines.length;
    summary.seconds = elapsed();
    opts.writeAttention?.(results.map((r, i) => formatAttention(first + i, r)).join(''));
    const open = await write(results.map((r, i) => format(opts.format, first + i, r)).join(''));
    // Empty lines took no batch: count them now.
    progress(results.filter((r) => r.srcIds.length === 0).length);
    return open;
  };

  // Whether the output is still open once every window so far is written (in order).
  let written: Promise<boolean> = Promise.resolve(true);
  let first = 0;
  for await (const lines of windows) {
    const previous = written;
    const results = translate(lines, first);
    const at = first;
    written = previous.then(async (open) => open && output(at, lines, await results));
    // Both are awaited later (in order); until then a failure must not count as unhandled.
    results.catch(() => undefined);
    written.catch(() => undefined);
    first += lines.length;
    // Without a pool decoding blocks this thread: finish each window before reading the next.
    if (!(await (opts.pool ? previous : written))) break;
  }
  await written;
  summary.seconds = elapsed();
  return summary;
}

/** `lines` cut into windows of `size` (a file read whole). */
export function* arrayWindows(lines: string[], size: number): Generator<string[]> {
  for (let i = 0; i < lines.length; i += size) yield lines.slice(i, i + size);
}

/**
 * The first window of a stream (empty when there is none), read now, and the whole stream again,
 * that window included: how many decoding workers to start is decided on what arrived first.
 */
export async function peekFirst(windows: AsyncIterable<string[]>): Promise<{ first: string[]; all: AsyncIterable<string[]> }> {
  const it = windows[Symbol.asyncIterator]();
  const head = await it.next();
  async function* all(): AsyncGenerator<string[]> {
    try {
      for (let r = head; !r.done; r = await it.next()) yield r.value;
    } finally {
      // Stopped early (the reader of stdout went away): let the source close its input.
      await it.return?.();
    }
  }
  return { first: head.done ? [] : head.value, all: all() };
}

export function formatSummary(s: StreamSummary): string {
  const rate = (n: number) => (s.seconds > 0 ? (n / s.seconds).toFixed(1) : '-');
  const extra = [s.empty ? `${s.empty} empty` : '', s.truncated ? `${s.truncated} truncated` : ''].filter(Boolean).join(', ');
  return (
    `translated ${s.sentences} sentences${extra ? ` (${extra})` : ''}, ${s.tokens} target tokens in ${s.seconds.toFixed(1)} s: ` +
    `${rate(s.sentences)} sentences/s, ${rate(s.tokens)} tokens/s`
  );
}
