/**
 * The ONNX encoder: texts → tokens → padded batches → onnxruntime-node → pooled, L2-normalised rows.
 * Speed trick: within each call, texts are sorted by token count before batching, so a batch pads to a
 * length close to its members' own and the model does not run on padding.
 * What must hold: a text's vector does not depend on its batch (padding is masked, pooling ignores it);
 * the session is created on the first call, so a run served wholly from the embedding cache never loads
 * the model.
 */
import '../onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelError } from '../errors.js';
import { log } from '../log.js';
import { emptyEncodeStats, type EmbedProgress, type EmbedRole, type Embedder, type EncodeStats } from './embedder.js';
import { modelFingerprint } from './fingerprint.js';
import { checkModelFile } from './model-files.js';
import { withDefaultSignals } from '../terminal/signals.js';
import { readModelDir, type ModelDirConfig, type ModelSettingsOverrides } from './model-dir.js';
import { ModelTokenizer, type PaddedBatch } from './model-tokenizer.js';
import { l2Normalize, POOLING } from './pooling.js';
import { executionProviders, type Device } from './device.js';

/** Options of the ONNX encoder; prefix, pooling and length overrides are documented on ModelSettingsOverrides. */
export interface OnnxEmbedderOptions extends ModelSettingsOverrides {
  /** onnxruntime intra-op threads (`--threads`, decided by the option), ≥ 1. */
  threads: number;
  /** Texts per model run, ≥ 1. Default 32. */
  batchSize?: number;
  /** Sort each call's texts by token count before batching (less padding). Default true. */
  sortByLength?: boolean;
  /** The model's name for logs and manifests (the hub repo id). Default: the directory name. */
  name?: string;
  /** Where the model runs (`--device`). Default cpu. */
  device?: Device;
}

/** Default texts per model run: large enough to amortise a run, small enough to bound padding. */
export const DEFAULT_BATCH_SIZE = 32;

/** Output names that hold token vectors [batch, sequence, hidden] or pooled vectors [batch, hidden]. */
const TOKEN_OUTPUTS = ['last_hidden_state', 'token_embeddings'];
const POOLED_OUTPUTS = ['sentence_embedding', 'pooler_output_normalized'];

/** An Embedder running a model directory with onnxruntime-node; open with OnnxEmbedder.open(). */
export class OnnxEmbedder implements Embedder {
  readonly name: string;
  readonly dims: number;
  readonly fingerprint: string;
  /** Counters across calls (model runs, real vs padded tokens, time per stage). */
  readonly stats: EncodeStats = emptyEncodeStats();
  readonly tokenizer: ModelTokenizer;
  private session?: Promise<InferenceSession>;
  /** The output the model's vectors are read from, settled when the session opens. */
  private output: { name: string; pooled: boolean } = { name: TOKEN_OUTPUTS[0], pooled: false };
  private readonly threads: number;
  private readonly batchSize: number;
  private readonly sortByLength: boolean;
  private readonly device: Device;

