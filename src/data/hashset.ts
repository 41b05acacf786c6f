/**
 * A set of 64-bit hashes in one typed array (open addressing, linear probing), for dedup over
 * corpora of any size: 8 bytes per slot at a load factor of 1/4 to 1/2, i.e. 16–32 bytes per
 * entry, where a JS Set of strings would hold every sentence. Hashes of 0 are stored as 1.
 */
const INITIAL_SLOTS = 1 << 16;

export class HashSet64 {
  /** Slot i is (hi, lo) at [2i, 2i + 1]; (0, 0) means empty. */
  private slots = new Uint32Array(2 * INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  size = 0;

  /** Add (hi, lo); false if it was already there. */
  add(hi: number, lo: number): boolean {
    if (hi === 0 && lo === 0) lo = 1;
    if (2 * (this.size + 1) > this.mask + 1) this.grow();
    if (!this.insert(this.slots, this.mask, hi >>> 0, lo >>> 0)) return false;
    this.size += 1;
    return true;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  private insert(slots: Uint32Array, mask: number, hi: number, lo: number): boolean {
    for (let i = lo & mask; ; i = (i + 1) & mask) {
      const h = slots[2 * i]!;
      const l = slots[2 * i + 1]!;
      if (h === 0 && l === 0) {
        slots[2 * i] = hi;
        slots[2 * i + 1] = lo;
        return true;
      }
      if (h === hi && l === lo) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    const n = 2 * (this.mask + 1);
    this.slots = new Uint32Array(2 * n);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(this.slots, this.mask, old[i]!, old[i + 1]!);
    }
  }
}

/**
 * A 64-bit hash of a sentence pair, as two 32-bit words: two multiplicative lanes over the UTF-16
 * code units, mixed at the end (cyrb53's construction, keeping all 64 bits). A crypto hash would
 * do too but costs ~10 µs a pair through node:crypto; this costs about a nanosecond a character.
 */
export function pairHash(src: string, tgt: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  // LF cannot occur inside a line, so it separates the sides unambiguously.
  const n = src.length + 1 + tgt.length;
  for (let i = 0; i < n; i++) {
    const c = i < src.length ? src.charCodeAt(i) : i === src.length ? 0x0a : tgt.charCodeAt(i - src.length - 1);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h2 >>> 0, h1 >>> 0];
}
