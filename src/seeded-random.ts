/**
 * The one seeded pseudo-random generator: mulberry32 (Tommy Ettinger, public domain), integer arithmetic up to
 * the final float, so the same seed gives the same numbers on every machine and Node version. `--sample random`,
 * the fill draws, the statistics' reservoirs and the report's sample draw from seededRandom, which mixes a seed
 * and a stream (the record's line) into the state; the test models' weights use mulberry32 directly
 * (test/helpers/seeded-random.ts). Not for anything that needs statistical or cryptographic quality.
 */

/** Uniform numbers in [0, 1) from a 32-bit `state`. */
export function mulberry32(state: number): () => number {
  let current = state >>> 0;
  return () => {
    current = (current + 0x6d2b79f5) >>> 0;
    let t = current;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A reproducible stream for (seed, stream): the same pair gives the same draws on every machine and in every shard. */
export function seededRandom(seed: number, stream: number): () => number {
  return mulberry32((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(stream + 0x632be5ab, 0xc2b2ae35)) >>> 0);
}
