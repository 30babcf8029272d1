export const BUILTIN_MODEL = 'charge-hashed-ngram-768-v1';
export const BUILTIN_DIMENSIONS = 768;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32-bit step over the UTF-16 code units of one code point. */
function fnvCodePoint(h: number, cp: number): number {
  if (cp > 0xffff) {
    const u = cp - 0x10000;
    h = Math.imul(h ^ (0xd800 + (u >> 10)), FNV_PRIME);
    return Math.imul(h ^ (0xdc00 + (u & 0x3ff)), FNV_PRIME);
  }
  return Math.imul(h ^ cp, FNV_PRIME);
}

/** FNV-1a 32-bit of a string. */
function fnv1a(s: string, h = FNV_OFFSET): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

/** FNV state after the prefixes `1:`, `2:`, `3:`, `w:`. */
const PREFIX = { uni: fnv1a('1:'), bi: fnv1a('2:'), tri: fnv1a('3:'), word: fnv1a('w:') };

const BMP = 0x10000;

/**
 * Features in first-seen order with their summed weights, as a map from each feature's
 * string (`1:a`, `2:ab`, `3:abc`, `w:token`) would hold them, without building the strings:
 * character n-grams are keyed by their code points in an open-addressing table (probed by
 * the feature's FNV hash, which is computed from the code points anyway); the rare
 * non-BMP trigrams and the tokens use a Map.
 */
class FeatureCounts {
  readonly hashes: number[] = [];
  readonly weights: number[] = [];
  private readonly keys: Float64Array;
  /** Index + 1 into hashes/weights; 0 = empty slot. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private readonly byString = new Map<string, number>();

  constructor(maxFeatures: number) {
    let size = 16;
    while (size < maxFeatures * 2) size *= 2;
    this.keys = new Float64Array(size);
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** `key` identifies the n-gram (a safe integer); `hash` is the FNV-1a of its feature string. */
  addNumber(key: number, hash: number, weight: number): void {
    for (let s = hash & this.mask; ; s = (s + 1) & this.mask) {
      const at = this.slots[s];
      if (at === 0) {
        this.slots[s] = this.hashes.length + 1;
        this.keys[s] = key;
        this.hashes.push(hash >>> 0);
        this.weights.push(weight);
        return;
      }
      if (this.keys[s] === key) {
        this.weights[at - 1] += weight;
        return;
      }
    }
  }

  addString(key: string, hash: number, weight: number): void {
    const at = this.byString.get(key);
    if (at !== undefined) {
      this.weights[at] += weight;
      return;
    }
    this.byString.set(key, this.hashes.length);
    this.hashes.push(hash >>> 0);
    this.weights.push(weight);
  }
}

/**
 * The built-in offline embedding: hashed character n-grams (uni-, bi-, trigrams of the
 * normalised text without spaces) and jieba tokens, weighted, summed with sublinear term
 * frequency into 768 signed buckets, L2-normalised. Deterministic and download-free.
 */
export function hashedEmbedding(text: string, tokens: string[], dims = BUILTIN_DIMENSIONS): number[] {
  const normalised = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, ' ');
  const cps: number[] = [];
  for (const c of normalised) if (c !== ' ') cps.push(c.codePointAt(0)!);
  const counts = new FeatureCounts(cps.length * 3);
  for (let i = 0; i < cps.length; i++) {
    const a = cps[i];
    counts.addNumber(-1 - a, fnvCodePoint(PREFIX.uni, a), 0.5);
    if (i + 1 >= cps.length) continue;
    const b = cps[i + 1];
    counts.addNumber(a * 0x110000 + b, fnvCodePoint(fnvCodePoint(PREFIX.bi, a), b), 1);
    if (i + 2 >= cps.length) continue;
    const c = cps[i + 2];
    const hash = fnvCodePoint(fnvCodePoint(fnvCodePoint(PREFIX.tri, a), b), c);
    // Three BMP code points fit a safe integer (below the unigram keys); others are rare.
    if (a < BMP && b < BMP && c < BMP) counts.addNumber(-(2 ** 48) - (a * BMP + b) * BMP - c, hash, 0.75);
    else counts.addString(`3:${a},${b},${c}`, hash, 0.75);
  }
  for (const t of tokens) counts.addString(`w:${t}`, fnv1a(t, PREFIX.word), t.length > 1 ? 2 : 1);
  const v = new Float64Array(dims);
  const { hashes, weights } = counts;
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i];
    v[h % dims] += (h & 0x80000000 ? -1 : 1) * (1 + Math.log(weights[i]));
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(dims);
  for (let i = 0; i < dims; i++) out[i] = v[i] / norm;
  return out;
}
