/**
 * Reading a model directory in the Hugging Face / sentence-transformers layout into one settled
 * configuration: where the ONNX graph and tokenizer are, how to pool, which prefixes to prepend, how many
 * tokens to keep. What must hold: every setting has exactly one source, in this order — explicit option,
 * the model's own files, a default known for the model's family (e5, bge), a generic default — and the
 * settled values are what the fingerprint hashes, so a changed setting can never reuse old vectors.
 *
 *   <dir>/model.onnx | onnx/model.onnx        required (an ONNX graph: input_ids, attention_mask
 *                                             [, token_type_ids] → last_hidden_state or sentence_embedding)
 *   <dir>/tokenizer.json                      required
 *   <dir>/config.json                         required (hidden_size, max_position_embeddings)
 *   <dir>/tokenizer_config.json               optional (passed to the tokenizer)
 *   <dir>/modules.json                        optional (where the Pooling module lives; Dense is refused)
 *   <dir>/1_Pooling/config.json               optional (pooling_mode_cls_token / pooling_mode_mean_tokens)
 *   <dir>/sentence_bert_config.json           optional (max_seq_length)
 *   <dir>/config_sentence_transformers.json   optional (prompts: query / document or passage)
 */
import { existsSync } from '../io/fs.js';
import { basename, join } from 'node:path';
import { ModelError } from '../errors.js';
import { checkModelFile, readModelFile } from './model-files.js';

/** How token vectors become one text vector. */
export type PoolingMode = 'cls' | 'mean';

/** Pooling modes rare-mine runs (for --help and errors). */
export const POOLING_MODES: readonly PoolingMode[] = ['cls', 'mean'];

/** Explicit settings that override what the model's files say. */
export interface ModelSettingsOverrides {
  /** Text prepended to every query (`--query-prefix`); "" for none. Default: from the model's files. */
  queryPrefix?: string;
  /** Text prepended to every document (`--doc-prefix`); "" for none. Default: from the model's files. */
  docPrefix?: string;
  /** Most tokens per text, special tokens included (`--max-length`), 2..model limit. Default: the model's max_seq_length. */
  maxLength?: number;
  /** Pooling, when the model's files do not say or must be overridden. */
  pooling?: PoolingMode;
  /** ONNX file inside the directory, e.g. "onnx/model_quantized.onnx". Default: onnx/model.onnx, then model.onnx. */
  onnxFile?: string;
}

/** Where a setting's value came from, for the log. */
export type SettingSource = 'option' | 'model files' | 'model family default' | 'default';

/** A model directory read and settled. */
export interface ModelDirConfig {
  dir: string;
  /** Model name: the hub repo id when resolved from the hub, else the directory name. */
  name: string;
  onnxPath: string;
  tokenizerPath: string;
  tokenizerJson: object;
  tokenizerConfig: object;
  /** hidden_size from config.json: the embedding dimensionality for pooled BERT-style models. */
  hiddenSize: number;
  pooling: PoolingMode;
  queryPrefix: string;
  docPrefix: string;
  maxLength: number;
  /** Where pooling, prefixes and maxLength came from. */
  sources: { pooling: SettingSource; prefixes: SettingSource; maxLength: SettingSource };
}

/** Generic default when neither option, files nor model family say how long texts may be. */
const DEFAULT_MAX_LENGTH = 512;

/**
 * Prefixes known for model families whose files do not declare prompts. Matched against the model name.
 * e5: "query: "/"passage: " (Wang et al. 2022, model cards); bge v1.5: the retrieval instruction on queries
 * only (BAAI model cards); Solon: "query : " on queries (OrdalieTech model card).
 */
const FAMILY_PREFIXES: readonly { pattern: RegExp; query: string; document: string }[] = [
  { pattern: /(^|\/)(multilingual-)?e5-/i, query: 'query: ', document: 'passage: ' },
  { pattern: /(^|\/)bge-[a-z]+-en(-v1\.5)?$/i, query: 'Represent this sentence for searching relevant passages: ', document: '' },
  { pattern: /(^|\/)bge-[a-z]+-zh(-v1\.5)?$/i, query: '为这个句子生成表示以用于检索相关文章：', document: '' },
  { pattern: /(^|\/)solon-embeddings-/i, query: 'query : ', document: '' },
];

