/**
 * Korean morphology for the generated corpus: Hangul syllable arithmetic, particle allomorphs
 * chosen by the final consonant (batchim) of the preceding syllable, and verb conjugation.
 *
 * A precomposed Hangul syllable is 0xAC00 + (initial * 21 + medial) * 28 + final, with final 0
 * meaning "no batchim" (Unicode 3.12), so batchim is read off the code point, not a table.
 */

const HANGUL_FIRST = 0xac00;
const HANGUL_LAST = 0xd7a3;
/** Final-consonant indices used below. */
const FINAL_NIEUN = 4; // ㄴ
const FINAL_RIEUL = 8; // ㄹ
const FINAL_SSANGSIOS = 20; // ㅆ

function lastSyllable(word: string): number {
  const code = word.codePointAt(word.length - 1);
  if (code === undefined || code < HANGUL_FIRST || code > HANGUL_LAST) {
    throw new Error(`not a word ending in a Hangul syllable: ${JSON.stringify(word)}`);
  }
  return code;
}

/** Index of the final consonant of the word's last syllable (0 = none). */
function finalConsonant(word: string): number {
  return (lastSyllable(word) - HANGUL_FIRST) % 28;
}

function hasBatchim(word: string): boolean {
  return finalConsonant(word) !== 0;
}

/** The word with its last syllable's final consonant replaced by `final` (0 removes it). */
function withFinal(word: string, final: number): string {
  const code = lastSyllable(word);
  const base = code - ((code - HANGUL_FIRST) % 28);
  return word.slice(0, -1) + String.fromCodePoint(base + final);
}

export type ParticleKind = 'subject' | 'topic' | 'object' | 'and' | 'location' | 'goal' | 'recipient';

/** [after a final consonant, after a vowel]; the last three do not alternate. */
const PARTICLES: Record<ParticleKind, readonly [string, string]> = {
  subject: ['이', '가'],
  topic: ['은', '는'],
  object: ['을', '를'],
  and: ['과', '와'],
  location: ['에서', '에서'],
  goal: ['에', '에'],
  recipient: ['에게', '에게'],
};

/** The allomorph of a particle that follows `word`. */
export function particleFor(kind: ParticleKind, word: string): string {
  const [afterConsonant, afterVowel] = PARTICLES[kind];
  return hasBatchim(word) ? afterConsonant : afterVowel;
}

/**
 * A verb (or descriptive verb) as the lexicon gives it: the stem (보, 먹, 만들) and the
 * 아/어 form (봐, 먹어, 만들어), which carries the irregular contractions; every other form
 * is regular given these two.
 */
export interface KoVerb {
  stem: string;
  inf: string;
}

export type Tense = 'present' | 'past';
export type Register = 'plain' | 'polite';

/** Past stem: the 아/어 form with ㅆ as its final (봐 → 봤, 먹어 → 먹었). */
function pastStem(v: KoVerb): string {
  return withFinal(v.inf, FINAL_SSANGSIOS);
}

function isRieulStem(v: KoVerb): boolean {
  return finalConsonant(v.stem) === FINAL_RIEUL;
}

/** The sentence-final declarative form: 본다 / 봤다 (plain), 봐요 / 봤어요 (polite). */
export function finalForm(v: KoVerb, tense: Tense, register: Register): string {
  if (tense === 'past') return pastStem(v) + (register === 'plain' ? '다' : '어요');
  if (register === 'polite') return v.inf + '요';
  // Plain present: ㄴ다 after a vowel (ㄹ drops: 만들 → 만든다), 는다 after a consonant.
  if (isRieulStem(v) || !hasBatchim(v.stem)) return withFinal(v.stem, FINAL_NIEUN) + '다';
  return v.stem + '는다';
}

/** Adnominal (relative-clause) form: 보는 / 본, 먹는 / 먹은, 만드는 / 만든. */
export function adnominalForm(v: KoVerb, tense: Tense): string {
  if (isRieulStem(v)) return tense === 'present' ? withFinal(v.stem, 0) + '는' : withFinal(v.stem, FINAL_NIEUN);
  if (tense === 'present') return v.stem + '는';
  return hasBatchim(v.stem) ? v.stem + '은' : withFinal(v.stem, FINAL_NIEUN);
}

export type Connective = 'and' | 'but' | 'because';

const CONNECTIVE_ENDINGS: Record<Connective, string> = { and: '고', but: '지만', because: '기' };

/** A clause-linking form: 보고 / 봤고, 보지만 / 봤지만, 보기 / 봤기 (+ 때문에). */
export function connectiveForm(v: KoVerb, tense: Tense, conn: Connective): string {
  return (tense === 'past' ? pastStem(v) : v.stem) + CONNECTIVE_ENDINGS[conn];
}

/** Native Korean numerals in their attributive form (before a counter), 1..10. */
export const KO_NUMBERS: readonly string[] = ['한', '두', '세', '네', '다섯', '여섯', '일곱', '여덟', '아홉', '열'];
