/**
 * The manifest of a vector index directory (`manifest.json`): what the vectors are (model, dims,
 * precision), what they index (corpus fingerprint, count), how the graph was built (HNSW parameters), and
 * each file's size and CRC-32, in the checksummed envelope with the build id (src/storage/manifest.ts).
 * What must hold: an index is used only when its manifest verifies, is of a format this build reads, and
 * agrees with what the caller expects (same model fingerprint, same corpus, same doc store build); a damaged
 * one is an IndexError, one that does not fit a StaleIndexError — both say to rebuild — so an index never
 * silently serves another model's or another corpus's vectors.
 */
import { IndexError, StaleIndexError } from '../errors.js';
import { readPartManifest } from '../storage/manifest.js';
import type { Precision } from './precision.js';

import { VECTOR_INDEX_FORMAT, VECTOR_INDEX_VERSIONS } from './format.js';

/** HNSW construction and search parameters (Malkov & Yashunin 2018; USearch names). */
export interface HnswParams {
  /** Edges per node (M). */
  connectivity: number;
  /** Candidate list size while inserting (efConstruction). */
  expansionAdd: number;
  /** Candidate list size while searching (ef); raised per search to ≥ 8 × k (see search-plan.ts). */
  expansionSearch: number;
}

/** How the IVF index (index.ivf) was built and the nprobe its calibration chose (src/vector/ivf-index.ts). */
export interface IvfParams {
  /** Lists (k-means centroids). */
  nlist: number;
  /** Lists probed per query by default: the smallest whose calibrated recall reached recallTarget. */
  nprobe: number;
  /** Mean recall@calibrationK the calibration asked for. */
  recallTarget: number;
  calibrationK: number;
  calibrationQueries: number;
  /** The recall@calibrationK measured at nprobe. */
  calibratedRecall: number;
  /** k-means sample rows and iterations. */
  trainRows: number;
  iterations: number;
}

/** A file's size and CRC-32 as recorded at build time. */
export interface FileRecord {
  bytes: number;
  crc32: number;
}

/** The model a vector index was built with: name and fingerprint, and where its files came from when known. */
export interface ModelIdentity {
  name: string;
  fingerprint: string;
  /** `--revision` asked for (hub models). */
  revision?: string;
  /** The hub commit the files came from. */
  commit?: string;
  /** `--onnx-file` asked for. */
  onnxFile?: string;
}

/** The content of manifest.json (FORMAT.md). */
export interface VectorIndexManifest {
  format: typeof VECTOR_INDEX_FORMAT;
  version: number;
  /** Identity of this build, also in the header of vectors.bin; index.usearch is bound to it by `files`. */
  buildId: string;
  /** The build id of the doc store whose ordinals the rows follow, when built over one. */
  docsBuildId?: string;
  model: ModelIdentity;
  dims: number;
  metric: 'cos';
  precision: Precision;
  corpusFingerprint: string;
  count: number;
  /** The HNSW graph's parameters, or null when only the exact vectors were written (no graph yet). */
  hnsw: HnswParams | null;
  /** The IVF index's parameters; absent or null when there is no index.ivf (indexes written before it existed). */
  ivf?: IvfParams | null;
  files: Record<string, FileRecord>;
  createdAt: string;
  buildMs: { vectors: number; graph: number; ivf?: number };
}

/** What the opener expects; every given field must match the manifest. */
export interface ManifestExpectations {
  modelFingerprint?: string;
  modelName?: string;
  corpusFingerprint?: string;
  /** The doc store build the index must have been built over. */
  docsBuildId?: string;
  dims?: number;
  precision?: Precision;
  /** The command that rebuilds this index, quoted in errors. */
  rebuildHint: string;
}

/**
 * Read and check `<dir>/manifest.json`.
 * @throws StaleIndexError when there is no index at `dir` or it disagrees with `expect` (rebuilding it is the
 *   cure); IndexError when its manifest is damaged, edited or of a format version this build does not read
 */
export function readVectorIndexManifest(dir: string, expect: ManifestExpectations): VectorIndexManifest {
  const hint = `rebuild it: ${expect.rebuildHint}`;
  const manifest = readPartManifest<VectorIndexManifest>(dir, VECTOR_INDEX_FORMAT, expect.rebuildHint);
  if (!manifest) throw new StaleIndexError(`no vector index at ${dir}`, { hint });
  if (manifest.version > VECTOR_INDEX_VERSIONS.current) {
    throw new IndexError(`${dir}: vector index format ${manifest.version} is newer than this rare-mine reads (${VECTOR_INDEX_VERSIONS.current})`, { hint: `upgrade rare-mine, or ${hint}` });
  }
  if (manifest.version < VECTOR_INDEX_VERSIONS.oldestReadable) {
    throw new IndexError(`${dir}: vector index format ${manifest.version} is older than this rare-mine reads (oldest ${VECTOR_INDEX_VERSIONS.oldestReadable})`, { hint });
  }
  const mismatches: string[] = [];
  if (expect.modelFingerprint !== undefined && manifest.model.fingerprint !== expect.modelFingerprint) {
    mismatches.push(
      `it was built with model ${manifest.model.name} (fingerprint ${manifest.model.fingerprint.slice(0, 12)}), this run uses ` +
        `${expect.modelName ?? 'another model'} (fingerprint ${expect.modelFingerprint.slice(0, 12)}); a changed prefix, pooling or max length changes the fingerprint too`,
    );
  }
  if (expect.corpusFingerprint !== undefined && manifest.corpusFingerprint !== expect.corpusFingerprint) {
    mismatches.push(`it was built from another corpus (fingerprint ${manifest.corpusFingerprint.slice(0, 12)}, this corpus ${expect.corpusFingerprint.slice(0, 12)})`);
  }
  if (expect.docsBuildId !== undefined && manifest.docsBuildId !== expect.docsBuildId) {
    mismatches.push(`it was built over another doc store build (${manifest.docsBuildId ?? 'none'}, docs/ is ${expect.docsBuildId})`);
  }
  if (expect.dims !== undefined && manifest.dims !== expect.dims) mismatches.push(`it holds ${manifest.dims}-d vectors, the model gives ${expect.dims}`);
  if (expect.precision !== undefined && manifest.precision !== expect.precision) mismatches.push(`it stores ${manifest.precision}, ${expect.precision} was asked for`);
  if (mismatches.length > 0) throw new StaleIndexError(`the vector index at ${dir} does not fit this run: ${mismatches.join('; ')}`, { hint });
  return manifest;
}
