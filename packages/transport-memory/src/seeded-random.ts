import type { RandomSource } from "@lockstep/consensus";

const uint32Range = 0x1_0000_0000;

/**
 * A seeded generator: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG; passes PractRand to
 * terabytes, 128 bits of state), its four state words filled by splitmix32 from the seed so that
 * nearby seeds (1, 2, 3...) give unrelated streams. Returns numbers in [0, 1) with 32 random bits.
 * The same seed gives the same sequence on every platform: only 32-bit integer arithmetic is used.
 */
export function createRandom(seed: number): RandomSource {
  if (!Number.isFinite(seed)) throw new Error(`createRandom: seed must be a finite number, got ${seed}`);
  const next = splitmix32(Math.trunc(seed) >>> 0);
  let a = next();
  let b = next();
  let c = next();
  let d = next();
  const generator = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / uint32Range;
  };
  // sfc32's authors discard the first outputs so that a weak seed state is mixed before use.
  for (let i = 0; i < 12; i++) generator();
  return generator;
}

/** Sebastiano Vigna's splitmix, 32-bit variant: a seed expander whose outputs are well mixed. */
function splitmix32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A uniform integer in [lo, hiExclusive). Both bounds must be integers with lo < hiExclusive:
 * anything else is a caller's bug, so it throws.
 */
export function randomInt(random: RandomSource, lo: number, hiExclusive: number): number {
  if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hiExclusive) || lo >= hiExclusive) {
    throw new Error(`randomInt: need integers lo < hiExclusive, got [${lo}, ${hiExclusive})`);
  }
  return lo + Math.floor(random() * (hiExclusive - lo));
}

/**
 * A new, independent stream derived from `random`: it consumes one value of the parent, so the
 * parent's later values and the child's values do not overlap in any useful sense. Forking in a
 * fixed order keeps a whole simulation reproducible from one seed, while giving each component
 * its own stream (adding a random draw in one component does not shift every other component).
 */
export function fork(random: RandomSource): RandomSource {
  return createRandom(Math.floor(random() * uint32Range));
}

/** One item of a non-empty list, drawn uniformly. An empty list is a programmer error. */
export function pickOne<T>(random: RandomSource, items: readonly T[]): T {
  if (items.length === 0) throw new Error("pickOne: empty list");
  return items[randomInt(random, 0, items.length)] as T;
}
