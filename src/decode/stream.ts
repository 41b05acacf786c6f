/**
 * Translate a stream of line windows and write each window's output, in input order, as soon as
 * it is decoded: what `mt translate` runs, whether the lines come from a file or a pipe.
 */
import type { DecodeConfig } from '../config/schema.ts';
import type { Translator } from './load.ts';
import { formatAttention, formatJson, formatNbest, translateLines, type Translation } from './translate.ts';

export type OutputFormat = 'text' | 'nbest' | 'json';

export interface StreamOptions {
  decode: DecodeConfig;
  format: OutputFormat;
  /** Where the attention JSON lines go, if anywhere. */
  writeAttention?: (text: string) => void;
  warn?: (msg: string) => void;
  /** Called after every batch with the sentences done so far. */
  onProgress?: (sentences: number, seconds: number) => void;
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

/**
 * `write` receives each window's text; when it returns false the output was closed downstream
 * (a pipe into `head`) and translation stops early.
 */
export async function translateStream(
  translator: Translator,
  windows: AsyncIterable<string[]> | Iterable<string[]>,
  write: (text: string) => Promise<boolean> | boolean,
  opts: StreamOptions,
): Promise<StreamSummary> {
  const start = performance.now();
  const summary: StreamSummary = { sentences: 0, tokens: 0, empty: 0, truncated: 0, seconds: 0 };
  for await (const lines of windows) {
    const first = summary.sentences;
    let done = first;
    const results = translateLines(translator.model, translator.subwords, lines, opts.decode, {
      attention: opts.writeAttention !== undefined,
      firstLine: first + 1,
      warn: opts.warn,
      onBatch: (n) => {
        done += n;
        opts.onProgress?.(done, (performance.now() - start) / 1000);
      },
    });
    results.forEach((r) => {
      summary.tokens += r.hypotheses[0]?.ids.length ?? 0;
      if (r.srcIds.length === 0) summary.empty += 1;
      if (r.truncated) summary.truncated += 1;
    });
    summary.sentences += lines.length;
    summary.seconds = (performance.now() - start) / 1000;
    opts.writeAttention?.(results.map((r, i) => formatAttention(first + i, r)).join(''));
    const open = await write(results.map((r, i) => format(opts.format, first + i, r)).join(''));
    opts.onProgress?.(summary.sentences, summary.seconds);
    if (!open) break;
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

/** `lines` cut into windows of `size` (a file read whole). */
export function* arrayWindows(lines: string[], size: number): Generator<string[]> {
  for (let i = 0; i < lines.length; i += size) yield lines.slice(i, i + size);
}

export function formatSummary(s: StreamSummary): string {
  const rate = (n: number) => (s.seconds > 0 ? (n / s.seconds).toFixed(1) : '-');
  const extra = [s.empty ? `${s.empty} empty` : '', s.truncated ? `${s.truncated} truncated` : ''].filter(Boolean).join(', ');
  return (
    `translated ${s.sentences} sentences${extra ? ` (${extra})` : ''}, ${s.tokens} target tokens in ${s.seconds.toFixed(1)} s: ` +
    `${rate(s.sentences)} sentences/s, ${rate(s.tokens)} tokens/s`
  );
}
