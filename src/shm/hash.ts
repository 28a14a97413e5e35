// The one hash of the shared open-addressing tables (pre-state, location table): murmur3's
// word mixing over u32 key words. Tables probe linearly from `hash & mask`.

export function mixWord(hash: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  hash ^= k;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

export function finishHash(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/** Hash of `count` words starting at key[offset], seeded (pre-state slots use the account handle). */
export function hashWords(key: ArrayLike<number>, offset: number, count: number, seed: number): number {
  let hash = seed;
  for (let i = 0; i < count; i++) hash = mixWord(hash, key[offset + i]! | 0);
  return finishHash(hash ^ count);
}
