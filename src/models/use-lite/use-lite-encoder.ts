/**
 * Encodes texts with the converted USE-lite model: SentencePiece ids → clipped to the model's 128 pieces →
 * batches of similar length (sorting by length keeps padding, and so wasted compute, small) →
 * onnxruntime → L2-normalised 512-d rows in input order. What must hold: a text's vector does not depend on
 * the batch it was encoded in (the graph ignores padding) and the files are the ones the manifest names
 * (their sha256s are checked on open).
 */
import '../../onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry
import { readModelFile } from '../../embed/model-files.js';
import { executionProviders, type Device } from '../../embed/device.js';
import { withDefaultSignals } from '../../terminal/signals.js';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelError } from '../../errors.js';
import { log } from '../../log.js';
import { readUseLiteManifest, sha256Hex, USE_LITE_MODEL_NAME, type UseLiteManifest } from './prepare-use-lite.js';
import { USE_LITE_ONNX_IO } from './use-lite-onnx.js';
import { UseLiteTokenizer } from './use-lite-tokenizer.js';
import { emptyEncodeStats, type EmbedProgress, type EncodeStats } from '../../embed/embedder.js';

/** Options of {@link UseLiteEncoder.open}. */
export interface UseLiteEncoderOptions {
  /** onnxruntime intra-op threads (`--threads`, decided by the option), ≥ 1. */
  threads: number;
  /** Where the model runs (`--device`). Default cpu. */
  device?: Device;
  /** Texts per onnxruntime run, ≥ 1. Default 32. */
  batchSize?: number;
  /** Group texts of similar piece count into the same batch (less padding). Default true. */
  sortByLength?: boolean;
}

/** Counters kept across calls: the embedders' EncodeStats (poolMs stays 0: pooling runs inside the ONNX graph). */
export type UseLiteEncodeStats = EncodeStats;

/**
 * A loaded USE-lite encoder. Besides `embed` it has the members of src/embed/embedder.ts's Embedder
 * (name, dims, fingerprint, embedQueries, embedDocuments, close), so it can stand wherever one is expected;
 * USE-lite has no query or document prompts, so both roles encode alike.
 */
export class UseLiteEncoder {
  /** The model's name as `--model` takes it. */
  readonly name = USE_LITE_MODEL_NAME;
  /** Embedding width (512). */
  readonly dims: number;
  /** Pieces read per text (128); longer texts are clipped exactly as the original model clips them. */
  readonly maxTokens: number;
  /** sha256 of model.onnx and vocab.json together: changes whenever a vector could change. */
  readonly fingerprint: string;
  /** Counters since open. */
  readonly stats: UseLiteEncodeStats = emptyEncodeStats();
  private readonly batchSize: number;
  private readonly sortByLength: boolean;

  private constructor(
    private readonly session: InferenceSession,
    private readonly tokenizer: UseLiteTokenizer,
    /** The manifest the directory was converted with. */
    readonly manifest: UseLiteManifest,
    options: UseLiteEncoderOptions,
  ) {
    this.dims = manifest.dims;
    this.maxTokens = manifest.maxTokens;
    this.fingerprint = sha256Hex(Buffer.from(`use-lite;${manifest.model.sha256};${manifest.tokenizer.sha256}`));
    this.batchSize = options.batchSize ?? 32;
    this.sortByLength = options.sortByLength ?? true;
  }

