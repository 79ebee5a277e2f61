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
 * The server is not trusted: names it gives are accepted only in the shapes the cache layout allows (commits
 * 40 hex digits, blob names 40 or 64), file paths come from the fixed lists below, and every path is checked
 * to resolve inside the cache (symlinks included) before anything is written; redirects are followed by hand
 * and the token is sent only to the endpoint's own origin; a body is cut off, and the download fails, at the
 * announced size or at the file's bound (MODEL_FILE_BOUNDS, model-files.ts) when none is announced.
 * A stalled server fails the download within its timeouts (no answer within `headersTimeoutMs`, connecting
 * included; no body bytes for `idleTimeoutMs`), each request retried a bounded number of times with a doubling
 * wait; no message ever holds a credential (the token, an Authorization header, a password in the endpoint URL).
 */
import { Progress, progressWanted } from '../terminal/progress.js';
import { createHash } from 'node:crypto';
import { closeSync, constants, copyFileSync, createReadStream, existsSync, openSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeAllSync, writeFileSync, readFileSync } from '../io/fs.js';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ModelError, UsageError } from '../errors.js';
import { log } from '../log.js';
import { runScope } from '../run-scope.js';
import { checkEndpoint, huggingFaceEndpoint, huggingFaceHubCache, withoutPassword } from './cache-paths.js';
import { findOnnxFile } from './model-dir.js';
import { MODEL_FILE_BOUNDS, modelFileBound } from './model-files.js';
import { makeDirs } from '../io/make-dirs.js';

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

/** Most redirects followed for one request. */
const MAX_REDIRECTS = 10;

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
  /** Longest wait for a response's status and headers (connecting included), in ms. Default 30,000. */
  headersTimeoutMs?: number;
  /** Longest wait for the next bytes of a body, in ms. Default 60,000. */
  idleTimeoutMs?: number;
  /** Draw a progress line on stderr. Default: when stderr is a terminal and RARE_MINE_NO_PROGRESS is unset. */
  progress?: boolean;
  /** Bound of one file in bytes, below MODEL_FILE_BOUNDS (for tests and small machines). Default: MODEL_FILE_BOUNDS. */
  maxFileBytes?: number;
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
/** Blob names: a git blob sha1 (40 hex) or an LFS sha256 (64 hex). */
const BLOB_PATTERN = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** A relative path of plain name segments (no "..", no absolute path, no backslash). */
const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** True when `path` is made of safe name segments joined by "/". */
function isSafeRelativePath(path: string): boolean {
  return path.length > 0 && path.length <= 255 && path.split('/').every((segment) => SAFE_SEGMENT.test(segment) && segment !== '..');
}

/**
 * The ONNX files a download may fetch: the fixed candidates, or the one asked for (a safe relative path ending in
 * .onnx), each with its external-data file.
 * @throws ModelError for an unsafe or non-ONNX `onnxFile`
 */
function onnxCandidates(onnxFile: string | undefined): string[] {
  if (onnxFile === undefined) return [...HUB_ONNX_CANDIDATES];
  if (!isSafeRelativePath(onnxFile) || !onnxFile.endsWith('.onnx')) {
    throw new ModelError(`ONNX file "${onnxFile}" is not a relative path to a .onnx file inside the repo`);
  }
  return [onnxFile];
}

/** A revision is a branch, tag or commit: safe name segments ("refs/pr/1" included). */
function checkRevision(revision: string): string {
  if (!isSafeRelativePath(revision)) throw new ModelError(`revision "${revision}" is not a branch, tag or commit name`);
  return revision;
}

/**
 * `path` when it resolves inside `root` (symlinks of existing parents followed), else a ModelError: a name from
 * the server must never lead a write outside the hub cache. Checked before any folder on the way is created.
 */
function insideCache(root: string, path: string): string {
  const realRoot = realpathSync(root);
  let existing = resolve(path);
  const rest: string[] = [];
  while (!existsSync(existing)) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  const real = join(realpathSync(existing), ...rest);
  const within = relative(realRoot, real);
  if (within === '' || within.startsWith('..') || isAbsolute(within) || within.split(sep).includes('..')) {
    throw new ModelError(`refusing to write ${path}: it resolves to ${real}, outside the hub cache ${realRoot}`);
  }
  return path;
}

