/**
 * Downloading a model from the Hugging Face hub into the hub cache, in huggingface_hub's own layout, so
 * Python tools and rare-mine share downloads:
 *
 *   <hub cache>/models--<org>--<name>/
 *     refs/<revision>                 the commit the revision pointed at (text)
 *     blobs/<etag>                    file contents, named by ETag (the sha256 for LFS files)
 *     blobs/<etag>.incomplete         a download in progress; resumed with an HTTP Range request
 *     snapshots/<commit>/<path>       relative symlink to ../../blobs/<etag> (a copy where links fail)
 *
 * What must hold: a file appears under snapshots/ only once complete (and, for LFS files, once its sha256
 * matches); every file of one download comes from the same commit; an interrupted transfer is continued
 * from where it stopped, within a run (retries) and across runs (the .incomplete file).
 */
import { Progress, progressWanted } from '../cli/progress.js';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ModelError } from '../errors.js';
import { log } from '../log.js';
import { huggingFaceEndpoint, huggingFaceHubCache } from './cache-paths.js';
import { findOnnxFile } from './model-dir.js';

/** The files of a model repo rare-mine fetches. The first ONNX candidate the hub has is taken. */
export const HUB_ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx'] as const;
/** Files a repo must have besides the ONNX graph. */
export const HUB_REQUIRED_FILES = ['config.json', 'tokenizer.json'] as const;
/** Files fetched when the repo has them (tokenizer settings, pooling, prompts, max length). */
export const HUB_OPTIONAL_FILES = [
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  '1_Pooling/config.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
] as const;

/** Where and how to download; every field has a default from the environment. */
export interface HubDownloadOptions {
  /** Hub endpoint. Default `$HF_ENDPOINT` or https://huggingface.co. */
  endpoint?: string;
  /** Hub cache directory. Default `$HF_HUB_CACHE`, `$HF_HOME/hub` or ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Branch, tag or commit. Default "main". */
  revision?: string;
  /** Bearer token for gated or private repos. Default `$HF_TOKEN`. */
  token?: string;
  /** ONNX file to fetch instead of the default candidates, e.g. "onnx/model_quantized.onnx". */
  onnxFile?: string;
  /** Attempts per file when a transfer breaks off (each resumes with a Range request). Default 5. */
  attempts?: number;
  /** Wait before the first retry, doubled on each further one, in ms. Default 1000. */
  retryDelayMs?: number;
  /** Draw a progress line on stderr. Default: when stderr is a terminal and RARE_MINE_NO_PROGRESS is unset. */
  progress?: boolean;
}

/** A snapshot directory in the hub cache and the commit it holds. */
export interface CachedSnapshot {
  dir: string;
  commit: string;
}

/** `<hub cache>/models--org--name`. */
export function repoCacheDir(hubCache: string, repoId: string): string {
  return join(hubCache, `models--${repoId.split('/').join('--')}`);
}

const COMMIT_PATTERN = /^[0-9a-f]{40}$/;

/**
 * The cached snapshot of a repo at a revision, when it holds the files rare-mine needs (config.json,
 * tokenizer.json and an ONNX model); undefined otherwise.
 */
export function findCachedSnapshot(repoId: string, options: { cacheDir?: string; revision?: string; onnxFile?: string } = {}): CachedSnapshot | undefined {
  const repoDir = repoCacheDir(options.cacheDir ?? huggingFaceHubCache(), repoId);
  const revision = options.revision ?? 'main';
  let commit = revision;
  if (!COMMIT_PATTERN.test(revision)) {
    const ref = join(repoDir, 'refs', revision);
    if (!existsSync(ref)) return undefined;
    commit = readFileSync(ref, 'utf8').trim();
  }
  const dir = join(repoDir, 'snapshots', commit);
  if (!existsSync(dir)) return undefined;
  if (!HUB_REQUIRED_FILES.every((file) => existsSync(join(dir, file)))) return undefined;
  if (!findOnnxFile(dir, options.onnxFile)) return undefined;
  return { dir, commit };
}

interface RemoteFile {
  /** URL to GET (after the hub's redirect, when it gave one). */
  url: string;
  commit: string;
  etag: string;
  size?: number;
}

function normalizeEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

class HubHttpError extends Error {
  constructor(readonly status: number, readonly url: string) {
    super(`HTTP ${status} for ${url}`);
  }
}

/** Downloads one repo into the hub cache (see the module header for the layout and guarantees). */
export class HubDownloader {
  readonly endpoint: string;
  readonly hubCache: string;
  private readonly token?: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly progress: boolean;

