/**
 * Generates src/text/nmt-nfkc-key-chars.ts: the BMP characters where nmt_nfkc's charsmap can
 * change text, found by enumerating every key of its darts-clone trie (a depth-first walk over
 * byte labels, ~0.4 s). test/normalize-plain.test.ts checks the committed list against it;
 * `node --import tsx test/helpers/nmt-nfkc-keys.ts` prints the list to commit.
 */
import { pathToFileURL } from 'node:url';
import { decodeCharsmap, nmtNfkcCharsmapBlob, type Charsmap } from '../../src/text/normalize.ts';

/**
 * A regular-expression character class body (`\uXXXX` and `\uXXXX-\uYYYY` items) of the BMP
 * characters that are a whole key, or that follow the first character of a longer key.
 */
export function keyCharsClass(charsmap: Charsmap): string {
  const { units } = charsmap;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // (a key may start with U+FEFF)
  const chars = new Set<number>();
  const path: number[] = [];
  const walk = (id: number): void => {
    for (let label = 1; label < 256; label++) {
      const child = id ^ label;
      const unit = units[child] ?? 0;
      if ((unit & 0x800000ff) >>> 0 !== label) continue;
      path.push(label);
      if (unit & 0x100) {
        const cps = Array.from(decoder.decode(new Uint8Array(path)), (c) => c.codePointAt(0)!);
        if (cps.length === 1) chars.add(cps[0]!);
        else for (const c of cps.slice(1)) chars.add(c);
      }
      walk(child ^ ((unit >>> 10) << ((unit & 0x200) >>> 6)));
      path.pop();
    }
  };
  const root = units[0]!;
  walk((root >>> 10) << ((root & 0x200) >>> 6));
  const bmp = [...chars].filter((c) => c < 0xd800 || (c > 0xdfff && c < 0x10000)).sort((a, b) => a - b);
  const ranges: [number, number][] = [];
  for (const c of bmp) {
    const last = ranges.at(-1);
    if (last && last[1] === c - 1) last[1] = c;
    else ranges.push([c, c]);
  }
  const hex = (c: number) => `\\u${c.toString(16).padStart(4, '0')}`;
  return ranges.map(([a, b]) => (a === b ? hex(a) : `${hex(a)}-${hex(b)}`)).join('');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(keyCharsClass(decodeCharsmap(nmtNfkcCharsmapBlob())));
}
