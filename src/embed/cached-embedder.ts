/**
 * An Embedder in front of another that serves vectors from the embedding cache and embeds only the misses
 * (each distinct text once per call), storing them for the next run. What must hold: the rows returned
 * equal what the inner embedder would give (the cache is keyed by its fingerprint); the inner embedder is
 * not called at all when every text is a hit, so a cached ONNX model never even loads.
 */
import { log } from '../log.js';
import { embeddingCacheDir } from './cache-paths.js';
import type { EmbedProgress, EmbedRole, Embedder } from './embedder.js';
import { EmbeddingCache, textKey } from './embedding-cache.js';

/** Options of the caching wrapper. */
export interface CachedEmbedderOptions {
  /** The cache directory. Default: `<cache root>/embeddings/<fingerprint>/` (see cache-paths.ts). */
  cacheDir?: string;
}

/** An Embedder that serves cached vectors and embeds (and stores) only the misses. */
export class CachedEmbedder implements Embedder {
  readonly name: string;
  readonly dims: number;
  readonly fingerprint: string;
  readonly cache: EmbeddingCache;

  constructor(readonly inner: Embedder, options: CachedEmbedderOptions = {}) {
    this.name = inner.name;
    this.dims = inner.dims;
    this.fingerprint = inner.fingerprint;
    this.cache = new EmbeddingCache(options.cacheDir ?? embeddingCacheDir(inner.fingerprint), inner.dims);
  }

  embedQueries(texts: readonly string[]): Promise<Float32Array[]> {
    return this.embed(texts, 'query');
  }

  embedDocuments(texts: readonly string[], onProgress?: EmbedProgress): Promise<Float32Array[]> {
    return this.embed(texts, 'document', onProgress);
  }

  private async embed(texts: readonly string[], role: EmbedRole, onProgress?: EmbedProgress): Promise<Float32Array[]> {
    const rows: (Float32Array | undefined)[] = new Array(texts.length);
    const keys = texts.map((text) => textKey(role, text));
    /** Distinct missing texts, by lookup key, with every input position that wants them. */
    const missing = new Map<string, { text: string; key: Buffer; positions: number[] }>();
    for (let i = 0; i < texts.length; i++) {
      const cached = this.cache.get(keys[i]);
      if (cached) {
        rows[i] = cached;
        this.cache.stats.hits++;
        continue;
      }
      const lookup = keys[i].toString('latin1');
      const entry = missing.get(lookup);
      if (entry) entry.positions.push(i);
      else missing.set(lookup, { text: texts[i], key: keys[i], positions: [i] });
    }
    let waiting = 0;
    for (const entry of missing.values()) waiting += entry.positions.length;
    onProgress?.(texts.length - waiting); // the cached ones, at once
    if (missing.size > 0) {
      const entries = [...missing.values()];
      const texts = entries.map((entry) => entry.text);
      const vectors = role === 'query' ? await this.inner.embedQueries(texts) : await this.inner.embedDocuments(texts, onProgress);
      onProgress?.(waiting - entries.length); // repeated texts, embedded once
      this.cache.putMany(
        entries.map((entry) => entry.key),
        vectors,
      );
      entries.forEach((entry, i) => {
        for (const position of entry.positions) rows[position] = vectors[i];
      });
      this.cache.stats.misses += entries.length;
    }
    return rows as Float32Array[];
  }

  /** Log the hit/miss summary and close the cache and the inner embedder. */
  async close(): Promise<void> {
    const { hits, misses, corruptRecords } = this.cache.stats;
    const message = misses === 0 && hits > 0 ? 'embedding cache: every text was cached, nothing embedded again' : 'embedding cache';
    log().info({ model: this.name, hits, misses, corruptRecords, stored: this.cache.size, dir: this.cache.dir }, message);
    this.cache.close();
    await this.inner.close();
  }
}
