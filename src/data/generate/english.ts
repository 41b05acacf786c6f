/** English morphology the generated corpus needs: third-person -s, a/an, sentence case. */

/** "sees", "watches", "carries", "goes". */
export function thirdSingular(verb: string): string {
  if (/(s|sh|ch|x|z|o)$/.test(verb)) return verb + 'es';
  if (/[^aeiou]y$/.test(verb)) return verb.slice(0, -1) + 'ies';
  return verb + 's';
}

/** The indefinite article before `word` (spelling-based; the lexicon has no "hour"/"unit" cases). */
export function indefiniteArticle(word: string): 'a' | 'an' {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
