/**
 * The iteration order of a C++ `std::unordered_map<uint64_t, T>` as libstdc++ (GCC 12, the
 * library Debian's spm_train runs with) keeps it, for keys inserted and erased in a given order.
 *
 * spm 0.1.97's BPE trainer picks its candidate pairs by scanning such a map (its
 * `absl::flat_hash_map` is an alias of std::unordered_map in the absl copy it bundles) and
 * keeping the most frequent 5% with std::partial_sort, which breaks ties by position. To make the
 * same choices, mt replays the map's structure: one singly linked list of all nodes, in which each
 * bucket's nodes are contiguous; `buckets[b]` is the node before bucket b's first node (or the
 * list head); a node goes to the front of its bucket, or of the list when its bucket is empty;
 * the hash of a uint64 is the value itself and its bucket the value modulo the bucket count, a
 * prime from the rehash policy (grow when size would exceed the bucket count, to the next prime
 * ≥ max(2 × buckets, size + 1)); a rehash relinks the nodes in list order.
 * test/subword-parity.test.ts checks an insert/erase sequence against g++ 12's library; random
 * sequences of 100,000 operations gave the same order as the C++ map when this was written.
 */

/** libstdc++'s __prime_list from 17 on (_Prime_rehash_policy::_M_next_bkt, GCC 12). */
const PRIMES = [
  17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 103, 109, 113, 127, 137, 139, 149, 157, 167, 179, 193, 199, 211, 227, 241,
  257, 277, 293, 313, 337, 359, 383, 409, 439, 467, 503, 541, 577, 619, 661, 709, 761, 823, 887, 953, 1031, 1109, 1193, 1289, 1381, 1493, 1613, 1741,
  1879, 2029, 2179, 2357, 2549, 2753, 2971, 3209, 3469, 3739, 4027, 4349, 4703, 5087, 5503, 5953, 6427, 6949, 7517, 8123, 8783, 9497, 10273, 11113,
  12011, 12983, 14033, 15173, 16411, 17749, 19183, 20753, 22447, 24281, 26267, 28411, 30727, 33223, 35933, 38873, 42043, 45481, 49201, 53201, 57557,
  62233, 67307, 72817, 78779, 85229, 92203, 99733, 107897, 116731, 126271, 136607, 147793, 159871, 172933, 187091, 202409, 218971, 236897, 256279,
  277261, 299951, 324503, 351061, 379787, 410857, 444487, 480881, 520241, 562841, 608903, 658753, 712697, 771049, 834181, 902483, 976369, 1056323,
  1142821, 1236397, 1337629, 1447153, 1565659, 1693859, 1832561, 1982627, 2144977, 2320627, 2510653, 2716249, 2938679, 3179303, 3439651, 3721303,
  4026031, 4355707, 4712381, 5098259, 5515729, 5967347, 6456007, 6984629, 7556579, 8175383, 8844859, 9569143, 10352717, 11200489, 12117689, 13109983,
  14183539, 15345007, 16601593, 17961079, 19431899, 21023161, 22744717, 24607243, 26622317, 28802401, 31160981, 33712729, 36473443, 39460231,
  42691603, 46187573, 49969847, 54061849, 58488943, 63278561, 68460391, 74066549, 80131819, 86693767, 93793069, 101473717, 109783337, 118773397,
  128499677, 139022417, 150406843, 162723577, 176048909, 190465427, 206062531, 222936881, 241193053, 260944219, 282312799, 305431229, 330442829,
  357502601, 386778277, 418451333, 452718089, 489790921, 529899637, 573292817, 620239453, 671030513, 725980837, 785430967, 849749479, 919334987,
  994618837, 1076067617, 1164186217, 1259520799, 1362662261, 1474249943, 1594975441, 1725587117, 1866894511, 2019773507, 2185171673, 2364114217,
  2557710269, 2767159799, 2993761039, 3238918481, 3504151727, 3791104843, 4101556399, 4294967291,
];
/** _M_next_bkt for n < 14. */
const FAST_BUCKETS = [2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13];

const NONE = -1;
/** The list head (_M_before_begin) as a "node before". */
const HEAD = -2;

/** A 64-bit key as two uint32 halves; its bucket is (hi × 2³² + lo) mod count. */
function bucketOf(hi: number, lo: number, count: number): number {
  // (hi mod n) × 2³² + lo, reduced in 16-bit steps so that every product stays below 2⁵³.
  let r = hi % count;
  r = (r * 65536) % count;
  r = (r * 65536 + lo) % count;
  return r;
}

/**
 * Nodes are small integers chosen by the caller (spm's Symbol objects), each with a 64-bit key.
 * Only the structure is kept — no lookup by key; the caller knows which nodes are present.
 */