  /** Open a directory written by prepareUseLite (checks the manifest and the files' sha256s). */
  static async open(dir: string, options: UseLiteEncoderOptions): Promise<UseLiteEncoder> {
    const threads = options.threads;
    if (!Number.isInteger(threads) || threads < 1) throw new ModelError(`use-lite: threads must be a positive integer, got ${threads}`);
    if (options.batchSize !== undefined && (!Number.isInteger(options.batchSize) || options.batchSize < 1)) {
      throw new ModelError(`use-lite: batchSize must be a positive integer, got ${options.batchSize}`);
    }
    const manifest = readUseLiteManifest(dir);
    const prepareHint = 'run `rare-mine models prepare use-lite --force` to convert it again';
    if (manifest === undefined) throw new ModelError(`${dir} holds no converted use-lite model (no valid manifest.json)`, { hint: prepareHint });
    let modelBytes: Buffer;
    let vocabBytes: Buffer;
    try {
      modelBytes = readModelFile(join(dir, manifest.model.file));
      vocabBytes = readModelFile(join(dir, manifest.tokenizer.file));
    } catch (cause) {
      throw new ModelError(`use-lite model files in ${dir} cannot be read: ${(cause as Error).message}`, { cause, hint: prepareHint });
    }
    if (sha256Hex(modelBytes) !== manifest.model.sha256 || sha256Hex(vocabBytes) !== manifest.tokenizer.sha256) {
      throw new ModelError(`use-lite model files in ${dir} do not match their manifest checksums`, { hint: prepareHint });
    }
    const tokenizer = UseLiteTokenizer.fromJson(vocabBytes.toString('utf8'), join(dir, manifest.tokenizer.file));
    let session: InferenceSession;
    try {
      // onnxruntime loads the graph synchronously in native code: SIGINT/SIGTERM act at once meanwhile.
      session = await withDefaultSignals(() => InferenceSession.create(modelBytes, {
        executionProviders: executionProviders(options.device ?? 'cpu'),
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      }));
    } catch (cause) {
      throw new ModelError(`onnxruntime cannot load ${join(dir, manifest.model.file)}`, { cause, hint: prepareHint });
    }
    log().debug(
      { model: 'use-lite', dir, source: `${manifest.source.package}@${manifest.source.version}`, dims: manifest.dims, maxTokens: manifest.maxTokens, threads },
      'use-lite: model loaded',
    );
    return new UseLiteEncoder(session, tokenizer, manifest, options);
  }

  /** Piece ids of each text, unclipped: identical to the source package's tokenizer. */
  tokenize(texts: readonly string[]): number[][] {
    return texts.map((text) => this.tokenizer.encode(text));
  }

  /**
   * One L2-normalised row per text, in input order. Only the first `maxTokens` pieces of a text count.
   * An empty text (no pieces; the source package throws on it) gets the vector of an all-padding input:
   * tanh of the output bias, normalised — the same for every empty text.
   */
  async embed(texts: readonly string[], onProgress?: EmbedProgress): Promise<Float32Array[]> {
    const tokenizeStarted = performance.now();
    const pieces = texts.map((text) => {
      const ids = this.tokenizer.encode(text);
      if (ids.length > this.maxTokens) this.stats.textsTruncated += 1;
      return ids.length > this.maxTokens ? ids.slice(0, this.maxTokens) : ids;
    });
    this.stats.tokenizeMs += performance.now() - tokenizeStarted;
    this.stats.textsEncoded += texts.length;
    const order = pieces.map((_, index) => index);
    if (this.sortByLength) order.sort((a, b) => pieces[a]!.length - pieces[b]!.length || a - b);
    const rows: Float32Array[] = new Array<Float32Array>(texts.length);
    for (let from = 0; from < order.length; from += this.batchSize) {
      const batch = order.slice(from, from + this.batchSize);
      const length = Math.max(1, ...batch.map((index) => pieces[index]!.length));
      const ids = new BigInt64Array(batch.length * length);
      const mask = new BigInt64Array(batch.length * length);
      batch.forEach((index, row) => {
        pieces[index]!.forEach((id, column) => {
          ids[row * length + column] = BigInt(id);
          mask[row * length + column] = 1n;
        });
      });
      const dims = [batch.length, length];
      const modelStarted = performance.now();
      const result = await this.session.run({
        [USE_LITE_ONNX_IO.inputIds]: new Tensor('int64', ids, dims),
        [USE_LITE_ONNX_IO.attentionMask]: new Tensor('int64', mask, dims),
      });
      this.stats.modelMs += performance.now() - modelStarted;
      this.stats.modelRuns += 1;
      this.stats.paddedTokens += batch.length * length;
      this.stats.realTokens += batch.reduce((sum, index) => sum + pieces[index]!.length, 0);
      const output = result[USE_LITE_ONNX_IO.output];
      if (output === undefined) throw new ModelError(`use-lite: the ONNX model has no ${USE_LITE_ONNX_IO.output} output`);
      const data = output.data as Float32Array;
      batch.forEach((index, row) => {
        rows[index] = data.slice(row * this.dims, (row + 1) * this.dims);
      });
      onProgress?.(batch.length);
    }
    return rows;
  }

  /** Query vectors: the same as {@link embed} (the model has no query prompt). */
  embedQueries(texts: readonly string[]): Promise<Float32Array[]> {
    return this.embed(texts);
  }

  /** Document vectors: the same as {@link embed} (the model has no document prompt). */
  embedDocuments(texts: readonly string[], onProgress?: EmbedProgress): Promise<Float32Array[]> {
    return this.embed(texts, onProgress);
  }

  /** Release the onnxruntime session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