/** Pooling known for model families whose files do not say (bge: CLS; e5, gte: mean). */
const FAMILY_POOLING: readonly { pattern: RegExp; pooling: PoolingMode }[] = [
  { pattern: /(^|\/)bge-/i, pooling: 'cls' },
  { pattern: /(^|\/)(multilingual-)?e5-|(^|\/)gte-/i, pooling: 'mean' },
];

function readJson(path: string, required: boolean): Record<string, unknown> | undefined {
  if (!existsSync(path)) {
    if (required) throw new ModelError(`model file missing: ${path}`, { hint: 'a model directory needs tokenizer.json, config.json and model.onnx (or onnx/model.onnx)' });
    return undefined;
  }
  const bytes = readModelFile(path);
  try {
    return JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelError(`model file is not valid JSON: ${path}`, { cause });
  }
}

/** The ONNX file of a model directory, or undefined when it has none. */
export function findOnnxFile(dir: string, onnxFile?: string): string | undefined {
  const candidates = onnxFile ? [onnxFile] : ['onnx/model.onnx', 'model.onnx'];
  for (const candidate of candidates) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return undefined;
}

function poolingFromFiles(dir: string): PoolingMode | undefined {
  const modules = readJson(join(dir, 'modules.json'), false) as unknown as { type?: string; path?: string }[] | undefined;
  let poolingDir = '1_Pooling';
  if (Array.isArray(modules)) {
    for (const module of modules) {
      const type = String(module.type ?? '');
      if (type.endsWith('.Dense') || type.endsWith('.Dense.Dense')) {
        throw new ModelError(`${dir}: the model has a sentence-transformers Dense layer (${module.path}), which rare-mine does not run`, {
          hint: 'export the whole sentence-transformers pipeline to ONNX (output sentence_embedding) or pick another model',
        });
      }
      if (type.endsWith('.Pooling') && module.path) poolingDir = module.path;
    }
  }
  const config = readJson(join(dir, poolingDir, 'config.json'), false);
  if (!config) return undefined;
  if (config.pooling_mode_cls_token === true) return 'cls';
  if (config.pooling_mode_mean_tokens === true) return 'mean';
  const unsupported = Object.entries(config)
    .filter(([key, value]) => key.startsWith('pooling_mode_') && value === true)
    .map(([key]) => key);
  throw new ModelError(`${join(dir, poolingDir, 'config.json')}: pooling ${unsupported.join(', ') || '(none set)'} is not supported`, {
    hint: `rare-mine pools with ${POOLING_MODES.join(' or ')}; pass --pooling to choose one`,
  });
}

function promptsFromFiles(dir: string): { query: string; document: string } | undefined {
  const config = readJson(join(dir, 'config_sentence_transformers.json'), false);
  const prompts = config?.prompts as Record<string, unknown> | undefined;
  if (!prompts || typeof prompts !== 'object') return undefined;
  const query = prompts.query;
  const document = prompts.document ?? prompts.passage ?? prompts.corpus;
  if (typeof query !== 'string' && typeof document !== 'string') return undefined;
  return { query: typeof query === 'string' ? query : '', document: typeof document === 'string' ? document : '' };
}

/**
 * Read and settle a model directory. `name` is the model's name for logs, the manifest and family
 * defaults (the hub repo id when it came from the hub); default: the directory name.
 * @throws ModelError when a required file is missing or a setting is unsupported
 */
