/**
 * Model resolution: a model name or path → a model directory on disk. Places are tried in a fixed order
 * — a path; `$RARE_MINE_MODELS/<name>`; the Hugging Face hub cache; a download from the hub — and the
 * first that holds a usable model wins. What must hold: the model used is logged with where it came from,
 * never switched silently; when no place has it, the error lists every place searched and how to get it.
 */
import { existsSync, statSync } from '../io/fs.js';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { ModelError } from '../errors.js';
import { log } from '../log.js';
import { huggingFaceEndpoint, huggingFaceHubCache, huggingFaceOffline } from './cache-paths.js';
import { HubDownloader, findCachedSnapshot, repoCacheDir, type HubDownloadOptions } from './hub-download.js';
import { findOnnxFile } from './model-dir.js';

/** Where a resolved model came from. */
export type ModelSource = 'path' | 'models dir' | 'hub cache' | 'hub download';

/** A model directory found or fetched, and where it came from. */
export interface ResolvedModel {
  /** The model directory (HF layout). */
  dir: string;
  /** The name for logs, manifests and family defaults: the hub repo id, or the directory name for a path. */
  name: string;
  source: ModelSource;
  /** The hub commit, when the model came from the hub cache or a download. */
  commit?: string;
}

/** Options of resolveModel; download options apply to step 4 only. */
export interface ResolveModelOptions extends Omit<HubDownloadOptions, 'cacheDir'> {
  /** Environment to read RARE_MINE_MODELS, HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_HUB_OFFLINE from. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Allow a hub download when no local place has the model. Default: true unless HF_HUB_OFFLINE is set. */
  download?: boolean;
}

/** A repo id the hub could know: `org/name` with the hub's allowed characters. */
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

function looksLikePath(name: string): boolean {
  return name.startsWith('.') || name.startsWith('/') || name.startsWith('~') || name.includes('\\') || /^[A-Za-z]:/.test(name);
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** Why `dir` is not a usable model directory, or undefined when it is. */
function modelDirProblem(dir: string, onnxFile?: string): string | undefined {
  if (!existsSync(dir)) return 'does not exist';
  if (!statSync(dir).isDirectory()) return 'is not a directory';
  const missing = ['config.json', 'tokenizer.json'].filter((file) => !existsSync(join(dir, file)));
  if (!findOnnxFile(dir, onnxFile)) missing.push(onnxFile ?? 'onnx/model.onnx or model.onnx');
  return missing.length ? `lacks ${missing.join(', ')}` : undefined;
}

/**
 * Find or fetch a model by path or name (a hub repo id such as "BAAI/bge-small-en-v1.5").
 * @throws ModelError listing every place searched, with how to get the model
 */
export async function resolveModel(nameOrPath: string, options: ResolveModelOptions = {}): Promise<ResolvedModel> {
  const env = options.env ?? process.env;
  const searched: string[] = [];
  const found = (model: ResolvedModel): ResolvedModel => {
    log().debug({ model: model.name, source: model.source, dir: model.dir, ...(model.commit ? { commit: model.commit.slice(0, 12) } : {}) }, 'model resolved');
    return model;
  };

  // 1. A path.
  const asPath = resolve(expandHome(nameOrPath));
  if (looksLikePath(nameOrPath) || existsSync(asPath)) {
    const problem = modelDirProblem(asPath, options.onnxFile);
    if (!problem) return found({ dir: asPath, name: basename(asPath), source: 'path' });
    searched.push(`${asPath} (path: ${problem})`);
    if (looksLikePath(nameOrPath)) throw notFound(nameOrPath, searched, false);
  }

  // 2. $RARE_MINE_MODELS/<name>, then $RARE_MINE_MODELS/<name without org>.
  if (env.RARE_MINE_MODELS) {
    const candidates = [...new Set([join(env.RARE_MINE_MODELS, nameOrPath), join(env.RARE_MINE_MODELS, basename(nameOrPath))])];
    for (const dir of candidates) {
      const problem = modelDirProblem(dir, options.onnxFile);
      if (!problem) return found({ dir, name: REPO_ID.test(nameOrPath) ? nameOrPath : basename(dir), source: 'models dir' });
      searched.push(`${dir} ($RARE_MINE_MODELS: ${problem})`);
    }
  } else {
    searched.push('$RARE_MINE_MODELS (not set)');
  }

  if (!REPO_ID.test(nameOrPath)) throw notFound(nameOrPath, searched, false);

  // 3. The Hugging Face hub cache.
  const hubCache = huggingFaceHubCache(env);
  const revision = options.revision ?? 'main';
  const cached = findCachedSnapshot(nameOrPath, { cacheDir: hubCache, revision, onnxFile: options.onnxFile });
  if (cached) return found({ dir: cached.dir, name: nameOrPath, source: 'hub cache', commit: cached.commit });
  searched.push(`${repoCacheDir(hubCache, nameOrPath)} (hub cache, revision ${revision}: no complete snapshot with an ONNX model)`);

  // 4. A download from the hub.
  const offline = huggingFaceOffline(env);
  const download = options.download ?? !offline;
  const endpoint = options.endpoint ?? huggingFaceEndpoint(env);
  if (!download) {
    searched.push(`${endpoint} (download not attempted: ${offline ? 'HF_HUB_OFFLINE is set' : 'downloads disabled'})`);
    throw notFound(nameOrPath, searched, true);
  }
  try {
    const snapshot = await new HubDownloader(nameOrPath, { ...options, endpoint, cacheDir: hubCache }).download();
    return found({ dir: snapshot.dir, name: nameOrPath, source: 'hub download', commit: snapshot.commit });
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    searched.push(`${endpoint}/${nameOrPath} (download: ${error.message})`);
    throw notFound(nameOrPath, searched, true, error);
  }
}

function notFound(name: string, searched: string[], isRepoId: boolean, cause?: ModelError): ModelError {
  const how = [
    isRepoId ? `with network access rare-mine downloads it into the hub cache (HF_ENDPOINT for a mirror, HF_TOKEN for gated repos)` : undefined,
    isRepoId ? `fetch it yourself: \`hf download ${name} --include "onnx/*" "*.json" --local-dir DIR\`, then --model DIR` : undefined,
    isRepoId ? `a repository without ONNX weights (PyTorch only): \`optimum-cli export onnx --model ${name} DIR\`, then --model DIR` : undefined,
    `pass --model DIR with a directory holding config.json, tokenizer.json and onnx/model.onnx`,
    `or put that directory at $RARE_MINE_MODELS/${basename(name)}`,
    cause?.hint,
    `or, offline and in English, use the built-in model: --model use-lite (Universal Sentence Encoder lite; weaker than ${name})`,
  ].filter((line): line is string => line !== undefined);
  return new ModelError(`model "${name}" not found; searched:\n  ${searched.join('\n  ')}`, { cause, hint: how.join('\n') });
}
