/**
 * The vector index part's on-disk format, in one place for its writer and reader (vector-index.ts, vector-file.ts,
 * index-manifest.ts): file names, the container kind and versions of vectors.bin, the manifest's format and
 * versions, and the row layout (FORMAT.md beside this file). index.usearch is USearch's own format, checked
 * structurally by usearch-file.ts. What must hold: no other module knows these names or offsets; the bytes are
 * those of format version 1 (test/index-format-compat.test.ts opens an index written before this module existed).
 *
 *   vectors.bin     DVEC  f32 row[count][dims], row i = doc ordinal i
 *   index.usearch   —     USearch HNSW graph (optional)
 *   index.ivf       DIVF  IVF centroids and lists (optional): u32 nlist, dims, count, 0 | f32 centroid[nlist][dims]
 *                         | u32 offset[nlist + 1] | u32 ordinal[count]
 *   manifest.json   —     "rare-mine-vector-index", with each file's size and CRC-32
 */
import type { ContainerVersions } from '../storage/container.js';

export { MANIFEST_FILE } from '../storage/manifest.js';
/** The HNSW graph (USearch's format). */
export const GRAPH_FILE = 'index.usearch';
/** The inverted-file index: centroids and lists of ordinals (a container). */
export const IVF_FILE = 'index.ivf';
/** Container kind and versions of index.ivf. */
export const IVF_FILE_KIND = 'DIVF';
export const IVF_FILE_VERSIONS: ContainerVersions = { current: 1, oldestReadable: 1 };
/** The exact float32 rows (a container). */
export const VECTORS_FILE = 'vectors.bin';

/** Container kind and versions of vectors.bin. */
export const VECTOR_FILE_KIND = 'DVEC';
export const VECTOR_FILE_VERSIONS: ContainerVersions = { current: 1, oldestReadable: 1 };

/** The manifest's "format" value, and its format version written and oldest read. */
export const VECTOR_INDEX_FORMAT = 'rare-mine-vector-index';
export const VECTOR_INDEX_VERSIONS: ContainerVersions = { current: 1, oldestReadable: 1 };

/** Bytes of one row of vectors.bin. */
export function rowBytes(dims: number): number {
  return dims * Float32Array.BYTES_PER_ELEMENT;
}

/** Payload offset of row `ordinal` in vectors.bin. */
export function rowOffset(ordinal: number, dims: number): number {
  return ordinal * rowBytes(dims);
}
