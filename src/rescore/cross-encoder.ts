/**
 * Re-scoring with a cross-encoder (`--rescore-model DIR`, a Hugging Face sequence-classification model exported
 * to ONNX: model.onnx or onnx/model.onnx, tokenizer.json, config.json): each (query, passage) pair is encoded
 * jointly and the model's logit is the score, as sentence-transformers' CrossEncoder does to catch false
 * negatives. The activation follows the model's `sbert_ce_default_activation_function` (Identity or Sigmoid;
 * sentence-transformers' default for one label is Sigmoid).
 * Invariants: a pair's score does not depend on its batch (padding is masked); pairs longer than maxLength lose
 * passage tokens first, then query tokens (longest-first), keeping the special tokens.
 */
import '../onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry
import { existsSync } from '../io/fs.js';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelError } from '../errors.js';
import { log } from '../log.js';
import { findOnnxFile } from '../embed/model-dir.js';
import { sha256File } from '../embed/fingerprint.js';
import { checkModelFile, readModelFile } from '../embed/model-files.js';
import { withDefaultSignals } from '../terminal/signals.js';
import type { Rescorer } from '../mine/miner.js';

export interface CrossEncoderOptions {
  /** ONNX Runtime intra-op threads (`--threads`, decided by the option). */
  threads: number;
  /** Most tokens per pair, special tokens included. Default: the model's max_position_embeddings, capped at 512. */
  maxLength?: number;
  /** Pairs per model run. Default 32. */
  batchSize?: number;
}

