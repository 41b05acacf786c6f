/**
 * The Unicode script of a character, for SentencePiece's rule that a piece may not mix scripts.
 * JavaScript has no API that names a character's script, but its regular expressions know the
 * Script property, so each script is tried in turn (most common first) and the answer cached.
 */

/** Script names as JavaScript's `\p{Script=…}` spells them (Unicode 15; Node 20 knows them all). */
const SCRIPT_NAMES = (
  'Latin Common Inherited Han Hiragana Katakana Hangul Cyrillic Greek Arabic Hebrew Devanagari Thai ' +
  'Adlam Ahom Anatolian_Hieroglyphs Armenian Avestan Balinese Bamum Bassa_Vah Batak Bengali Bhaiksuki ' +
  'Bopomofo Brahmi Braille Buginese Buhid Canadian_Aboriginal Carian Caucasian_Albanian Chakma Cham ' +
  'Cherokee Chorasmian Coptic Cuneiform Cypriot Cypro_Minoan Deseret Dives_Akuru Dogra Duployan ' +
  'Egyptian_Hieroglyphs Elbasan Elymaic Ethiopic Georgian Glagolitic Gothic Grantha Gujarati ' +
  'Gunjala_Gondi Gurmukhi Hanifi_Rohingya Hanunoo Hatran Imperial_Aramaic Inscriptional_Pahlavi ' +
  'Inscriptional_Parthian Javanese Kaithi Kannada Kawi Kayah_Li Kharoshthi Khitan_Small_Script Khmer ' +
  'Khojki Khudawadi Lao Lepcha Limbu Linear_A Linear_B Lisu Lycian Lydian Mahajani Makasar Malayalam ' +
  'Mandaic Manichaean Marchen Masaram_Gondi Medefaidrin Meetei_Mayek Mende_Kikakui Meroitic_Cursive ' +
  'Meroitic_Hieroglyphs Miao Modi Mongolian Mro Multani Myanmar Nabataean Nag_Mundari Nandinagari ' +
  'New_Tai_Lue Newa Nko Nushu Nyiakeng_Puachue_Hmong Ogham Ol_Chiki Old_Hungarian Old_Italic ' +
  'Old_North_Arabian Old_Permic Old_Persian Old_Sogdian Old_South_Arabian Old_Turkic Old_Uyghur Oriya ' +
  'Osage Osmanya Pahawh_Hmong Palmyrene Pau_Cin_Hau Phags_Pa Phoenician Psalter_Pahlavi Rejang Runic ' +
  'Samaritan Saurashtra Sharada Shavian Siddham SignWriting Sinhala Sogdian Sora_Sompeng Soyombo ' +
  'Sundanese Syloti_Nagri Syriac Tagalog Tagbanwa Tai_Le Tai_Tham Tai_Viet Takri Tamil Tangsa Tangut ' +
  'Telugu Thaana Tibetan Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Warang_Citi Yezidi Yi ' +
  'Zanabazar_Square'
).split(' ');

/** Script ids: the index in SCRIPT_NAMES. */
export const Script = {
  Latin: 0,
  Common: 1,
  Inherited: 2,
  Han: 3,
  Hiragana: 4,
  Katakana: 5,
} as const;

const SCRIPT_TESTS = SCRIPT_NAMES.map((name) => new RegExp(`^\\p{Script=${name}}$`, 'u'));
/** Scripts of the Basic Multilingual Plane, looked up once each (−1: not yet); a Map for the rest. */
const bmp = new Int16Array(0x10000).fill(-1);
const astral = new Map<number, number>();

function lookUp(cp: number): number {
  const ch = String.fromCodePoint(cp);
  const s = SCRIPT_TESTS.findIndex((re) => re.test(ch));
  return s < 0 ? Script.Common : s;
}

/** The script id of code point `cp`; characters JavaScript does not place count as Common, as in spm. */
export function scriptOf(cp: number): number {
  if (cp < 0x10000) {
    let s = bmp[cp]!;
    if (s < 0) s = bmp[cp] = lookUp(cp);
    return s;
  }
  let s = astral.get(cp);
  if (s === undefined) astral.set(cp, (s = lookUp(cp)));
  return s;
}
