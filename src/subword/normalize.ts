/**
 * How a subword model sees text: nmt_nfkc (src/text/normalize.ts), then spm's whitespace steps
 * (dropping leading/trailing/repeated spaces, the dummy prefix, `▁` escaping), used when training
 * and encoding.
 */
import { ByteBuffer, forEachUnit, NO_SYMBOLS, type SymbolMatcher } from '../text/normalize.ts';

/** U+2581, which spm writes for a space inside pieces. */
export const SPACE_SYMBOL = '\u2581';
const SPACE_SYMBOL_BYTES = [0xe2, 0x96, 0x81] as const;
const SPACE = 0x20;

const encoder = new TextEncoder();

/** The whitespace settings of a model's normalizer spec. */
export interface WhitespaceOptions {
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export const DEFAULT_WHITESPACE: WhitespaceOptions = {
  addDummyPrefix: true,
  removeExtraWhitespaces: true,
  escapeWhitespaces: true,
};

/**
 * The normalized text spm segments: nmt_nfkc, then leading/trailing/repeated spaces dropped,
 * a space prepended (the dummy prefix) and spaces written as `▁`, per the options — the same
 * steps, in the same order, as spm's Normalizer::Normalize.
 */
export function normalizeForModel(
  text: string,
  ws: WhitespaceOptions = DEFAULT_WHITESPACE,
  symbols: SymbolMatcher = NO_SYMBOLS,
): string {
  const out = new ByteBuffer();
  const pushSpace = () => {
    if (ws.escapeWhitespaces) for (const b of SPACE_SYMBOL_BYTES) out.push(b);
    else out.push(SPACE);
  };
  let started = false;
  let prevSpace = ws.removeExtraWhitespaces;
  forEachUnit(encoder.encode(text), symbols, (src, startIn, end) => {
    let start = startIn;
    if (!started) {
      // Leading units that normalize to exactly one space are dropped.
      if (ws.removeExtraWhitespaces && end - start === 1 && src[start] === SPACE) return;
      started = true;
      if (ws.addDummyPrefix) pushSpace();
    }
    while (prevSpace && start < end && src[start] === SPACE) start++;
    if (start < end) {
      for (let i = start; i < end; i++) {
        if (src[i] === SPACE && ws.escapeWhitespaces) pushSpace();
        else out.push(src[i]!);
      }
      prevSpace = src[end - 1] === SPACE;
    }
    if (!ws.removeExtraWhitespaces) prevSpace = false;
  });
  if (ws.removeExtraWhitespaces) {
    const tail = ws.escapeWhitespaces ? SPACE_SYMBOL_BYTES : [SPACE];
    const endsWithTail = () =>
      out.length >= tail.length && tail.every((b, k) => out.bytes[out.length - tail.length + k] === b);
    while (endsWithTail()) out.length -= tail.length;
  }
  return out.toString();
}