/** Where the special tokens of a pair go: prefix, query, middle, passage, suffix (ids and token types). */
interface PairTemplate {
  prefix: number[];
  middle: number[];
  suffix: number[];
  prefixTypes: number[];
  middleTypes: number[];
  suffixTypes: number[];
  queryType: number;
  passageType: number;
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readModelFile(path).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelError(`cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

export class CrossEncoder implements Rescorer {
  readonly name: string;
  readonly fingerprint: string;
  private readonly template: PairTemplate;
  private readonly activation: (logit: number) => number;
  runs = 0;

  private constructor(
    readonly dir: string,
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
    private readonly batchSize: number,
    config: Record<string, unknown>,
    onnxPath: string,
  ) {
    this.name = dir;
    this.fingerprint = sha256File(onnxPath);
    const activation = String(config.sbert_ce_default_activation_function ?? 'Sigmoid');
    this.activation = /identity/i.test(activation) ? (x) => x : (x) => 1 / (1 + Math.exp(-x));
    this.template = CrossEncoder.learnTemplate(tokenizer);
  }

  /** Open a cross-encoder model directory. */
  static async open(dir: string, options: CrossEncoderOptions): Promise<CrossEncoder> {
    if (!existsSync(dir)) throw new ModelError(`--rescore-model ${dir}: no such directory`, { hint: 'give the path of a Hugging Face cross-encoder exported to ONNX (model.onnx, tokenizer.json, config.json)' });
    const onnxPath = findOnnxFile(dir);
    if (!onnxPath) throw new ModelError(`${dir}: no model.onnx or onnx/model.onnx`, { hint: 'export the cross-encoder to ONNX (e.g. optimum-cli export onnx --task text-classification)' });
    const tokenizerPath = join(dir, 'tokenizer.json');
    if (!existsSync(tokenizerPath)) throw new ModelError(`${dir}: no tokenizer.json`);
    const config = existsSync(join(dir, 'config.json')) ? readJson(join(dir, 'config.json')) : {};
    const tokenizerConfig = existsSync(join(dir, 'tokenizer_config.json')) ? readJson(join(dir, 'tokenizer_config.json')) : {};
    const tokenizer = new Tokenizer(readJson(tokenizerPath), tokenizerConfig);
    const maxLength = options.maxLength ?? Math.min(512, Number(config.max_position_embeddings ?? 512));
    checkModelFile(onnxPath);
    // onnxruntime loads (and the constructor hashes) the graph synchronously: SIGINT/SIGTERM act at once meanwhile.
    const session = await withDefaultSignals(() => ort.InferenceSession.create(onnxPath, { intraOpNumThreads: options.threads, interOpNumThreads: 1 }));
    if (!session.outputNames.includes('logits')) {
      throw new ModelError(`${onnxPath}: outputs ${session.outputNames.join(', ')}; a cross-encoder must output "logits"`);
    }
    const encoder = await withDefaultSignals(() => new CrossEncoder(dir, session, tokenizer, maxLength, options.batchSize ?? 32, config, onnxPath));
    log().info({ model: dir, maxLength, fingerprint: encoder.fingerprint.slice(0, 12) }, 'rescoring with a cross-encoder');
    return encoder;
  }

  /** Find where the post-processor puts special tokens around a pair, from a probe pair. */
  private static learnTemplate(tokenizer: Tokenizer): PairTemplate {
    const a = tokenizer.encode('a', { add_special_tokens: false }).ids;
    const b = tokenizer.encode('b', { add_special_tokens: false }).ids;
    const pair = tokenizer.encode('a', { text_pair: 'b', return_token_type_ids: true });
    const ids = pair.ids;
    const types = pair.token_type_ids ?? new Array(ids.length).fill(0);
    const findRun = (run: number[], from: number) => {
      for (let i = from; i + run.length <= ids.length; i++) if (run.every((id, j) => ids[i + j] === id)) return i;
      return -1;
    };
    const at = findRun(a, 0);
    const bt = at < 0 ? -1 : findRun(b, at + a.length);
    if (at < 0 || bt < 0) throw new ModelError('the tokenizer does not encode sentence pairs as [prefix] A [middle] B [suffix]');
    return {
      prefix: ids.slice(0, at),
      middle: ids.slice(at + a.length, bt),
      suffix: ids.slice(bt + b.length),
      prefixTypes: types.slice(0, at),
      middleTypes: types.slice(at + a.length, bt),
      suffixTypes: types.slice(bt + b.length),
      queryType: types[at] ?? 0,
      passageType: types[bt] ?? 0,
    };
  }

  /** Token ids and types of one pair, truncated longest-first to maxLength. */
  private encodePair(query: number[], passage: number[]): { ids: number[]; types: number[] } {
    const t = this.template;
    const budget = this.maxLength - t.prefix.length - t.middle.length - t.suffix.length;
    let q = query;
    let p = passage;
    while (q.length + p.length > budget) {
      if (p.length >= q.length) p = p.slice(0, Math.max(0, Math.min(p.length - 1, budget - q.length)));
      else q = q.slice(0, Math.max(0, Math.min(q.length - 1, budget - p.length)));
    }
    return {
      ids: [...t.prefix, ...q, ...t.middle, ...p, ...t.suffix],
      types: [...t.prefixTypes, ...q.map(() => t.queryType), ...t.middleTypes, ...p.map(() => t.passageType), ...t.suffixTypes],
    };
  }

  async score(query: string, passages: readonly string[]): Promise<number[]> {
    const queryIds = this.tokenizer.encode(query, { add_special_tokens: false }).ids;
    const pairs = passages.map((passage) => this.encodePair(queryIds, this.tokenizer.encode(passage, { add_special_tokens: false }).ids));
    const scores = new Array<number>(passages.length);
    for (let start = 0; start < pairs.length; start += this.batchSize) {
      const batch = pairs.slice(start, start + this.batchSize);
      const length = Math.max(...batch.map((p) => p.ids.length));
      const inputIds = new BigInt64Array(batch.length * length);
      const mask = new BigInt64Array(batch.length * length);
      const typeIds = new BigInt64Array(batch.length * length);
      batch.forEach((pair, row) => {
        pair.ids.forEach((id, j) => {
          inputIds[row * length + j] = BigInt(id);
          mask[row * length + j] = 1n;
          typeIds[row * length + j] = BigInt(pair.types[j]);
        });
      });
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', inputIds, [batch.length, length]),
        attention_mask: new ort.Tensor('int64', mask, [batch.length, length]),
      };
      if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', typeIds, [batch.length, length]);
      const output = await this.session.run(feeds);
      this.runs++;
      const logits = output.logits;
      const labels = logits.dims[1] ?? 1;
      const data = logits.data as Float32Array;
      // One label: its logit. Several (e.g. [irrelevant, relevant]): the last label's.
      for (let row = 0; row < batch.length; row++) scores[start + row] = this.activation(data[row * labels + labels - 1]);
    }
    return scores;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