  private constructor(readonly config: ModelDirConfig, options: OnnxEmbedderOptions) {
    this.name = config.name;
    this.dims = config.hiddenSize;
    this.threads = options.threads;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.sortByLength = options.sortByLength ?? true;
    this.device = options.device ?? 'cpu';
    if (!Number.isInteger(this.threads) || this.threads < 1) throw new ModelError(`threads must be an integer ≥ 1, got ${this.threads}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new ModelError(`batch size must be an integer ≥ 1, got ${this.batchSize}`);
    this.tokenizer = new ModelTokenizer(config.tokenizerJson, config.tokenizerConfig, config.maxLength);
    this.fingerprint = modelFingerprint(config);
  }

  /**
   * Open a model directory (see model-dir.ts for the layout). Reads and hashes the files; the ONNX
   * session itself is created on the first embed call.
   * @throws ModelError when the directory is not a usable model
   */
  static open(dir: string, options: OnnxEmbedderOptions): OnnxEmbedder {
    const config = readModelDir(dir, options, options.name);
    const embedder = new OnnxEmbedder(config, options);
    log().debug(
      {
        model: config.name,
        dir,
        dims: embedder.dims,
        pooling: `${config.pooling} (${config.sources.pooling})`,
        queryPrefix: config.queryPrefix,
        docPrefix: config.docPrefix,
        prefixesFrom: config.sources.prefixes,
        maxLength: `${config.maxLength} (${config.sources.maxLength})`,
        fingerprint: embedder.fingerprint.slice(0, 16),
      },
      'embedding model',
    );
    return embedder;
  }

  embedQueries(texts: readonly string[]): Promise<Float32Array[]> {
    return this.embed(texts, 'query');
  }

  embedDocuments(texts: readonly string[], onProgress?: EmbedProgress): Promise<Float32Array[]> {
    return this.embed(texts, 'document', onProgress);
  }

  /** Token ids of each text in a role, prefix included, truncated: exactly what the model is fed. */
  tokenize(texts: readonly string[], role: EmbedRole): Int32Array[] {
    const prefix = role === 'query' ? this.config.queryPrefix : this.config.docPrefix;
    const started = performance.now();
    const sequences = texts.map((text) => {
      const encoded = this.tokenizer.encode(prefix + text);
      if (encoded.truncated) this.stats.textsTruncated++;
      return encoded.ids;
    });
    this.stats.tokenizeMs += performance.now() - started;
    return sequences;
  }

  /** Embed texts in a role; one L2-normalised row per text, in input order. */
  async embed(texts: readonly string[], role: EmbedRole, onProgress?: EmbedProgress): Promise<Float32Array[]> {
    const rows = texts.map(() => new Float32Array(this.dims));
    if (texts.length === 0) return rows;
    const session = await this.openSession();
    const sequences = this.tokenize(texts, role);
    const order = texts.map((_, index) => index);
    if (this.sortByLength) order.sort((a, b) => sequences[a].length - sequences[b].length || a - b);
    for (let start = 0; start < order.length; start += this.batchSize) {
      const members = order.slice(start, start + this.batchSize);
      const batch = this.tokenizer.pad(members.map((index) => sequences[index]));
      await this.runBatch(session, batch, members.map((index) => rows[index]));
      onProgress?.(members.length);
    }
    this.stats.textsEncoded += texts.length;
    return rows;
  }

  private async runBatch(session: InferenceSession, batch: PaddedBatch, out: Float32Array[]): Promise<void> {
    const shape = [batch.batchSize, batch.sequenceLength];
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor('int64', batch.inputIds, shape),
      attention_mask: new Tensor('int64', batch.attentionMask, shape),
    };
    if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new Tensor('int64', batch.tokenTypeIds, shape);
    let started = performance.now();
    let results: InferenceSession.ReturnType;
    try {
      results = await session.run(feeds, [this.output.name]);
    } catch (cause) {
      throw new ModelError(`the ONNX model failed on a batch of ${batch.batchSize}×${batch.sequenceLength} tokens: ${(cause as Error).message}`, { cause });
    }
    this.stats.modelMs += performance.now() - started;
    this.stats.modelRuns++;
    this.stats.realTokens += batch.realTokens;
    this.stats.paddedTokens += batch.batchSize * batch.sequenceLength;

    started = performance.now();
    const output = results[this.output.name];
    const dims = output.dims;
    const data = output.data as Float32Array;
    if (!this.output.pooled) {
      if (dims.length !== 3 || dims[0] !== batch.batchSize || dims[1] !== batch.sequenceLength || dims[2] !== this.dims) {
        throw new ModelError(`ONNX output ${this.output.name} has shape [${dims.join(', ')}], expected [${batch.batchSize}, ${batch.sequenceLength}, ${this.dims}]`, {
          hint: 'config.json hidden_size must match the model output',
        });
      }
      POOLING[this.config.pooling](data, batch.attentionMask, batch.batchSize, batch.sequenceLength, this.dims, out);
    } else {
      if (dims.length !== 2 || dims[0] !== batch.batchSize || dims[1] !== this.dims) {
        throw new ModelError(`ONNX output ${this.output.name} has shape [${dims.join(', ')}], expected [${batch.batchSize}, ${this.dims}]`);
      }
      for (let row = 0; row < batch.batchSize; row++) out[row].set(data.subarray(row * this.dims, (row + 1) * this.dims));
    }
    output.dispose();
    for (const row of out) l2Normalize(row);
    this.stats.poolMs += performance.now() - started;
  }

  private openSession(): Promise<InferenceSession> {
    this.session ??= (async () => {
      const started = performance.now();
      try {
        // onnxruntime loads the graph synchronously in native code: SIGINT/SIGTERM act at once meanwhile. The
        // file is checked again first: the session opens lazily, and the file may have changed since open().
        checkModelFile(this.config.onnxPath);
        const session = await withDefaultSignals(() => InferenceSession.create(this.config.onnxPath, {
          executionProviders: executionProviders(this.device),
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          // Shapes change every batch; memory patterns only help fixed shapes.
          enableMemPattern: false,
          logSeverityLevel: 3,
        }));
        for (const input of ['input_ids', 'attention_mask']) {
          if (!session.inputNames.includes(input)) {
            throw new ModelError(`${this.config.onnxPath}: the model has no ${input} input (inputs: ${session.inputNames.join(', ')})`);
          }
        }
        const pooledName = POOLED_OUTPUTS.find((name) => session.outputNames.includes(name));
        const tokenName = TOKEN_OUTPUTS.find((name) => session.outputNames.includes(name));
        if (tokenName) this.output = { name: tokenName, pooled: false };
        else if (pooledName) this.output = { name: pooledName, pooled: true };
        else throw new ModelError(`${this.config.onnxPath}: no ${[...TOKEN_OUTPUTS, ...POOLED_OUTPUTS].join(' / ')} output (outputs: ${session.outputNames.join(', ')})`);
        log().debug({ ms: Math.round(performance.now() - started), threads: this.threads, inputs: session.inputNames, outputs: session.outputNames }, 'ONNX session ready');
        return session;
      } catch (cause) {
        if (cause instanceof ModelError) throw cause;
        throw new ModelError(`cannot load ONNX model ${this.config.onnxPath}: ${(cause as Error).message}`, { cause });
      }
    })();
    return this.session;
  }

  async close(): Promise<void> {
    if (!this.session) return;
    const session = await this.session.catch(() => undefined);
    this.session = undefined;
    await session?.release();
  }
}
