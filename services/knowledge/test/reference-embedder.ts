/**
 * The built-in embedding's definition as first written (string features in a Map): the
 * optimised src/domain/hashed-embedder.ts must give exactly these vectors, or stored vectors
 * of `charge-hashed-ngram-768-v1` collections would no longer match their queries.
 */
const BUILTIN_DIMENSIONS = 768;

/** FNV-1a 32-bit. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function referenceEmbedding(text: string, tokens: string[], dims = BUILTIN_DIMENSIONS): number[] {
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const chars = [
    ...text
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[\s\p{P}\p{S}]+/gu, ' '),
  ];
  const compact = chars.filter((c) => c !== ' ');
  for (let i = 0; i < compact.length; i++) {
    add(`1:${compact[i]}`, 0.5);
    if (i + 1 < compact.length) add(`2:${compact[i]}${compact[i + 1]}`, 1);
    if (i + 2 < compact.length) add(`3:${compact[i]}${compact[i + 1]}${compact[i + 2]}`, 0.75);
  }
  for (const t of tokens) add(`w:${t}`, t.length > 1 ? 2 : 1);
  const v = new Float64Array(dims);
  for (const [feature, weight] of counts) {
    const h = fnv1a(feature);
    v[h % dims] += (h & 0x80000000 ? -1 : 1) * (1 + Math.log(weight));
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Array.from(v, (x) => x / norm);
}
