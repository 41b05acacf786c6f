/**
 * How a subword model sees text: nmt_nfkc (src/text/normalize.ts), then spm's whitespace steps
 * (dropping leading/trailing/repeated spaces, the dummy prefix, `▁` escaping), used when training
 * and encoding.
 */
import { NMT_NFKC_KEY_CHARS } from '../text/nmt-nfkc-key-chars.ts';
import { decodeCharsmap, lastPrefixValue, longestPrefix, nmtNfkcCharsmapBlob, NO_SYMBOLS, type Charsmap, type SymbolMatcher } from '../text/normalize.ts';

/** U+2581, which spm writes for a space inside pieces. */
export const SPACE_SYMBOL = '\u2581';
const SPACE = 0x20;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

// Local bindings of the per-character calls: run through tsx, an imported function is read
// through a getter at every call, which the interpreter pays for until the loop is optimized.
const prefixSearch = longestPrefix;
const prefixValue = lastPrefixValue;

let charsmap: Charsmap | undefined;
/**
 * Input and output bytes of the line being normalized (reused: this runs once per corpus line).
 * Training lines have at most 4,192 bytes, so in training neither grows (its first growth would
 * cost V8 a recompilation).
 */
let input = new Uint8Array(16384);
let output = new Uint8Array(16384);
let outLength = 0;

function put(b: number): void {
  if (outLength === output.length) {
    const grown = new Uint8Array(output.length * 2);
    grown.set(output);
    output = grown;
  }
  output[outLength++] = b;
}

function putSpace(escape: boolean): void {
  if (escape) {
    put(0xe2);
    put(0x96);
    put(0x81);
  } else put(SPACE);
}

/**
 * Where a line stops being plain: a character of a charsmap key (see NMT_NFKC_KEY_CHARS), `▁`
 * itself (whose escaping rules differ from a space's), or a surrogate (an astral character).
 */
const NOT_PLAIN = new RegExp(`[${NMT_NFKC_KEY_CHARS}\\u2581\\ud800-\\udfff]`);

/** Whether the charsmap leaves `text` as it is: no key can match anywhere in it. */
export function isPlain(text: string): boolean {
  return !NOT_PLAIN.test(text);
}
const EDGE_SPACES = /^ +| +$/g;
const SPACES = / +/g;

/**
 * The normalized text spm segments: nmt_nfkc, then leading/trailing/repeated spaces dropped,
 * a space prepended (the dummy prefix) and spaces written as `▁`, per the options — the same
 * steps, in the same order, as spm's Normalizer::Normalize.
 *
 * A plain line (nearly every line of most corpora) has no charsmap key in it, so only the
 * whitespace steps apply: those are done by the regular-expression engine, not character by
 * character in JavaScript — which, in a fresh process, V8 first runs slowly and then compiles.
 */
export function normalizeForModel(
  text: string,
  ws: WhitespaceOptions = DEFAULT_WHITESPACE,
  symbols: SymbolMatcher = NO_SYMBOLS,
): string {
  if (ws.addDummyPrefix && ws.removeExtraWhitespaces && ws.escapeWhitespaces && symbols.empty && isPlain(text)) {
    const trimmed = text.replace(EDGE_SPACES, '');
    return trimmed === '' ? '' : SPACE_SYMBOL + trimmed.replace(SPACES, SPACE_SYMBOL);
  }
  return normalizeUnits(text, ws, symbols);
}

/**
 * normalizeForModel on any text, unit by unit (exported for the test that compares the two).
 * The character mapping is src/text/normalize.ts's (forEachUnit: a user symbol, else the longest
 * charsmap key, else one character), inlined here with its darts-clone lookup: training
 * normalizes every corpus line, and a callback per character cost more than the mapping itself.
 * test/subword-spm.test.ts compares the result with spm_normalize.
 */
export function normalizeUnits(text: string, ws: WhitespaceOptions, symbols: SymbolMatcher): string {
  const { units, replacements, replacementEnd } = (charsmap ??= decodeCharsmap(nmtNfkcCharsmapBlob()));
  if (input.length < 3 * text.length) input = new Uint8Array(3 * text.length + 16);
  const bytes = input;
  const length = encoder.encodeInto(text, bytes).written;
  const escape = ws.escapeWhitespaces;
  outLength = 0;
  let started = false;
  let prevSpace = ws.removeExtraWhitespaces;
  let pos = 0;
  while (pos < length) {
    // The next unit: src[start..end).
    let src: Uint8Array = bytes;
    let start = pos;
    let end: number;
    const sym = symbols.empty ? 0 : symbols.match(bytes.subarray(0, length), pos);
    if (sym > 0) {
      end = pos + sym;
      pos = end;
    } else {
      // The longest charsmap key here (replaced), else one character (copied). Both are worked
      // out, then one is taken: keys are rare in most text, and V8 throws optimized code away at
      // the first run of an operation it has not seen run before.
      const hit = prefixSearch(units, bytes, pos, length);
      const value = prefixValue();
      const valueEnd = replacementEnd[value]!;
      const keyEnd = pos + hit;
      const b = bytes[pos]!;
      const charEnd = pos + (b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4);
      src = hit > 0 ? replacements : bytes;
      start = hit > 0 ? value : pos;
      end = hit > 0 ? valueEnd : charEnd;
      pos = hit > 0 ? keyEnd : charEnd;
    }
    // spm's whitespace steps on the unit.
    if (!started) {
      // Leading units that normalize to exactly one space are dropped.
      if (ws.removeExtraWhitespaces && end - start === 1 && src[start] === SPACE) continue;
      started = true;
      if (ws.addDummyPrefix) putSpace(escape);
    }
    // Leading spaces dropped after a space. (`start += skip` runs on every unit after a space, not
    // only at double spaces: V8 throws optimized code away at the first run of an operation.)
    let skip = prevSpace ? 1 : 0;
    while (skip === 1 && start < end) {
      skip = src[start] === SPACE ? 1 : 0;
      start += skip;
    }
    if (start < end) {
      for (let i = start; i < end; i++) {
        const b = src[i]!;
        if (b === SPACE && escape) putSpace(true);
        else put(b);
      }
      prevSpace = src[end - 1] === SPACE;
    }
    if (!ws.removeExtraWhitespaces) prevSpace = false;
  }
  if (ws.removeExtraWhitespaces) {
    if (escape) while (outLength >= 3 && output[outLength - 3] === 0xe2 && output[outLength - 2] === 0x96 && output[outLength - 1] === 0x81) outLength -= 3;
    else while (outLength >= 1 && output[outLength - 1] === SPACE) outLength--;
  }
  return decoder.decode(output.subarray(0, outLength));
}