export function readModelDir(dir: string, overrides: ModelSettingsOverrides = {}, name?: string): ModelDirConfig {
  const modelName = name ?? basename(dir);
  const onnxPath = findOnnxFile(dir, overrides.onnxFile);
  if (!onnxPath) {
    throw new ModelError(`${dir}: no ONNX model (looked for ${overrides.onnxFile ?? 'onnx/model.onnx and model.onnx'})`, {
      hint: `export one with \`optimum-cli export onnx --model ${modelName} --task feature-extraction ${dir}\``,
    });
  }
  // The graph (and its external weights) must be regular files within their bounds before anything reads them.
  checkModelFile(onnxPath);
  if (existsSync(`${onnxPath}_data`)) checkModelFile(`${onnxPath}_data`);
  const tokenizerPath = join(dir, 'tokenizer.json');
  const tokenizerJson = readJson(tokenizerPath, true)!;
  const tokenizerConfig = readJson(join(dir, 'tokenizer_config.json'), false) ?? {};
  const config = readJson(join(dir, 'config.json'), true)!;
  const hiddenSize = Number(config.hidden_size ?? config.d_model ?? config.dim);
  if (!Number.isInteger(hiddenSize) || hiddenSize <= 0) {
    throw new ModelError(`${join(dir, 'config.json')}: no hidden_size`, { hint: 'is this a transformer encoder?' });
  }

  let pooling: PoolingMode;
  let poolingSource: SettingSource;
  const filePooling = poolingFromFiles(dir);
  const familyPooling = FAMILY_POOLING.find((entry) => entry.pattern.test(modelName))?.pooling;
  if (overrides.pooling) [pooling, poolingSource] = [overrides.pooling, 'option'];
  else if (filePooling) [pooling, poolingSource] = [filePooling, 'model files'];
  else if (familyPooling) [pooling, poolingSource] = [familyPooling, 'model family default'];
  else [pooling, poolingSource] = ['mean', 'default'];

  const filePrompts = promptsFromFiles(dir);
  const family = FAMILY_PREFIXES.find((entry) => entry.pattern.test(modelName));
  const known = filePrompts ?? (family ? { query: family.query, document: family.document } : undefined);
  const queryPrefix = overrides.queryPrefix ?? known?.query ?? '';
  const docPrefix = overrides.docPrefix ?? known?.document ?? '';
  const prefixSource: SettingSource =
    overrides.queryPrefix !== undefined || overrides.docPrefix !== undefined ? 'option' : filePrompts ? 'model files' : family ? 'model family default' : 'default';

  const stConfig = readJson(join(dir, 'sentence_bert_config.json'), false);
  const positions = Number(config.max_position_embeddings);
  // RoBERTa-style models reserve two positions for the padding offset.
  const modelLimit = Number.isInteger(positions) && positions > 0 ? positions - (config.model_type === 'xlm-roberta' || config.model_type === 'roberta' ? 2 : 0) : undefined;
  let maxLength: number;
  let maxLengthSource: SettingSource;
  if (overrides.maxLength !== undefined) [maxLength, maxLengthSource] = [overrides.maxLength, 'option'];
  else if (typeof stConfig?.max_seq_length === 'number') [maxLength, maxLengthSource] = [stConfig.max_seq_length, 'model files'];
  else [maxLength, maxLengthSource] = [Math.min(DEFAULT_MAX_LENGTH, modelLimit ?? DEFAULT_MAX_LENGTH), 'default'];
  if (!Number.isInteger(maxLength) || maxLength < 2) throw new ModelError(`max length must be an integer ≥ 2, got ${maxLength}`);
  if (modelLimit !== undefined && maxLength > modelLimit) {
    throw new ModelError(`max length ${maxLength} exceeds the model's ${modelLimit} positions (config.json max_position_embeddings)`, {
      hint: `pass --max-length ${modelLimit} or less`,
    });
  }

  return {
    dir,
    name: modelName,
    onnxPath,
    tokenizerPath,
    tokenizerJson,
    tokenizerConfig,
    hiddenSize,
    pooling,
    queryPrefix,
    docPrefix,
    maxLength,
    sources: { pooling: poolingSource, prefixes: prefixSource, maxLength: maxLengthSource },
  };
}
