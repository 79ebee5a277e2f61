import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { writeTinyBertModelDir } from './helpers/tiny-models.js';
import { resolveModel } from '../src/embed/resolve-model.js';
import { repoCacheDir } from '../src/embed/hub-download.js';
import { OnnxEmbedder } from '../src/embed/onnx-embedder.js';
import { ModelError } from '../src/errors.js';
import { openEmbedder } from '../src/embed/open-embedder.js';
import { CachedEmbedder } from '../src/embed/cached-embedder.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'error';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-embed-hub-'));
process.env.RARE_MINE_CACHE_DIR = join(root, 'rare-mine-cache');
test.after(() => rmSync(root, { recursive: true, force: true }));

const REPO = 'test-org/tiny-embed';
const NO_ONNX_REPO = 'test-org/pytorch-only';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const LFS_FILES = new Set(['onnx/model.onnx']);
const FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'modules.json',
  '1_Pooling/config.json',
  'sentence_bert_config.json',
  'config_sentence_transformers.json',
  'onnx/model.onnx',
];

interface LoggedRequest {
  method: string;
  url: string;
  range?: string;
}

/** A hub look-alike: resolve URLs with X-Repo-Commit/ETag headers, LFS files redirected to a CDN path with Range. */
async function startHub(repos: Record<string, Map<string, Buffer>>, options: { dropFirstCdnTransferAt?: number } = {}) {
  const requests: LoggedRequest[] = [];
  let dropsLeft = options.dropFirstCdnTransferAt === undefined ? 0 : 1;
  const blobs = new Map<string, Buffer>();
  const serveBytes = (req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string>) => {
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    if (start > bytes.length) {
      res.writeHead(416, headers).end();
      return;
    }
    const body = bytes.subarray(start);
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(body.length), ...(range ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!range && dropsLeft > 0 && options.dropFirstCdnTransferAt !== undefined && req.url!.startsWith('/cdn/')) {
      dropsLeft--;
      res.write(body.subarray(0, options.dropFirstCdnTransferAt), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  };
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, range: req.headers.range });
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(req.url!);
    if (cdn) {
      const bytes = blobs.get(cdn[1]);
      if (!bytes) res.writeHead(404).end();
      else serveBytes(req, res, bytes, {});
      return;
    }
    const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
    const files = match ? repos[match[1]] : undefined;
    const file = match ? decodeURIComponent(match[3]) : '';
    if (!match || !files || !['main', COMMIT].includes(match[2]) || !files.has(file)) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end();
      return;
    }
    const bytes = files.get(file)!;
    const gitSha = createHash('sha1').update(bytes).digest('hex');
    if (LFS_FILES.has(file)) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      blobs.set(sha256, bytes);
      res.writeHead(302, {
        location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn/${sha256}`,
        'x-repo-commit': COMMIT,
        'x-linked-etag': `"${sha256}"`,
        'x-linked-size': String(bytes.length),
        etag: `"${gitSha}"`,
      }).end();
      return;
    }
    serveBytes(req, res, bytes, { 'x-repo-commit': COMMIT, etag: `"${gitSha}"` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { endpoint, requests, close };
}

async function modelFiles(): Promise<{ dir: string; files: Map<string, Buffer> }> {
  const dir = join(root, 'source-model');
  if (!existsSync(dir)) await writeTinyBertModelDir(dir, { hiddenSize: 32, layers: 2, heads: 2, maxPosition: 64, pooling: 'cls', seed: 77 });
  return { dir, files: new Map(FILES.map((file) => [file, readFileSync(join(dir, file))])) };
}

test('download from a hub into the HF cache layout, resuming a transfer the server dropped', async () => {
  const { dir: sourceDir, files } = await modelFiles();
  const onnxBytes = files.get('onnx/model.onnx')!;
  const half = Math.floor(onnxBytes.length / 2);
  const hub = await startHub({ [REPO]: files }, { dropFirstCdnTransferAt: half });
  const hfHome = join(root, 'hf-home-1');
  const env = { HF_HOME: hfHome, HF_ENDPOINT: hub.endpoint };
  try {
    const model = await resolveModel(REPO, { env, retryDelayMs: 10, progress: false });
    assert.equal(model.source, 'hub download');
    assert.equal(model.commit, COMMIT);
    assert.equal(model.name, REPO);
    const repoDir = repoCacheDir(join(hfHome, 'hub'), REPO);
    assert.equal(model.dir, join(repoDir, 'snapshots', COMMIT));
    assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), COMMIT);

    // The transfer broke at half the file and continued from there with a Range request.
    const cdnGets = hub.requests.filter((request) => request.method === 'GET' && request.url.startsWith('/cdn/'));
    assert.equal(cdnGets.length, 2);
    assert.equal(cdnGets[0].range, undefined);
    assert.equal(cdnGets[1].range, `bytes=${half}-`);

    // Snapshot files are relative links into blobs/, named by sha256 for LFS files; no partial is left.
    const sha256 = createHash('sha256').update(onnxBytes).digest('hex');
    const link = join(model.dir, 'onnx', 'model.onnx');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), relative(join(model.dir, 'onnx'), join(repoDir, 'blobs', sha256)));
    assert.deepEqual(readFileSync(link), onnxBytes);
    assert.ok(!existsSync(join(repoDir, 'blobs', `${sha256}.incomplete`)));
    for (const file of FILES) assert.deepEqual(readFileSync(join(model.dir, file)), files.get(file), file);

    // The downloaded model is the same model: same fingerprint, same vectors.
    const original = OnnxEmbedder.open(sourceDir, { threads: 1, name: REPO });
    const downloaded = OnnxEmbedder.open(model.dir, { threads: 1, name: REPO });
    assert.equal(downloaded.fingerprint, original.fingerprint);
    assert.deepEqual(await downloaded.embedDocuments(['resumed download']), await original.embedDocuments(['resumed download']));
    await original.close();
    await downloaded.close();

    // A second resolution is served by the hub cache without a single request.
    const before = hub.requests.length;
    const again = await resolveModel(REPO, { env, progress: false });
    assert.equal(again.source, 'hub cache');
    assert.equal(again.dir, model.dir);
    assert.equal(hub.requests.length, before);
  } finally {
    await hub.close();
  }
});

test('an .incomplete blob left by an earlier run is continued, not restarted', async () => {
  const { files } = await modelFiles();
  const onnxBytes = files.get('onnx/model.onnx')!;
  const sha256 = createHash('sha256').update(onnxBytes).digest('hex');
  const hfHome = join(root, 'hf-home-2');
  const blobs = join(repoCacheDir(join(hfHome, 'hub'), REPO), 'blobs');
  mkdirSync(blobs, { recursive: true });
  const already = 1000;
  writeFileSync(join(blobs, `${sha256}.incomplete`), onnxBytes.subarray(0, already));
  const hub = await startHub({ [REPO]: files });
  try {
    const model = await resolveModel(REPO, { env: { HF_HOME: hfHome, HF_ENDPOINT: hub.endpoint }, progress: false });
    const cdnGets = hub.requests.filter((request) => request.method === 'GET' && request.url.startsWith('/cdn/'));
    assert.deepEqual(cdnGets.map((request) => request.range), [`bytes=${already}-`]);
    assert.deepEqual(readFileSync(join(model.dir, 'onnx', 'model.onnx')), onnxBytes);
  } finally {
    await hub.close();
  }
});

test('resolution order: a path, then $RARE_MINE_MODELS, before any hub', async () => {
  const { dir } = await modelFiles();
  const byPath = await resolveModel(dir, { env: {} });
  assert.deepEqual([byPath.source, byPath.dir], ['path', dir]);
  const byModelsDir = await resolveModel('test-org/source-model', { env: { RARE_MINE_MODELS: root, HF_ENDPOINT: 'http://127.0.0.1:9' } });
  assert.deepEqual([byModelsDir.source, byModelsDir.dir, byModelsDir.name], ['models dir', dir, 'test-org/source-model']);

  const cached = await openEmbedder({ model: 'test-org/source-model', env: { RARE_MINE_MODELS: root }, threads: 1 });
  assert.ok(cached.embedder instanceof CachedEmbedder);
  assert.equal(cached.embedder.name, 'test-org/source-model');
  assert.equal(cached.embedder.fingerprint, cached.onnx.fingerprint);
  await cached.embedder.close();
  const uncached = await openEmbedder({ model: dir, cache: false, threads: 1 });
  assert.equal(uncached.embedder, uncached.onnx);
  await uncached.embedder.close();
});

test('a model that cannot be had: the error lists every place searched and how to get it', async () => {
  const { files } = await modelFiles();
  const pytorchOnly = new Map([...files].filter(([file]) => !file.endsWith('.onnx')));
  const hub = await startHub({ [NO_ONNX_REPO]: pytorchOnly });
  const hfHome = join(root, 'hf-home-3');
  const env = { HF_HOME: hfHome, HF_ENDPOINT: hub.endpoint, RARE_MINE_MODELS: join(root, 'no-such-models') };
  try {
    await assert.rejects(resolveModel('test-org/missing', { env, progress: false }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.match(error.message, /no-such-models\/test-org\/missing/);
      assert.match(error.message, /models--test-org--missing/);
      assert.match(error.message, new RegExp(`${hub.endpoint}/test-org/missing`));
      assert.match(error.message, /not found on/);
      assert.match(error.hint ?? '', /--model DIR/);
      assert.match(error.hint ?? '', /`hf download test-org\/missing --include/);
      assert.doesNotMatch(error.hint ?? '', /huggingface-cli/, 'huggingface-cli is deprecated');
      assert.match(error.hint ?? '', /`optimum-cli export onnx --model test-org\/missing DIR`/);
      return true;
    });
    await assert.rejects(resolveModel(NO_ONNX_REPO, { env, progress: false }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.match(error.message, /no ONNX export/);
      assert.match(error.hint ?? '', /optimum-cli export onnx --model test-org\/pytorch-only/);
      return true;
    });
    const requestsBefore = hub.requests.length;
    await assert.rejects(resolveModel(REPO, { env: { ...env, HF_HUB_OFFLINE: '1' } }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.match(error.message, /HF_HUB_OFFLINE is set/);
      return true;
    });
    assert.equal(hub.requests.length, requestsBefore, 'offline: no request made');
    await assert.rejects(resolveModel('./no/such/dir', { env }), (error: unknown) => error instanceof ModelError && /path: does not exist/.test(error.message));
  } finally {
    await hub.close();
  }
});