  constructor(readonly repoId: string, private readonly options: HubDownloadOptions = {}) {
    this.endpoint = (options.endpoint ?? huggingFaceEndpoint()).replace(/\/+$/, '');
    this.hubCache = options.cacheDir ?? huggingFaceHubCache();
    this.token = options.token ?? process.env.HF_TOKEN;
    this.attempts = options.attempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.progress = options.progress ?? progressWanted();
  }

  private get repoDir(): string {
    return repoCacheDir(this.hubCache, this.repoId);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { 'user-agent': 'rare-mine', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  private resolveUrl(revision: string, file: string): string {
    return `${this.endpoint}/${this.repoId}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** HEAD a file without following the hub's redirect to its storage, to read commit, ETag and size. */
  private async head(revision: string, file: string): Promise<RemoteFile | undefined> {
    let url = this.resolveUrl(revision, file);
    for (let hop = 0; hop < 5; hop++) {
      const response = await fetch(url, { method: 'HEAD', redirect: 'manual', headers: this.headers({ 'accept-encoding': 'identity' }) });
      if (response.status === 404) return undefined;
      const location = response.headers.get('location');
      const isRedirect = response.status >= 300 && response.status < 400;
      // A relative redirect stays on the hub (renamed repo): follow it. An absolute one leaves for storage.
      if (isRedirect && location && !/^https?:/i.test(location)) {
        url = new URL(location, url).toString();
        continue;
      }
      if (!isRedirect && !response.ok) throw new HubHttpError(response.status, url);
      const commit = response.headers.get('x-repo-commit');
      const etag = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
      if (!commit || !etag) throw new ModelError(`${url}: the hub's answer lacks X-Repo-Commit or ETag; is ${this.endpoint} a Hugging Face hub?`);
      const sizeHeader = response.headers.get('x-linked-size') ?? (isRedirect ? null : response.headers.get('content-length'));
      return {
        url: isRedirect && location ? new URL(location, url).toString() : url,
        commit,
        etag: normalizeEtag(etag),
        size: sizeHeader === null ? undefined : Number(sizeHeader),
      };
    }
    throw new ModelError(`${this.resolveUrl(revision, file)}: too many redirects`);
  }

  /**
   * Download the model's files at `revision` (default main) into the hub cache and return the snapshot.
   * Files already in the cache are not fetched again.
   * @throws ModelError when the repo, a required file or an ONNX export is missing, or the transfer fails
   */
  async download(): Promise<CachedSnapshot> {
    const revision = this.options.revision ?? 'main';
    try {
      const config = await this.head(revision, 'config.json');
      if (!config) {
        throw new ModelError(`${this.repoId} was not found on ${this.endpoint} (no config.json at revision ${revision})`, {
          hint: 'check the model name (org/name) and revision',
        });
      }
      const commit = config.commit;
      const snapshotDir = join(this.repoDir, 'snapshots', commit);
      const fetched: string[] = [];
      await this.fetchFile(config, 'config.json', snapshotDir, fetched);
      for (const file of HUB_REQUIRED_FILES.slice(1)) {
        const remote = await this.head(commit, file);
        if (!remote) throw new ModelError(`${this.repoId}@${commit.slice(0, 8)} has no ${file}`, { hint: 'rare-mine needs a fast tokenizer (tokenizer.json); pick a model that ships one' });
        await this.fetchFile(remote, file, snapshotDir, fetched);
      }
      const onnxCandidates = this.options.onnxFile ? [this.options.onnxFile] : [...HUB_ONNX_CANDIDATES];
      let onnxFound = false;
      for (const file of onnxCandidates) {
        const remote = await this.head(commit, file);
        if (!remote) continue;
        await this.fetchFile(remote, file, snapshotDir, fetched);
        const externalData = await this.head(commit, `${file}_data`);
        if (externalData) await this.fetchFile(externalData, `${file}_data`, snapshotDir, fetched);
        onnxFound = true;
        break;
      }
      if (!onnxFound) {
        throw new ModelError(`${this.repoId}@${commit.slice(0, 8)} has no ONNX export (looked for ${onnxCandidates.join(', ')})`, {
          hint: `export one with \`optimum-cli export onnx --model ${this.repoId} --task feature-extraction DIR\` and pass --model DIR`,
        });
      }
      for (const file of HUB_OPTIONAL_FILES) {
        const remote = await this.head(commit, file);
        if (remote) await this.fetchFile(remote, file, snapshotDir, fetched);
      }
      if (revision !== commit) {
        mkdirSync(join(this.repoDir, 'refs'), { recursive: true });
        writeFileSync(join(this.repoDir, 'refs', revision), commit);
      }
      log().info({ model: this.repoId, commit, files: fetched.length, dir: snapshotDir }, fetched.length ? 'model downloaded' : 'model already in the hub cache');
      return { dir: snapshotDir, commit };
    } catch (error) {
      if (error instanceof ModelError) throw error;
      if (error instanceof HubHttpError && (error.status === 401 || error.status === 403)) {
        throw new ModelError(`${this.repoId}: access denied by ${this.endpoint} (HTTP ${error.status})`, {
          cause: error,
          hint: 'the repo may be gated or private: accept its terms on the hub and set HF_TOKEN',
        });
      }
      throw new ModelError(`downloading ${this.repoId} from ${this.endpoint} failed: ${describeError(error)}`, {
        cause: error,
        hint: 'check the network (or set HF_ENDPOINT to a mirror), or download the model yourself and pass --model DIR',
      });
    }
  }

  /** Make `snapshots/<commit>/<file>` point at the blob, downloading the blob unless the cache has it. */
  private async fetchFile(remote: RemoteFile, file: string, snapshotDir: string, fetched: string[]): Promise<void> {
    const blobPath = join(this.repoDir, 'blobs', remote.etag);
    if (!existsSync(blobPath)) {
      mkdirSync(dirname(blobPath), { recursive: true });
      await this.transfer(remote, file, blobPath);
      fetched.push(file);
    }
    const target = join(snapshotDir, file);
    if (existsSync(target)) return;
    mkdirSync(dirname(target), { recursive: true });
    try {
      symlinkSync(relative(dirname(target), blobPath), target);
    } catch {
      copyFileSync(blobPath, target);
    }
  }

  /** Fetch one blob into `<blob>.incomplete`, resuming by Range across attempts and runs, then verify and rename. */
  private async transfer(remote: RemoteFile, file: string, blobPath: string): Promise<void> {
    const partial = `${blobPath}.incomplete`;
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const have = existsSync(partial) ? statSync(partial).size : 0;
      if (remote.size !== undefined && have === remote.size) break;
      try {
        await this.transferFrom(remote, file, partial, have);
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        if (error instanceof HubHttpError && error.status !== 416 && error.status < 500) throw error;
        const got = existsSync(partial) ? statSync(partial).size : 0;
        log().warn({ file, attempt, bytes: got, error: describeError(error) }, 'download interrupted; resuming');
        if (attempt < this.attempts) await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
    if (lastError) throw lastError;
    const size = statSync(partial).size;
    if (remote.size !== undefined && size !== remote.size) {
      rmSync(partial, { force: true });
      throw new ModelError(`${file}: downloaded ${size} bytes where the hub announced ${remote.size}`);
    }
    if (/^[0-9a-f]{64}$/.test(remote.etag)) {
      const digest = await sha256Stream(partial);
      if (digest !== remote.etag) {
        rmSync(partial, { force: true });
        throw new ModelError(`${file}: sha256 ${digest} does not match the hub's ${remote.etag}; the partial download was removed, run again`);
      }
    }
    renameSync(partial, blobPath);
  }

  private async transferFrom(remote: RemoteFile, file: string, partial: string, have: number): Promise<void> {
    const response = await fetch(remote.url, { headers: this.headers(have > 0 ? { range: `bytes=${have}-`, 'accept-encoding': 'identity' } : { 'accept-encoding': 'identity' }) });
    if (response.status === 416 && remote.size !== undefined && have >= remote.size) return;
    if (!response.ok) throw new HubHttpError(response.status, remote.url);
    // 206: the server continues where we stopped; 200: it sent the whole file, so start over.
    const resume = response.status === 206 && have > 0;
    const fd = openSync(partial, resume ? 'a' : 'w');
    let bytes = resume ? have : 0;
    const progress = new Progress(`downloading ${file}`, { unit: 'bytes', total: remote.size, enabled: this.progress });
    progress.update(bytes);
    try {
      if (!response.body) throw new Error('empty response body');
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        for (let written = 0; written < chunk.length; ) written += writeSync(fd, chunk, written, chunk.length - written);
        bytes += chunk.length;
        progress.update(bytes);
      }
    } finally {
      closeSync(fd);
    }
    progress.done();
    if (remote.size !== undefined && bytes < remote.size) throw new Error(`connection closed after ${bytes} of ${remote.size} bytes`);
  }
}

/** An error's message with its network cause ("fetch failed (ECONNREFUSED)"). */
function describeError(error: unknown): string {
  const message = (error as Error).message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${message} (${cause.code})` : cause?.message ? `${message} (${cause.message})` : message;
}

function sha256Stream(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
