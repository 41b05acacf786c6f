/**
 * The cleaning steps, in the order they run, each counted: text steps change both sides of a pair
 * (counted when either side changed), filters drop the pair (counted when they fire first).
 * Training data gets every step; held-out data (valid/test) only the text steps and drop_empty,
 * so that the sets a model is judged on are not made easier by filtering.
 */
import type { CleanConfig } from '../config/sections/data.ts';
import { normalizeNmtNfkc } from '../text/normalize.ts';
import type { Pair } from './corpus.ts';
import { HashSet64, pairHash } from './hashset.ts';

export type StepName =
  | 'remove_control_chars'
  | 'normalize'
  | 'collapse_whitespace'
  | 'drop_empty'
  | 'max_chars'
  | 'max_tokens'
  | 'max_length_ratio'
  | 'drop_src_equals_tgt'
  | 'dedup';

/** What one step did: `changed` pairs (text steps) or `dropped` pairs (filters); `kept` after it. */
export type StepCount = { step: StepName; changed: number; kept: number } | { step: StepName; dropped: number; kept: number };

interface TextStep {
  name: StepName;
  apply: (text: string) => string;
  changed: number;
}

interface Filter {
  name: StepName;
  keep: (pair: Pair) => boolean;
  dropped: number;
}

/** Control characters (Unicode Cc) except TAB, which collapse_whitespace turns into a space. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;
const WHITESPACE_RUN = /\s+/g;

export function removeControlChars(text: string): string {
  return text.replace(CONTROL, '');
}

export function collapseWhitespace(text: string): string {
  // Most lines need nothing: checking first is several times faster than an idle replace().
  let clean = true;
  for (let i = 0, prevSpace = true; i < text.length && clean; i++) {
    const c = text.charCodeAt(i);
    const space = isSpace(c);
    clean = !space || (c === 0x20 && !prevSpace && i < text.length - 1);
    prevSpace = space;
  }
  return clean ? text : text.replace(WHITESPACE_RUN, ' ').trim();
}

/** Whether UTF-16 unit `c` is whitespace in the sense of JavaScript's `\s` (what collapse_whitespace uses). */
function isSpace(c: number): boolean {
  if (c < 0x80) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

/** Whitespace-separated tokens (a loop, not a regex: it runs twice per training pair). */
export function countTokens(text: string): number {
  let n = 0;
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inToken) n += 1;
    inToken = !space;
  }
  return n;
}

/** Characters as code points (a surrogate pair is one character). */
export function countChars(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) n -= 1;
  }
  return n;
}

/** max(a, b) / min(a, b) in tokens; an empty side counts as one token, so ("", "x") is 1. */
export function lengthRatio(a: number, b: number): number {
  return Math.max(a, b) / Math.max(1, Math.min(a, b));
}

export type CleanScope = 'train' | 'heldout';

export class Cleaner {
  private readonly textSteps: TextStep[] = [];
  private readonly filters: Filter[] = [];
  private pairsIn = 0;

  constructor(cfg: CleanConfig, scope: CleanScope) {
    const text = (name: StepName, on: boolean, apply: (t: string) => string): void => {
      if (on) this.textSteps.push({ name, apply, changed: 0 });
    };
    const filter = (name: StepName, on: boolean, keep: (p: Pair) => boolean): void => {
      if (on) this.filters.push({ name, keep, dropped: 0 });
    };
    // Control characters go first: nmt_nfkc would drop most of them too, but then the report
    // would count them as normalization.
    text('remove_control_chars', cfg.remove_control_chars, removeControlChars);
    text('normalize', cfg.normalize, normalizeNmtNfkc);
    text('collapse_whitespace', cfg.collapse_whitespace, collapseWhitespace);
    filter('drop_empty', cfg.drop_empty, (p) => p.src.trim() !== '' && p.tgt.trim() !== '');
    if (scope === 'heldout') return;
    filter('max_chars', true, (p) => countChars(p.src) <= cfg.max_chars && countChars(p.tgt) <= cfg.max_chars);
    filter('max_tokens', true, (p) => countTokens(p.src) <= cfg.max_tokens && countTokens(p.tgt) <= cfg.max_tokens);
    filter('max_length_ratio', true, (p) => lengthRatio(countTokens(p.src), countTokens(p.tgt)) <= cfg.max_length_ratio);
    filter('drop_src_equals_tgt', cfg.drop_src_equals_tgt, (p) => p.src !== p.tgt);
    if (cfg.dedup) {
      const seen = new HashSet64();
      filter('dedup', true, (p) => seen.add(...pairHash(p.src, p.tgt)));
    }
  }

  /** The cleaned pair, or null when a filter drops it. */
  clean(pair: Pair): Pair | null {
    this.pairsIn += 1;
    let { src, tgt } = pair;
    for (const step of this.textSteps) {
      const s = step.apply(src);
      const t = step.apply(tgt);
      if (s !== src || t !== tgt) step.changed += 1;
      src = s;
      tgt = t;
    }
    const out = { src, tgt };
    for (const f of this.filters) {
      if (!f.keep(out)) {
        f.dropped += 1;
        return null;
      }
    }
    return out;
  }

  /** Per-step counts, in the order the steps ran. */
  counts(): StepCount[] {
    const rows: StepCount[] = this.textSteps.map((s) => ({ step: s.name, changed: s.changed, kept: this.pairsIn }));
    let kept = this.pairsIn;
    for (const f of this.filters) {
      kept -= f.dropped;
      rows.push({ step: f.name, dropped: f.dropped, kept });
    }
    return rows;
  }
}
