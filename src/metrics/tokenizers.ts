/**
 * sacreBLEU's tokenizers: `13a`, `intl`, `zh`, `char` and `none` for BLEU, and the tercom
 * normalizer for TER. Each maps a line to a space-separated token string, exactly as sacreBLEU
 * 2.6.0 does (its regular expressions and quirks included; see the comments).
 */
import { pyLower, pyStrip, squeezeSpaces } from './text.ts';

export const BLEU_TOKENIZERS = ['13a', 'intl', 'zh', 'char', 'none'] as const;
export type BleuTokenizerName = (typeof BLEU_TOKENIZERS)[number];

type Rule = [RegExp, string];

function applyRules(line: string, rules: Rule[]): string {
  for (const [re, replacement] of rules) line = line.replace(re, replacement);
  return line;
}

/** mteval-v13a's language-dependent rules, shared by `13a` and `zh`. */
const MTEVAL_RULES: Rule[] = [
  // ASCII punctuation and symbols, except period, comma, hyphen and apostrophe
  [/([{-~\[-` -&(-+:-@\/])/gu, ' $1 '],
  // period and comma unless preceded by a digit
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // period and comma unless followed by a digit
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // dash when preceded by a digit
  [/([0-9])(-)/gu, '$1 $2 '],
];

function mtevalRules(line: string): string {
  return squeezeSpaces(applyRules(line, MTEVAL_RULES));
}

function tokenize13a(line: string): string {
  line = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (line.includes('&')) {
    line = line.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  return mtevalRules(` ${line} `);
}

/** mteval-v14's international tokenization: Unicode punctuation and symbols. */
const INTL_RULES: Rule[] = [
  [/(\P{N})(\p{P})/gu, '$1 $2 '],
  [/(\p{P})(\P{N})/gu, ' $1 $2'],
  [/(\p{S})/gu, ' $1 '],
];

function tokenizeIntl(line: string): string {
  return squeezeSpaces(applyRules(line, INTL_RULES));
}

/**
 * Code point ranges that the `zh` tokenizer splits into single-character tokens.
 * sacreBLEU writes two of its ranges as '\u20000'–'\u2a6d6' and '\u2f800'–'\u2fa1d', which
 * Python reads as two-character strings ('\u2000' + '0', …); compared with one character they
 * select U+2001–U+2A6D (general punctuation, symbols, arrows, …) and U+2F81–U+2FA1, and the
 * CJK Extension B block itself is not split. We reproduce what it does, not what it meant.
 */
const ZH_RANGES: [number, number][] = [
  [0x3400, 0x4db5],
  [0x4e00, 0x9fa5],
  [0x9fa6, 0x9fbb],
  [0xf900, 0xfa2d],
  [0xfa30, 0xfa6a],
  [0xfa70, 0xfad9],
  [0x2001, 0x2a6d],
  [0x2f81, 0x2fa1],
  [0xff00, 0xffef],
  [0x2e80, 0x2eff],
  [0x3000, 0x303f],
  [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf],
  [0x2ff0, 0x2fff],
  [0x3100, 0x312f],
  [0x31a0, 0x31bf],
  [0xfe10, 0xfe1f],
  [0xfe30, 0xfe4f],
  [0x2600, 0x26ff],
  [0x2700, 0x27bf],
  [0x3200, 0x32ff],
  [0x3300, 0x33ff],
];

function isZhChar(cp: number): boolean {
  return ZH_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi);
}

function tokenizeZh(line: string): string {
  let spaced = '';
  for (const ch of pyStrip(line)) {
    spaced += isZhChar(ch.codePointAt(0)!) ? ` ${ch} ` : ch;
  }
  // Unlike 13a: no entity unescaping and no padding with spaces.
  return mtevalRules(spaced);
}

function tokenizeChar(line: string): string {
  return Array.from(line).join(' ');
}

const BLEU_TOKENIZE: Record<BleuTokenizerName, (line: string) => string> = {
  '13a': tokenize13a,
  intl: tokenizeIntl,
  zh: tokenizeZh,
  char: tokenizeChar,
  none: (line) => line,
};

export function bleuTokenizer(name: BleuTokenizerName): (line: string) => string {
  return BLEU_TOKENIZE[name];
}

export interface TercomOptions {
  normalized: boolean;
  noPunct: boolean;
  asianSupport: boolean;
  caseSensitive: boolean;
}

/** tercom's general and Western normalization (Normalizer.java), as ported by sacreBLEU. */
const TERCOM_WESTERN_RULES: Rule[] = [
  [/([{-~\[-` -&(-+:-@\/])/gu, ' $1 '],
  // possessives
  [/'s /gu, " 's "],
  [/'s$/gu, " 's"],
  [/([^0-9])([.,])/gu, '$1 $2 '],
  [/([.,])([^0-9])/gu, ' $1 $2'],
  [/([0-9])(-)/gu, '$1 $2 '],
];

function normalizeWestern(sent: string): string {
  sent = sent.replaceAll('\n-', '').replaceAll('\n', ' ');
  sent = sent.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  return applyRules(` ${sent} `, TERCOM_WESTERN_RULES);
}

const ASIAN_PUNCT = /([\u3001\u3002\u3008-\u3011\u3014-\u301f\uff61-\uff65\u30fb])/gu;
const FULL_WIDTH_PUNCT = /([\uff0e\uff0c\uff1f\uff1a\uff1b\uff01\uff02\uff08\uff09])/gu;

/**
 * CJK splitting. The kana rules are tercom's as sacreBLEU wrote them: their `^[…]` alternatives
 * can only match at the start of the line, so they rarely fire; kept as they are for equal scores.
 */
const TERCOM_ASIAN_RULES: Rule[] = [
  [/([\u4e00-\u9fff\u3400-\u4dbf])/gu, ' $1 '],
  [/([\u31c0-\u31ef\u2e80-\u2eff])/gu, ' $1 '],
  [/([\u3300-\u33ff\uf900-\ufaff\ufe30-\ufe4f])/gu, ' $1 '],
  [/([\u3200-\u3f22])/gu, ' $1 '],
  [/(^|^[\u3040-\u309f])([\u3040-\u309f]+)(?=$|^[\u3040-\u309f])/gu, '$1 $2 '],
  [/(^|^[\u30a0-\u30ff])([\u30a0-\u30ff]+)(?=$|^[\u30a0-\u30ff])/gu, '$1 $2 '],
  [/(^|^[\u31f0-\u31ff])([\u31f0-\u31ff]+)(?=$|^[\u31f0-\u31ff])/gu, '$1 $2 '],
  [ASIAN_PUNCT, ' $1 '],
  [FULL_WIDTH_PUNCT, ' $1 '],
];

const PUNCT = /[.,?:;!"()]/gu;

/** The tercom tokenizer used by TER: lowercasing, optional normalization and punctuation removal. */
export function tercomTokenize(sent: string, opts: TercomOptions): string {
  if (!sent) return '';
  if (!opts.caseSensitive) sent = pyLower(sent);
  if (opts.normalized) {
    sent = normalizeWestern(sent);
    if (opts.asianSupport) sent = applyRules(sent, TERCOM_ASIAN_RULES);
  }
  if (opts.noPunct) {
    sent = sent.replace(PUNCT, '');
    if (opts.asianSupport) sent = sent.replace(ASIAN_PUNCT, '').replace(FULL_WIDTH_PUNCT, '');
  }
  return squeezeSpaces(sent);
}
