/**
 * Python string semantics that sacreBLEU's results depend on, reproduced in JavaScript.
 *
 * sacreBLEU splits with `str.split()`, strips with `str.strip()`/`rstrip()` and counts code points.
 * JavaScript's `\s` and `trim()` use a different whitespace set (they include U+FEFF and lack
 * U+001C–U+001F and U+0085), and `.length` counts UTF-16 units, so neither can be used directly.
 */

/** The characters for which Python's `str.isspace()` is true (as a regex class body). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'u');
const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, 'u');
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, 'u');

/** Python's `s.split()`: split on runs of whitespace, no empty strings at either end. */
export function pySplit(s: string): string[] {
  const parts = s.split(SPACE_RUN);
  if (parts.length > 0 && parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Python's `' '.join(s.split())`: single spaces between words, none at the ends. */
export function squeezeSpaces(s: string): string {
  return pySplit(s).join(' ');
}

/** Python's `s.rstrip()`. */
export function pyRstrip(s: string): string {
  return s.replace(TRAILING_SPACE, '');
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(LEADING_SPACE, '').replace(TRAILING_SPACE, '');
}

/**
 * Python's `s.lower()`. JavaScript's locale-independent lowercasing applies the same full mappings
 * (İ → i̇, final sigma); the two differ only on characters added after Unicode 14.
 */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

/**
 * Python's `f'{x:.{digits}f}'`, how sacreBLEU prints scores. JavaScript's `toFixed` rounds the
 * same exact binary value, but breaks an exact tie away from zero where Python rounds it to
 * even (6.25 → '6.3' vs '6.2'). A tie at `digits` decimals is a value m / 2^(digits+1) with m
 * odd; only then can the answers differ.
 */
export function pyFixed(x: number, digits: number): string {
  const away = x.toFixed(digits);
  const scaled = x * 2 ** (digits + 1);
  if (!Number.isInteger(scaled) || scaled % 2 === 0) return away;
  const last = away.charCodeAt(away.length - 1) - 48;
  // The even neighbour toward zero: the odd last digit less one (never a borrow).
  return last % 2 === 0 ? away : away.slice(0, -1) + String(last - 1);
}
