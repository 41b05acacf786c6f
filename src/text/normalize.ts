/**
 * SentencePiece's `nmt_nfkc` normalization, exactly as spm applies it: the character mapping
 * that `mt prepare` applies to corpora (data/clean.ts) and that subword models apply before
 * their whitespace steps (subword/normalize.ts).
 *
 * spm does not run Unicode NFKC itself: it looks up the longest prefix of the UTF-8 input in the
 * "precompiled charsmap" (a darts-clone double-array trie whose values point into a blob of
 * NUL-terminated replacement strings) and copies the replacement, or the character unchanged.
 * The charsmap spm_train writes for `nmt_nfkc` is the same blob for every model; mt ships it in
 * assets/ (see assets/NOTICE.md) so its normalization is byte-identical to spm's, which
 * JavaScript's `String.prototype.normalize('NFKC')` is not.
 */
import * as fs from 'node:fs';

const CHARSMAP_URL = new URL('./assets/nmt_nfkc.charsmap', import.meta.url);

/** A decoded precompiled charsmap: the trie units and the replacement strings. */
export interface Charsmap {
  units: Uint32Array;
  /** NUL-terminated UTF-8 strings; a key's value is where its replacement starts. */
  replacements: Uint8Array;
  /** For each offset into `replacements`, where the string there ends (its NUL). */
  replacementEnd: Int32Array;
}

/** Split the blob into the trie (uint32 units, little-endian) and the replacement strings. */
export function decodeCharsmap(blob: Uint8Array): Charsmap {
  if (blob.length <= 4) throw new Error('precompiled charsmap is too short');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const trieSize = view.getUint32(0, true);
  if (trieSize >= blob.length || trieSize % 4 !== 0) throw new Error('precompiled charsmap has a bad trie size');
  const units = new Uint32Array(trieSize / 4);
  for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
  const replacements = blob.slice(4 + trieSize);
  const replacementEnd = new Int32Array(replacements.length + 1);
  let end = replacements.length;
  for (let i = replacements.length - 1; i >= 0; i--) {
    if (replacements[i] === 0) end = i;
    replacementEnd[i] = end;
  }
  replacementEnd[replacements.length] = replacements.length;
  return { units, replacements, replacementEnd };
}

let nmtNfkc: Charsmap | undefined;

/** The nmt_nfkc blob exactly as it goes into a `.model` file's normalizer spec. */
export function nmtNfkcCharsmapBlob(): Uint8Array {
  return new Uint8Array(fs.readFileSync(CHARSMAP_URL));
}

function nmtNfkcCharsmap(): Charsmap {
  nmtNfkc ??= decodeCharsmap(nmtNfkcCharsmapBlob());
  return nmtNfkc;
}

/**
 * The longest key of the trie that is a prefix of bytes[pos..end): darts-clone's
 * commonPrefixSearch, keeping the longest hit. Returns its length in bytes (0: none); its value
 * is lastPrefixValue() (no allocation: this runs once per character of every corpus line).
 */
let hitUnits: Uint32Array = new Uint32Array(1);
let hitId = 0;
export function longestPrefix(units: Uint32Array, bytes: Uint8Array, pos: number, end: number): number {
  // darts-clone unit layout: bit 8 = has leaf, bits 0..7 (+ bit 31) = label, offset packed above bit 9.
  hitUnits = units;
  hitId = -1;
  let unit = units[0]!;
  let id = (unit >>> 10) << ((unit & 0x200) >>> 6);
  let best = 0;
  for (let i = pos; i < end; i++) {
    const c = bytes[i]!;
    id ^= c;
    unit = units[id] ?? 0;
    if ((unit & 0x800000ff) >>> 0 !== c) break;
    id ^= (unit >>> 10) << ((unit & 0x200) >>> 6);
    // Only plain assignments when a key ends here: hits are rare in most text, and an operation
    // V8 has not seen run before optimizing makes it throw the optimized code away (and the
    // normalizer's with it) at the first hit.
    const length = i + 1 - pos;
    if (unit & 0x100) {
      best = length;
      hitId = id;
    }
  }
  return best;
}

/** The value of the key longestPrefix() last found (0 when it found none). */
export function lastPrefixValue(): number {
  const found = hitId >= 0;
  const value = hitUnits[found ? hitId : 0]! & 0x7fffffff; // read either way (see longestPrefix)
  return found ? value : 0;
}

/** Byte length of the UTF-8 character starting with byte `b` (input is always valid UTF-8 here). */
function utf8Length(b: number): number {
  return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/** User-defined symbols are matched before normalization and passed through unchanged. */
export class SymbolMatcher {
  private readonly symbols: Uint8Array[];

  constructor(symbols: readonly string[]) {
    const enc = new TextEncoder();
    this.symbols = symbols.map((s) => enc.encode(s)).sort((a, b) => b.length - a.length);
  }

  get empty(): boolean {
    return this.symbols.length === 0;
  }

  /** Byte length of the longest symbol at bytes[pos..], or 0. */
  match(bytes: Uint8Array, pos: number): number {
    outer: for (const s of this.symbols) {
      if (pos + s.length > bytes.length) continue;
      for (let k = 0; k < s.length; k++) if (bytes[pos + k] !== s[k]) continue outer;
      return s.length;
    }
    return 0;
  }
}

export const NO_SYMBOLS = new SymbolMatcher([]);

/**
 * Walk the input one normalization unit at a time, as spm's NormalizePrefix does: a user symbol,
 * else the longest charsmap key (replaced), else one character (copied).
 * `emit(source, start, end)` receives each unit's normalized bytes.
 */
export function forEachUnit(
  bytes: Uint8Array,
  symbols: SymbolMatcher,
  emit: (source: Uint8Array, start: number, end: number) => void,
): void {
  const { units, replacements, replacementEnd } = nmtNfkcCharsmap();
  let pos = 0;
  while (pos < bytes.length) {
    const sym = symbols.empty ? 0 : symbols.match(bytes, pos);
    if (sym > 0) {
      emit(bytes, pos, pos + sym);
      pos += sym;
      continue;
    }
    const hit = longestPrefix(units, bytes, pos, bytes.length);
    if (hit > 0) {
      const start = lastPrefixValue();
      emit(replacements, start, replacementEnd[start]!);
      pos += hit;
    } else {
      const n = utf8Length(bytes[pos]!);
      emit(bytes, pos, pos + n);
      pos += n;
    }
  }
}

/** A growing byte buffer that the normalizers write into; decoded as UTF-8 at the end. */
export class ByteBuffer {
  bytes = new Uint8Array(256);
  length = 0;

  push(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }

  toString(): string {
    return decoder.decode(this.bytes.subarray(0, this.length));
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * nmt_nfkc normalization without any whitespace handling: what spm's normalizer does to each
 * character (NFKC plus nmt rules: control characters dropped, odd spaces made ' ', …).
 */
export function normalizeNmtNfkc(text: string): string {
  const out = new ByteBuffer();
  forEachUnit(encoder.encode(text), NO_SYMBOLS, (src, start, end) => {
    for (let i = start; i < end; i++) out.push(src[i]!);
  });
  return out.toString();
}