/**
 * The cached snapshot of a repo at a revision, when it holds the files rare-mine needs (config.json,
 * tokenizer.json and an ONNX model); undefined otherwise.
 */
export function findCachedSnapshot(repoId: string, options: { cacheDir?: string; revision?: string; onnxFile?: string } = {}): CachedSnapshot | undefined {
  const repoDir = repoCacheDir(options.cacheDir ?? huggingFaceHubCache(), repoId);
  const revision = checkRevision(options.revision ?? 'main');
  let commit = revision;
  if (!COMMIT_PATTERN.test(revision)) {
    const ref = join(repoDir, 'refs', revision);
    if (!existsSync(ref) || !statSync(ref).isFile() || statSync(ref).size > 64) return undefined;
    commit = readFileSync(ref, 'utf8').trim();
    if (!COMMIT_PATTERN.test(commit)) return undefined;
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

/** Cut a server-given value short and quote it for an error message. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

class HubHttpError extends Error {
  constructor(readonly status: number, readonly url: string) {
    super(`HTTP ${status} for ${url}`);
  }
}

/** A request that timed out (no headers in time, or a body that stalled): retried like a broken connection. */
class HubTimeoutError extends Error {}

/** Default timeouts, in ms: a stalled server fails the download in about attempts × these, not in minutes. */
export const HUB_TIMEOUTS = { headersMs: 30_000, idleMs: 60_000 } as const;

/**
 * `text` with every credential replaced by <redacted>: the token (whole, and each of its lines, should it hold a
 * line break), any `Bearer …` value and the password of a URL.
 */
export function redactCredentials(text: string, token: string | undefined): string {
  let out = text;
  const secrets = token === undefined ? [] : [token, ...token.split(/[\r\n]+/)].map((part) => part.trim()).filter((part) => part.length >= 4);
  for (const secret of secrets.sort((a, b) => b.length - a.length)) out = out.split(secret).join('<redacted>');
  out = out.replace(/(Bearer\s+)[^\s"',]+/gi, '$1<redacted>');
  return withoutPassword(out);
}

/**
 * The token when an HTTP header can carry it (surrounding whitespace removed); a UsageError naming `name` — never
 * showing the token — when it holds a line break or another character a header cannot carry.
 */
function checkToken(token: string | undefined, name: string): string | undefined {
  if (token === undefined) return undefined;
  const trimmed = token.trim();
  if (trimmed === '') return undefined;
  // RFC 9110 field values: visible ASCII, spaces and tabs; a token needs none of the latter.
  if (!/^[\x21-\x7e]+$/.test(trimmed)) {
    throw new UsageError(`${name} holds a line break, a space or another character an HTTP header cannot carry (it is not shown here)`, {
      hint: `set ${name} to the token alone, e.g. export ${name}="$(tr -d '\\n' < token-file)"`,
    });
  }
  return trimmed;
}

/** Downloads one repo into the hub cache (see the module header for the layout and guarantees). */
export class HubDownloader {
  readonly endpoint: string;
  readonly hubCache: string;
  private readonly token?: string;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly progress: boolean;
  private readonly endpointOrigin: string;
  private readonly headersTimeoutMs: number;
  private readonly idleTimeoutMs: number;

  constructor(readonly repoId: string, private readonly options: HubDownloadOptions = {}) {
    if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(repoId) || repoId.split('/').includes('..')) throw new ModelError(`"${repoId}" is not a hub repo id (org/name)`);
    this.endpoint = options.endpoint === undefined ? huggingFaceEndpoint() : checkEndpoint(options.endpoint.replace(/\/+$/, ''), 'the hub endpoint');
    this.endpointOrigin = new URL(this.endpoint).origin;
    this.hubCache = options.cacheDir ?? huggingFaceHubCache();
    this.token = options.token !== undefined ? checkToken(options.token, 'the hub token') : checkToken(process.env.HF_TOKEN, 'HF_TOKEN');
    this.attempts = options.attempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.headersTimeoutMs = options.headersTimeoutMs ?? HUB_TIMEOUTS.headersMs;
    this.idleTimeoutMs = options.idleTimeoutMs ?? HUB_TIMEOUTS.idleMs;
    this.progress = options.progress ?? progressWanted();
  }

  /** `text` without credentials, for every message and log line. */
  private redact(text: string): string {
    return redactCredentials(text, this.token);
  }

  /**
   * fetch with the headers timeout: the answer's status and headers must come within headersTimeoutMs (connecting
   * included), else the request is aborted and a HubTimeoutError thrown. `abort` also cuts the body off later.
   */
  private async fetchTimed(url: string, init: RequestInit, abort: AbortController): Promise<Response> {
    const timer = setTimeout(() => abort.abort(new HubTimeoutError(`no answer from ${new URL(url).origin} within ${this.headersTimeoutMs} ms`)), this.headersTimeoutMs);
    try {
      // The run scope's signal too: a run that ends (an error elsewhere, a signal) aborts its requests at once.
      return await fetch(url, { ...init, signal: AbortSignal.any([abort.signal, runScope().signal]) });
    } catch (error) {
      if (abort.signal.aborted && abort.signal.reason instanceof HubTimeoutError) throw abort.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The chunks of a body, each within idleTimeoutMs of the one before; a stalled body aborts the request and
   * throws a HubTimeoutError.
   */
  private async *timedBody(body: ReadableStream<Uint8Array>, abort: AbortController): AsyncGenerator<Uint8Array> {
    const reader = body.getReader();
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new HubTimeoutError(`the body stalled: no bytes for ${this.idleTimeoutMs} ms`)), this.idleTimeoutMs);
        });
        try {
          const { done, value } = await Promise.race([reader.read(), stalled]);
          if (done) return;
          yield value;
        } catch (error) {
          abort.abort();
          throw error;
        } finally {
          clearTimeout(timer);
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * `request` retried on a broken connection, a timeout or a 5xx answer (not on a ModelError or another HTTP
   * status), at most `attempts` times, waiting retryDelayMs, then twice that, and so on.
   */
  private async withRetries<T>(what: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request();
      } catch (error) {
        if (error instanceof ModelError || (error instanceof HubHttpError && error.status < 500)) throw error;
        if (attempt >= this.attempts) throw error;
        log().warn({ request: what, attempt, error: this.redact(describeError(error)) }, 'hub request failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private get repoDir(): string {
    return repoCacheDir(this.hubCache, this.repoId);
  }

  /** Request headers for `url`: the token only goes to the endpoint's own origin (as huggingface_hub does). */
  private headers(url: string, extra: Record<string, string> = {}): Record<string, string> {
    const sameOrigin = new URL(url).origin === this.endpointOrigin;
    return { 'user-agent': 'rare-mine', ...(this.token && sameOrigin ? { authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  /**
   * GET `url`, following redirects by hand so that each hop gets its own headers (no token across origins).
   * @throws ModelError after MAX_REDIRECTS hops
   */
  private async get(url: string, extra: Record<string, string>, signal: AbortController): Promise<{ response: Response; url: string }> {
    let at = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const response = await this.fetchTimed(at, { redirect: 'manual', headers: this.headers(at, extra) }, signal);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        at = new URL(location, at).toString();
        continue;
      }
      return { response, url: at };
    }
    throw new ModelError(`${url}: more than ${MAX_REDIRECTS} redirects`);
  }

  private resolveUrl(revision: string, file: string): string {
    return `${this.endpoint}/${this.repoId}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  }

  /** HEAD a file (retried: withRetries), without following the hub's redirect to its storage, to read commit, ETag and size. */
  private head(revision: string, file: string): Promise<RemoteFile | undefined> {
    return this.withRetries(`HEAD ${file}`, () => this.headOnce(revision, file));
  }

  private async headOnce(revision: string, file: string): Promise<RemoteFile | undefined> {
    let url = this.resolveUrl(revision, file);
    for (let hop = 0; hop < 5; hop++) {
      const response = await this.fetchTimed(url, { method: 'HEAD', redirect: 'manual', headers: this.headers(url, { 'accept-encoding': 'identity' }) }, new AbortController());
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
      const rawEtag = response.headers.get('x-linked-etag') ?? response.headers.get('etag');
      if (!commit || !rawEtag) throw new ModelError(`${url}: the hub's answer lacks X-Repo-Commit or ETag; is ${this.endpoint} a Hugging Face hub?`);
      // Both become file names in the cache: only the shapes the layout allows are accepted.
      if (!COMMIT_PATTERN.test(commit)) throw new ModelError(`${url}: the hub answered X-Repo-Commit ${quoted(commit)}, not a commit (40 hex digits); refusing it`);
      const etag = normalizeEtag(rawEtag);
      if (!BLOB_PATTERN.test(etag)) throw new ModelError(`${url}: the hub answered ETag ${quoted(rawEtag)}, not a blob name (40 or 64 hex digits); refusing it`);
      const sizeHeader = response.headers.get('x-linked-size') ?? (isRedirect ? null : response.headers.get('content-length'));
      const size = sizeHeader === null ? undefined : Number(sizeHeader);
      if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) throw new ModelError(`${url}: the hub announced a size of ${quoted(sizeHeader ?? '')} bytes`);
      return { url: isRedirect && location ? new URL(location, url).toString() : url, commit, etag, size };
    }
    throw new ModelError(`${this.resolveUrl(revision, file)}: too many redirects`);
  }

  /**
   * Download the model's files at `revision` (default main) into the hub cache and return the snapshot.
   * Files already in the cache are not fetched again.
   * @throws ModelError when the repo, a required file or an ONNX export is missing, or the transfer fails
   */
  async download(): Promise<CachedSnapshot> {
    const revision = checkRevision(this.options.revision ?? 'main');
    const onnxFiles = onnxCandidates(this.options.onnxFile);
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
      let onnxFound = false;
      for (const file of onnxFiles) {
        const remote = await this.head(commit, file);
        if (!remote) continue;
        await this.fetchFile(remote, file, snapshotDir, fetched);
        const externalData = await this.head(commit, `${file}_data`);
        if (externalData) await this.fetchFile(externalData, `${file}_data`, snapshotDir, fetched);
        onnxFound = true;
        break;
      }
      if (!onnxFound) {
        throw new ModelError(`${this.repoId}@${commit.slice(0, 8)} has no ONNX export (looked for ${onnxFiles.join(', ')})`, {
          hint: `export one with \`optimum-cli export onnx --model ${this.repoId} --task feature-extraction DIR\` and pass --model DIR`,
        });
      }
      for (const file of HUB_OPTIONAL_FILES) {
        const remote = await this.head(commit, file);
        if (remote) await this.fetchFile(remote, file, snapshotDir, fetched);
      }
      if (revision !== commit) {
        const ref = join(this.repoDir, 'refs', revision);
        insideCache(this.hubCache, ref);
        makeDirs(dirname(ref));
        writeFileSync(ref, commit);
      }
      log().info({ model: this.repoId, commit, files: fetched.length, dir: snapshotDir }, fetched.length ? 'model downloaded' : 'model already in the hub cache');
      return { dir: snapshotDir, commit };
    } catch (error) {
      throw this.redactedError(error);
    }
  }

  /** The error a download ends with, as a ModelError whose message, hint and cause hold no credential. */
  private redactedError(error: unknown): ModelError {
    const clean = (e: ModelError) => {
      const message = this.redact(e.message);
      const hint = e.hint === undefined ? undefined : this.redact(e.hint);
      return message === e.message && hint === e.hint ? e : new ModelError(message, { hint, cause: new Error(message) });
    };
    if (error instanceof ModelError) return clean(error);
    const endpoint = withoutPassword(this.endpoint);
    const cause = new Error(this.redact(describeError(error)));
    if (error instanceof HubHttpError && (error.status === 401 || error.status === 403)) {
      return clean(new ModelError(`${this.repoId}: access denied by ${endpoint} (HTTP ${error.status})`, {
        cause,
        hint: 'the repo may be gated or private: accept its terms on the hub and set HF_TOKEN',
      }));
    }
    return clean(new ModelError(`downloading ${this.repoId} from ${endpoint} failed: ${cause.message}`, {
      cause,
      hint: 'check the network (or set HF_ENDPOINT to a mirror), or download the model yourself and pass --model DIR',
    }));
  }

  /** Make `snapshots/<commit>/<file>` point at the blob, downloading the blob unless the cache has it. */
  private async fetchFile(remote: RemoteFile, file: string, snapshotDir: string, fetched: string[]): Promise<void> {
    if (!isSafeRelativePath(file)) throw new ModelError(`${file}: not a repo file path rare-mine fetches`);
    makeDirs(this.hubCache);
    const blobPath = insideCache(this.hubCache, join(this.repoDir, 'blobs', remote.etag));
    makeDirs(dirname(blobPath));
    if (!existsSync(blobPath)) {
      await this.transfer(remote, file, blobPath);
      fetched.push(file);
    }
    const target = join(snapshotDir, file);
    if (existsSync(target)) return;
    insideCache(this.hubCache, target);
    makeDirs(dirname(target));
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
      if (remote.size !== undefined && have === remote.size && existsSync(partial)) break;
      try {
        await this.transferFrom(remote, file, partial, have);
        lastError = undefined;
        break;
      } catch (error) {
        lastError = error;
        if (error instanceof ModelError) throw error;
        if (error instanceof HubHttpError && error.status !== 416 && error.status < 500) throw error;
        const got = existsSync(partial) ? statSync(partial).size : 0;
        log().warn({ file, attempt, bytes: got, error: this.redact(describeError(error)) }, 'download interrupted; resuming');
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

  /**
   * One GET into `partial` (appending from `have` when the server honours the Range). The body is counted and cut
   * off past the announced size, or past the file's bound when none is announced: the partial is removed and the
   * download fails (a ModelError, not retried).
   */
  private async transferFrom(remote: RemoteFile, file: string, partial: string, have: number): Promise<void> {
    const bound = Math.min(modelFileBound(file), this.options.maxFileBytes ?? Number.POSITIVE_INFINITY);
    if (remote.size !== undefined && remote.size > bound) {
      throw new ModelError(`${file}: the hub announced ${remote.size} bytes, more than the ${bound} bytes rare-mine downloads for a *${extensionOf(file)} file`);
    }
    const limit = remote.size ?? bound;
    const what = remote.size !== undefined ? `the ${remote.size} bytes announced` : `the ${bound}-byte bound for a *${extensionOf(file)} file (no size was announced)`;
    const abort = new AbortController();
    const extra: Record<string, string> = have > 0 ? { range: `bytes=${have}-`, 'accept-encoding': 'identity' } : { 'accept-encoding': 'identity' };
    const { response, url } = await this.get(remote.url, extra, abort);
    if (response.status === 416 && remote.size !== undefined && have >= remote.size) return;
    if (!response.ok) {
      abort.abort();
      throw new HubHttpError(response.status, url);
    }
    // 206: the server continues where we stopped; 200: it sent the whole file, so start over.
    const resume = response.status === 206 && have > 0;
    let bytes = resume ? have : 0;
    const announced = response.headers.get('content-length');
    if (announced !== null && Number(announced) + bytes > limit) {
      // Abort, not cancel: the connection must not be reused with the rest of this body still coming.
      abort.abort();
      throw new ModelError(`${file}: the server answered ${Number(announced) + bytes} bytes, more than ${what}`);
    }
    // O_NOFOLLOW: a link planted at the partial's name is never written through.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (resume ? constants.O_APPEND : constants.O_TRUNC);
    const fd = openSync(partial, flags, 0o644);
    const progress = new Progress(`downloading ${file}`, { unit: 'bytes', total: remote.size, enabled: this.progress });
    progress.update(bytes);
    let overrun = false;
    try {
      if (!response.body) throw new Error('empty response body');
      for await (const chunk of this.timedBody(response.body, abort)) {
        const room = limit - bytes;
        const keep = Math.min(chunk.length, Math.max(room, 0));
        writeAllSync(fd, chunk.subarray(0, keep), partial);
        bytes += keep;
        progress.update(bytes);
        if (chunk.length > room) {
          // Leaving the loop cancels the body; the abort closes the connection for good.
          overrun = true;
          break;
        }
      }
    } finally {
      closeSync(fd);
      if (overrun) abort.abort();
    }
    if (overrun) {
      rmSync(partial, { force: true });
      throw new ModelError(`${file}: the server sent more than ${what}; the download was stopped there and removed`, {
        hint: 'the hub (or HF_ENDPOINT) answered wrongly: check the endpoint, or download the model yourself and pass --model DIR',
      });
    }
    progress.done();
    if (remote.size !== undefined && bytes < remote.size) throw new Error(`connection closed after ${bytes} of ${remote.size} bytes`);
  }
}

/** The bound-table suffix of a file name, for messages. */
function extensionOf(file: string): string {
  return MODEL_FILE_BOUNDS.find((row) => file.endsWith(row.suffix))?.suffix.slice(1) ?? '';
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
