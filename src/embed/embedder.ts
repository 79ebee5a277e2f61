/**
 * The one interface between text encoders and everything that uses embeddings (dense index, dense
 * retriever, hybrid). An ONNX model directory (onnx-embedder.ts), the embedding cache (cached-embedder.ts)
 * and other encoders (use-lite) all implement it. Invariants every implementation keeps: rows are
 * L2-normalised Float32Arrays of length `dims`, one per input text in input order; the same text in the
 * same role always gives the same vector (to float rounding), whatever batch it was encoded in; the
 * `fingerprint` changes whenever anything that changes a vector changes (weights, tokenizer, pooling,
 * prefixes, max length).
 */

/** Whether a text is encoded as a query or as a document: models prepend different prefixes. */
export type EmbedRole = 'query' | 'document';

/** A text encoder: queries and documents in, L2-normalised rows out (see the module header). */
/** Told how many more texts are done. */
export type EmbedProgress = (textsDone: number) => void;

export interface Embedder {
  /** The model's name as the user gave it or as it was resolved ("BAAI/bge-small-en-v1.5", "use-lite"). */
  readonly name: string;
  /** Embedding dimensionality. */
  readonly dims: number;
  /** Hex sha256 over everything that determines the vectors (see fingerprint.ts). */
  readonly fingerprint: string;
  /** One L2-normalised row per query text, in input order. */
  embedQueries(texts: readonly string[]): Promise<Float32Array[]>;
  /**
   * One L2-normalised row per document text, in input order. `onProgress(n)` is told of every n texts done
   * (a model batch, or cached texts), so a progress line can move within a long call.
   */
  embedDocuments(texts: readonly string[], onProgress?: EmbedProgress): Promise<Float32Array[]>;
  /** Release the model session and open files. */
  close(): Promise<void>;
}

/** Counters an encoder keeps across calls, for the log and benchmarks. */
export interface EncodeStats {
  /** Texts encoded by the model (cache hits not included). */
  textsEncoded: number;
  /** Model invocations (ONNX session runs). */
  modelRuns: number;
  /** Tokens that carry text (attention mask 1), special tokens included. */
  realTokens: number;
  /** Tokens fed to the model, padding included: batch size × longest sequence, summed over batches. */
  paddedTokens: number;
  /** Texts cut to the model's max length. */
  textsTruncated: number;
  /** Milliseconds spent tokenizing, running the model, and pooling. */
  tokenizeMs: number;
  modelMs: number;
  poolMs: number;
}

/** A zeroed EncodeStats. */
export function emptyEncodeStats(): EncodeStats {
  return {
    textsEncoded: 0,
    modelRuns: 0,
    realTokens: 0,
    paddedTokens: 0,
    textsTruncated: 0,
    tokenizeMs: 0,
    modelMs: 0,
    poolMs: 0,
  };
}
