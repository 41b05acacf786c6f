/** "Did you mean …?" for misspelt config keys. */

export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

function initials(key: string): string {
  return key
    .split('_')
    .map((p) => p[0] ?? '')
    .join('');
}

/** The known key closest to `key`, if any is close enough to be a plausible typo or abbreviation. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase().replace(/-/g, '_');
  const exactish = known.find((k) => k.toLowerCase() === lower || initials(k) === lower);
  if (exactish) return exactish;
  let best: string | undefined;
  let bestDist = Infinity;
  for (const k of known) {
    const d = levenshtein(lower, k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  if (best !== undefined && bestDist <= Math.max(2, Math.floor(best.length / 3))) return best;
  return known.find((k) => k.startsWith(lower) || lower.startsWith(k));
}
