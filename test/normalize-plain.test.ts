/**
 * The subword normalizer's plain-line path: lines with no character of an nmt_nfkc charsmap key
 * skip the byte-by-byte lookup. Its list of key characters must be the charsmap's, and both
 * paths must give the same text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_WHITESPACE, isPlain, normalizeForModel, normalizeUnits } from '../src/subword/normalize.ts';
import { NMT_NFKC_KEY_CHARS } from '../src/text/nmt-nfkc-key-chars.ts';
import { NO_SYMBOLS, decodeCharsmap, nmtNfkcCharsmapBlob } from '../src/text/normalize.ts';
import { mulberry32 } from '../src/util/random.ts';
import { keyCharsClass } from './helpers/nmt-nfkc-keys.ts';

/**
 * Characters lines are drawn from: plain ones (letters, digits, punctuation, Hangul, kana) mostly,
 * and some that start or continue a charsmap key (combining marks, conjoining jamo, no-break and
 * ideographic spaces, full-width letters, ligatures, controls, tabs, a BOM), `▁`, and an astral one.
 */
const PLAIN = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?\'"()[]-/&%$#@<>=', ...'한국어문장입니다가각ひらがなカタカナ漢字', 'é', 'ß', 'ø'];
const SPECIAL = ['\u0301', '\u0308', '\u1161', '\u11a8', '\u00a0', '\u3000', 'Ａ', 'ﬁ', '\u0001', '\t', '\u2581', '😀', '…', '²', '\u200b', '\ufeff'];

function randomLine(next: () => number): string {
  const length = Math.floor(next() * 40);
  let line = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    if (r < 0.2) line += ' '.repeat(1 + Math.floor(next() * 3));
    else if (r < 0.23) line += SPECIAL[Math.floor(next() * SPECIAL.length)]!;
    else line += PLAIN[Math.floor(next() * PLAIN.length)]!;
  }
  return line;
}

describe('normalizer plain-line path', () => {
  it("lists exactly the BMP characters of the charsmap's keys (a whole key, or after a key's first character)", () => {
    const enumerated = keyCharsClass(decodeCharsmap(nmtNfkcCharsmapBlob()));
    assert.equal(NMT_NFKC_KEY_CHARS, enumerated, 'regenerate src/text/nmt-nfkc-key-chars.ts with test/helpers/nmt-nfkc-keys.ts');
  });

  it('gives the same text as the unit-by-unit normalizer on 20,000 random lines, plain and not', () => {
    const next = mulberry32(15); // seeded, so that a failure can be rerun
    let plain = 0;
    for (let i = 0; i < 20000; i++) {
      const line = randomLine(next);
      if (isPlain(line)) plain++;
      assert.equal(normalizeForModel(line), normalizeUnits(line, DEFAULT_WHITESPACE, NO_SYMBOLS), `line ${i}: ${JSON.stringify(line)}`);
    }
    // Both kinds were drawn, so both paths ran.
    assert.ok(plain > 2000 && plain < 18000, `${plain} plain lines of 20,000`);
  });

  it('keeps the whitespace steps on plain lines: edges dropped, runs collapsed, `▁` for spaces', () => {
    assert.equal(normalizeForModel('   a  b c   '), '▁a▁b▁c');
    assert.equal(normalizeForModel('한국어  문장'), '▁한국어▁문장');
    assert.equal(normalizeForModel('     '), '');
    assert.equal(normalizeForModel('x \ufeffy'), '▁x▁y', 'U+FEFF is a charsmap key (a space): the unit path collapses it');
  });
});