export class CxxHashMapOrder {
  private bucketCount = 1;
  private buckets = new Int32Array(1).fill(NONE);
  private head = NONE;
  private next = new Int32Array(1024).fill(NONE);
  private keyHi = new Uint32Array(1024);
  private keyLo = new Uint32Array(1024);
  private count = 0;
  /** _Prime_rehash_policy::_M_next_resize. */
  private nextResize = 0;

  get size(): number {
    return this.count;
  }

  private bucket(node: number): number {
    return bucketOf(this.keyHi[node]!, this.keyLo[node]!, this.bucketCount);
  }

  private nextBucketCount(n: number): number {
    if (n < FAST_BUCKETS.length) {
      if (n === 0) return 1;
      this.nextResize = FAST_BUCKETS[n]!;
      return FAST_BUCKETS[n]!;
    }
    let lo = 0;
    let hi = PRIMES.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (PRIMES[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    this.nextResize = PRIMES[lo]!;
    return PRIMES[lo]!;
  }

  /** Insert `node` (not present) with key hi × 2³² + lo. */
  insert(node: number, hi: number, lo: number): void {
    if (node >= this.next.length) {
      let n = this.next.length;
      while (n <= node) n *= 2;
      const next = new Int32Array(n).fill(NONE);
      next.set(this.next);
      this.next = next;
      const h = new Uint32Array(n);
      h.set(this.keyHi);
      this.keyHi = h;
      const l = new Uint32Array(n);
      l.set(this.keyLo);
      this.keyLo = l;
    }
    this.keyHi[node] = hi >>> 0;
    this.keyLo[node] = lo >>> 0;
    // _M_need_rehash(bucket count, size, 1).
    if (this.count + 1 > this.nextResize) {
      const minBuckets = Math.max(this.count + 1, this.nextResize ? 0 : 11);
      if (minBuckets >= this.bucketCount) this.rehash(this.nextBucketCount(Math.max(Math.floor(minBuckets) + 1, this.bucketCount * 2)));
      else this.nextResize = this.bucketCount;
    }
    const b = this.bucket(node);
    const before = this.buckets[b]!;
    if (before !== NONE) {
      this.next[node] = before === HEAD ? this.head : this.next[before]!;
      if (before === HEAD) this.head = node;
      else this.next[before] = node;
    } else {
      this.next[node] = this.head;
      this.head = node;
      if (this.next[node] !== NONE) this.buckets[this.bucket(this.next[node]!)] = node;
      this.buckets[b] = HEAD;
    }
    this.count++;
  }

  /** Erase `node` (present). */
  erase(node: number): void {
    const b = this.bucket(node);
    // The node before it: walk from the bucket's "before" node.
    let prev = this.buckets[b]!;
    while ((prev === HEAD ? this.head : this.next[prev]!) !== node) prev = prev === HEAD ? this.head : this.next[prev]!;
    const after = this.next[node]!;
    if (prev === this.buckets[b]) {
      // The node was its bucket's first: the bucket may now be empty.
      const afterBucket = after !== NONE ? this.bucket(after) : 0;
      if (after === NONE || afterBucket !== b) {
        if (after !== NONE) this.buckets[afterBucket] = this.buckets[b]!;
        this.buckets[b] = NONE;
      }
    } else if (after !== NONE) {
      const afterBucket = this.bucket(after);
      if (afterBucket !== b) this.buckets[afterBucket] = prev;
    }
    if (prev === HEAD) this.head = after;
    else this.next[prev] = after;
    this.next[node] = NONE;
    this.count--;
  }

  private rehash(count: number): void {
    const buckets = new Int32Array(count).fill(NONE);
    let p = this.head;
    this.head = NONE;
    let headBucket = 0;
    while (p !== NONE) {
      const after = this.next[p]!;
      const b = bucketOf(this.keyHi[p]!, this.keyLo[p]!, count);
      if (buckets[b] === NONE) {
        this.next[p] = this.head;
        this.head = p;
        buckets[b] = HEAD;
        if (this.next[p] !== NONE) buckets[headBucket] = p;
        headBucket = b;
      } else {
        const before = buckets[b]!;
        if (before === HEAD) {
          this.next[p] = this.head;
          this.head = p;
        } else {
          this.next[p] = this.next[before]!;
          this.next[before] = p;
        }
      }
      p = after;
    }
    this.buckets = buckets;
    this.bucketCount = count;
  }

  /** The nodes in iteration order. */
  forEach(visit: (node: number) => void): void {
    for (let p = this.head; p !== NONE; p = this.next[p]!) visit(p);
  }

  /** The nodes in iteration order, into `out` (reused); returns how many. */
  order(out: Int32Array): number {
    let n = 0;
    const next = this.next;
    for (let p = this.head; p !== NONE; p = next[p]!) out[n++] = p;
    return n;
  }
}
