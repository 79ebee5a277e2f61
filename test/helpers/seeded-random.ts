/**
 * A small deterministic random source for generated test weights: the same seed gives the same numbers on
 * every machine and Node version, so generated models and their outputs are reproducible: the product's
 * mulberry32 (src/seeded-random.ts) for uniforms, Box–Muller for normals. Not for anything that needs
 * statistical or cryptographic quality.
 */
import { mulberry32 } from '../../src/seeded-random.js';

/** A seeded stream of uniform and normal numbers. */
export class SeededRandom {
  private readonly next: () => number;

  /** @param seed any integer; 0 is fine. */
  constructor(seed: number) {
    this.next = mulberry32((Math.trunc(seed) ^ 0x9e3779b9) >>> 0);
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.next();
  }

  /** Standard normal (mean 0, standard deviation 1). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** `count` normals with the given mean and standard deviation, as float32. */
  normals(count: number, standardDeviation: number, mean = 0): Float32Array {
    const out = new Float32Array(count);
    for (let k = 0; k < count; k++) out[k] = mean + standardDeviation * this.normal();
    return out;
  }
}
