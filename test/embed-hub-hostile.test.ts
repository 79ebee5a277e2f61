/**
 * A hostile hub on 127.0.0.1: traversal names in ETag / X-Repo-Commit, planted links in the cache, redirects to
 * another origin (a second server on another port) with a token set, endless bodies and lying sizes. The tests
 * prove nothing is written outside the hub cache, the token never leaves the endpoint's origin, and downloads
 * stop at their bound and fail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { HubDownloader, redactCredentials, repoCacheDir } from '../src/embed/hub-download.js';
import { huggingFaceEndpoint } from '../src/embed/cache-paths.js';
import { MODEL_FILE_BOUNDS, modelFileBound } from '../src/embed/model-files.js';
import { ModelError, UsageError } from '../src/errors.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'error';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-hostile-hub-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const REPO = 'evil-org/model';
const COMMIT = 'c0ffee0000000000000000000000000000000001';
const TOKEN = 'hf_secret_token_1234';

interface Logged {
  method: string;
  url: string;
  authorization?: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A server on 127.0.0.1 whose handler can be set after it starts (so two servers can name each other). */
async function startServer() {
  const requests: Logged[] = [];
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const server = createServer((req, res) => {
    requests.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    handle(next: Handler) {
      handler = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const gitSha = (bytes: Buffer) => createHash('sha1').update(bytes).digest('hex');
const FILES = new Map<string, Buffer>([
  ['config.json', Buffer.from('{"hidden_size": 32}')],
  ['tokenizer.json', Buffer.from('{"model": {}}')],
  ['onnx/model.onnx', Buffer.from('not really onnx, but bytes')],
  ['special_tokens_map.json', Buffer.alloc(0)],
]);

/** The ordinary answer for a repo file: commit, ETag, size, body; `headers` replaces any of them. */
function serve(req: IncomingMessage, res: ServerResponse, bytes: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${gitSha(bytes)}"`, 'content-length': String(bytes.length), ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** The repo file a resolve URL names, or undefined. */
function fileOf(req: IncomingMessage): string | undefined {
  const match = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
  return match && match[1] === REPO ? decodeURIComponent(match[3]) : undefined;
}

/** A hub that serves FILES, except where `override` answers (return true when it did). */
function hubHandler(override: (req: IncomingMessage, res: ServerResponse, file: string) => boolean = () => false): Handler {
  return (req, res) => {
    const file = fileOf(req);
    if (file === undefined || !FILES.has(file)) {
      res.writeHead(404).end();
      return;
    }
    if (!override(req, res, file)) serve(req, res, FILES.get(file)!);
  };
}

/** Send chunks until the client goes away; `sent` counts what the server managed to write. */
function endless(res: ServerResponse, headers: Record<string, string>, counter: { sent: number }): void {
  res.writeHead(200, headers);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const pump = () => {
    while (!res.destroyed && counter.sent < 2 ** 30) {
      counter.sent += chunk.length;
      if (!res.write(chunk)) return;
    }
  };
  res.on('drain', pump);
  pump();
}

/** A fresh sandbox: the hub cache inside it, and everything else in it watched. */
function sandbox(name: string): { dir: string; cache: string } {
  const dir = join(root, name);
  const cache = join(dir, 'hf', 'hub');
  mkdirSync(cache, { recursive: true });
  return { dir, cache };
}

/** Every file or link under `dir`, relative. */
function allFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ name: string; parentPath?: string; path?: string; isDirectory(): boolean }>)
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(dir, join(entry.parentPath ?? entry.path ?? dir, entry.name)));
}

/** Nothing was written in the sandbox except under the hub cache. */
function assertConfined(box: { dir: string; cache: string }): void {
  const outside = allFiles(box.dir).filter((file) => !join(box.dir, file).startsWith(box.cache + '/'));
  assert.deepEqual(outside, [], 'files written outside the hub cache');
}

function downloader(endpoint: string, cache: string, options: { token?: string; revision?: string; onnxFile?: string; maxFileBytes?: number; headersTimeoutMs?: number; idleTimeoutMs?: number } = {}): HubDownloader {
  return new HubDownloader(REPO, { endpoint, cacheDir: cache, progress: false, attempts: 2, retryDelayMs: 1, ...options });
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ModelError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

test('traversal names from the hub are refused and nothing is written outside the cache', async () => {
  const hub = await startServer();
  try {
    const cases: Array<[string, (req: IncomingMessage, res: ServerResponse, file: string) => boolean, RegExp]> = [
      ['ETag "../../../../x"', (req, res, file) => file === 'config.json' && (serve(req, res, FILES.get(file)!, { etag: '"../../../../x"' }), true), /ETag "\\"..\/..\/..\/..\/x\\"", not a blob name/],
      ['ETag of an absolute path', (req, res, file) => file === 'tokenizer.json' && (serve(req, res, FILES.get(file)!, { etag: `"${join(root, 'pwned')}"` }), true), /not a blob name/],
      ['ETag with a 40-hex prefix and a tail', (req, res, file) => file === 'config.json' && (serve(req, res, FILES.get(file)!, { etag: `"${'a'.repeat(40)}/../../x"` }), true), /not a blob name/],
      ['X-Linked-Etag traversal on the LFS file', (req, res, file) => file === 'onnx/model.onnx' && (serve(req, res, FILES.get(file)!, { 'x-linked-etag': '"../../../x"' }), true), /not a blob name/],
      ['X-Repo-Commit "../../../x"', (req, res, file) => file === 'config.json' && (serve(req, res, FILES.get(file)!, { 'x-repo-commit': '../../../x' }), true), /X-Repo-Commit "..\/..\/..\/x", not a commit/],
      ['X-Repo-Commit not 40 hex', (req, res, file) => file === 'config.json' && (serve(req, res, FILES.get(file)!, { 'x-repo-commit': 'main' }), true), /not a commit/],
    ];
    for (const [name, override, message] of cases) {
      const box = sandbox(`traversal-${cases.findIndex((c) => c[0] === name)}`);
      hub.handle(hubHandler(override));
      await rejectsWith(downloader(hub.origin, box.cache).download(), message);
      assertConfined(box);
      assert.ok(!existsSync(join(box.dir, 'x')) && !existsSync(join(root, 'x')) && !existsSync(join(root, 'pwned')), name);
    }
  } finally {
    await hub.close();
  }
});

test('links planted in the cache (snapshot dir, blobs dir) are never written through', async () => {
  const hub = await startServer();
  hub.handle(hubHandler());
  try {
    for (const planted of ['snapshots', 'blobs']) {
      const box = sandbox(`planted-${planted}`);
      const outside = join(box.dir, 'outside');
      mkdirSync(outside);
      const repoDir = repoCacheDir(box.cache, REPO);
      mkdirSync(repoDir, { recursive: true });
      symlinkSync(outside, join(repoDir, planted));
      await rejectsWith(downloader(hub.origin, box.cache).download(), /outside the hub cache/);
      assert.deepEqual(readdirSync(outside), [], `nothing written through the planted ${planted} link`);
    }
  } finally {
    await hub.close();
  }
});

test('a revision or ONNX file name that leaves the repo is refused before any request', async () => {
  const hub = await startServer();
  hub.handle(hubHandler());
  try {
    const box = sandbox('names');
    await rejectsWith(downloader(hub.origin, box.cache, { revision: '../../x' }).download(), /revision "..\/..\/x" is not a branch/);
    await rejectsWith(downloader(hub.origin, box.cache, { onnxFile: '../model.onnx' }).download(), /not a relative path to a \.onnx file/);
    await rejectsWith(downloader(hub.origin, box.cache, { onnxFile: '/etc/model.onnx' }).download(), /not a relative path/);
    assert.throws(() => new HubDownloader('../../etc', { endpoint: hub.origin, cacheDir: box.cache }), /not a hub repo id/);
    assert.equal(hub.requests.length, 0);
    assertConfined(box);
    // A sound download still works, and its refs/main names the commit.
    const snapshot = await downloader(hub.origin, box.cache).download();
    assert.equal(snapshot.commit, COMMIT);
    assert.equal(readFileSync(join(repoCacheDir(box.cache, REPO), 'refs', 'main'), 'utf8'), COMMIT);
    assert.deepEqual(readFileSync(join(snapshot.dir, 'onnx', 'model.onnx')), FILES.get('onnx/model.onnx'));
    assert.equal(readFileSync(join(snapshot.dir, 'special_tokens_map.json')).length, 0, 'an empty file is a file');
  } finally {
    await hub.close();
  }
});

test('with a token set, redirects to another origin never receive it (HEAD, GET, protocol-relative)', async () => {
  const hub = await startServer();
  const cdn = await startServer();
  const onnx = FILES.get('onnx/model.onnx')!;
  const sha256 = createHash('sha256').update(onnx).digest('hex');
  cdn.handle((req, res) => {
    if (req.url === `/lfs/${sha256}`) serve(req, res, onnx, {});
    else if (req.url === '/tokenizer.json') serve(req, res, FILES.get('tokenizer.json')!);
    else res.writeHead(404).end();
  });
  try {
    const cases: Array<[string, (req: IncomingMessage, res: ServerResponse, file: string) => boolean]> = [
      [
        'LFS file: HEAD redirects to the CDN origin',
        (req, res, file) => {
          if (file !== 'onnx/model.onnx') return false;
          res.writeHead(302, { location: `${cdn.origin}/lfs/${sha256}`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${sha256}"`, 'x-linked-size': String(onnx.length) }).end();
          return true;
        },
      ],
      [
        'GET redirected to another origin after a plain HEAD',
        (req, res, file) => {
          if (file !== 'tokenizer.json' || req.method !== 'GET') return false;
          res.writeHead(302, { location: `${cdn.origin}/tokenizer.json` }).end();
          return true;
        },
      ],
      [
        'protocol-relative redirect (//host:port/...) on HEAD',
        (req, res, file) => {
          if (file !== 'onnx/model.onnx') return false;
          res.writeHead(302, { location: `//${new URL(cdn.origin).host}/lfs/${sha256}` }).end();
          return true;
        },
      ],
    ];
    for (const [name, override] of cases) {
      const box = sandbox(`token-${cases.findIndex((c) => c[0] === name)}`);
      hub.requests.length = 0;
      cdn.requests.length = 0;
      hub.handle(hubHandler(override));
      try {
        await downloader(hub.origin, box.cache, { token: TOKEN }).download();
      } catch (error) {
        // The protocol-relative HEAD lands on a server that is no hub (no X-Repo-Commit): refused, which is fine.
        assert.ok(error instanceof ModelError, `${name}: ${String(error)}`);
      }
      assert.ok(cdn.requests.length > 0, `${name}: the other origin was asked`);
      assert.deepEqual(cdn.requests.filter((r) => r.authorization !== undefined), [], `${name}: no token to the other origin`);
      assert.ok(hub.requests.length > 0 && hub.requests.every((r) => r.authorization === `Bearer ${TOKEN}`), `${name}: the hub itself gets the token`);
      assertConfined(box);
    }
  } finally {
    await hub.close();
    await cdn.close();
  }
});

test('endless bodies and lying sizes: the download stops at its bound, fails, and leaves no blob', async () => {
  const hub = await startServer();
  const cdn = await startServer();
  const counter = { sent: 0 };
  const bound = 1 << 20;
  try {
    const cases: Array<[string, Handler, { maxFileBytes?: number }, RegExp]> = [
      [
        'no size announced, endless body: stops at the bound',
        hubHandler((req, res, file) => {
          if (file !== 'config.json') return false;
          if (req.method === 'HEAD') res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${'b'.repeat(40)}"` }).end();
          else endless(res, { 'x-repo-commit': COMMIT }, counter);
          return true;
        }),
        { maxFileBytes: bound },
        /more than the 1048576-byte bound for a \*json file \(no size was announced\)/,
      ],
      [
        'HEAD announces 37 bytes, the GET body is endless',
        hubHandler((req, res, file) => {
          if (file !== 'tokenizer.json') return false;
          if (req.method === 'HEAD') res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${'c'.repeat(40)}"`, 'content-length': '37' }).end();
          else endless(res, {}, counter);
          return true;
        }),
        {},
        /sent more than the 37 bytes announced/,
      ],
      [
        'LFS: X-Linked-Size 37, the CDN (another origin) sends endlessly',
        hubHandler((req, res, file) => {
          if (file !== 'onnx/model.onnx') return false;
          res.writeHead(302, { location: `${cdn.origin}/lfs/endless`, 'x-repo-commit': COMMIT, 'x-linked-etag': `"${'d'.repeat(64)}"`, 'x-linked-size': '37' }).end();
          return true;
        }),
        {},
        /sent more than the 37 bytes announced/,
      ],
      [
        'GET announces a Content-Length above the HEAD size',
        hubHandler((req, res, file) => {
          if (file !== 'config.json') return false;
          if (req.method === 'HEAD') res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${'e'.repeat(40)}"`, 'content-length': '37' }).end();
          else res.writeHead(200, { 'content-length': String(5 << 20) }).end(Buffer.alloc(5 << 20));
          return true;
        }),
        {},
        /answered 5242880 bytes, more than the 37 bytes announced/,
      ],
      [
        'an announced size above the bound is refused before the transfer',
        hubHandler((req, res, file) => {
          if (file !== 'config.json') return false;
          res.writeHead(200, { 'x-repo-commit': COMMIT, etag: `"${'f'.repeat(40)}"`, 'content-length': String(8 * 2 ** 30) }).end();
          return true;
        }),
        {},
        /announced 8589934592 bytes, more than the 268435456 bytes rare-mine downloads for a \*json file/,
      ],
    ];
    cdn.handle((req, res) => endless(res, {}, counter));
    for (const [name, handler, options, message] of cases) {
      const box = sandbox(`bounds-${cases.findIndex((c) => c[0] === name)}`);
      counter.sent = 0;
      hub.handle(handler);
      const started = performance.now();
      await rejectsWith(downloader(hub.origin, box.cache, options).download(), message);
      assert.ok(performance.now() - started < 20_000, `${name}: stopped promptly`);
      assert.ok(counter.sent < 64 << 20, `${name}: the server could send only ${counter.sent} bytes before the client stopped`);
      const blobs = join(repoCacheDir(box.cache, REPO), 'blobs');
      const written = existsSync(blobs) ? readdirSync(blobs) : [];
      assert.deepEqual(written.filter((f) => f !== gitSha(FILES.get('config.json')!) && f !== gitSha(FILES.get('tokenizer.json')!)), [], `${name}: no blob nor partial left`);
      assertConfined(box);
    }
    assert.throws(() => modelFileBound('weights.bin'), /not a model file rare-mine reads/);
    assert.deepEqual(MODEL_FILE_BOUNDS.map((row) => row.suffix), ['.json', '.onnx', '.onnx_data']);
  } finally {
    await hub.close();
    await cdn.close();
  }
});

test('a stalled server fails within the timeouts: no headers (HEAD and GET), a body that stops; each request retried a bounded number of times', async () => {
  const hub = await startServer();
  const held: ServerResponse[] = [];
  try {
    const cases: Array<[string, Handler, RegExp]> = [
      ['HEAD never answered', (_req, res) => void held.push(res), /no answer from http:\/\/127\.0\.0\.1:\d+ within 150 ms/],
      [
        'GET never answered',
        hubHandler((req, res, file) => {
          if (file !== 'config.json' || req.method === 'HEAD') return false;
          held.push(res);
          return true;
        }),
        /no answer from .* within 150 ms/,
      ],
      [
        'GET body stops after its first bytes',
        hubHandler((req, res, file) => {
          if (file !== 'config.json' || req.method === 'HEAD') return false;
          res.writeHead(200, { 'content-length': String(FILES.get(file)!.length) });
          res.write(FILES.get(file)!.subarray(0, 4));
          held.push(res);
          return true;
        }),
        /the body stalled: no bytes for 150 ms/,
      ],
    ];
    for (const [name, handler, message] of cases) {
      const box = sandbox(`stalled-${cases.findIndex((c) => c[0] === name)}`);
      hub.handle(handler);
      const before = hub.requests.length;
      const started = performance.now();
      await rejectsWith(downloader(hub.origin, box.cache, { headersTimeoutMs: 150, idleTimeoutMs: 150 }).download(), message);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(seconds < 5, `${name}: failed after ${seconds.toFixed(1)} s`);
      const tries = hub.requests.slice(before).filter((r) => r.method === (name.startsWith('HEAD') ? 'HEAD' : 'GET')).length;
      assert.equal(tries, 2, `${name}: attempts 2, so two requests`);
      assertConfined(box);
    }
  } finally {
    for (const res of held) res.destroy();
    await hub.close();
  }
});

test('HF_ENDPOINT must be an http(s) URL (a UsageError naming it, exit 2, no password shown); a token a header cannot carry is refused unshown', () => {
  for (const value of ['not a url', 'ftp://mirror.example', 'https://', 'file:///etc/passwd']) {
    assert.throws(() => huggingFaceEndpoint({ HF_ENDPOINT: value }), (error: unknown) => error instanceof UsageError && error.exitCode === 2 && /^HF_ENDPOINT must be an http\(s\) URL/.test(error.message), value);
  }
  assert.throws(() => huggingFaceEndpoint({ HF_ENDPOINT: 'https//user:hunter2@mirror' }), (error: unknown) => error instanceof UsageError && !error.message.includes('hunter2'));
  assert.equal(huggingFaceEndpoint({ HF_ENDPOINT: 'http://127.0.0.1:8080/' }), 'http://127.0.0.1:8080');
  assert.throws(() => new HubDownloader(REPO, { endpoint: 'nope' }), UsageError);
  for (const token of [`${TOKEN}\nsecond-line-secret`, `${TOKEN} tail`, `${TOKEN}\u0000`]) {
    assert.throws(
      () => new HubDownloader(REPO, { endpoint: 'http://127.0.0.1:1', token }),
      (error: unknown) => error instanceof UsageError && /the hub token holds a line break/.test(error.message) && !error.message.includes(TOKEN) && !error.message.includes('second-line'),
    );
  }
  const saved = process.env.HF_TOKEN;
  process.env.HF_TOKEN = `${TOKEN}\r\n`;
  try {
    assert.doesNotThrow(() => new HubDownloader(REPO, { endpoint: 'http://127.0.0.1:1' }), 'a trailing line break (a token file) is trimmed');
  } finally {
    if (saved === undefined) delete process.env.HF_TOKEN;
    else process.env.HF_TOKEN = saved;
  }
});

test('no credential in any message: the token, each of its lines, a Bearer value, a password in the endpoint', async () => {
  const text = `failed: Bearer ${TOKEN} for https://user:pw-secret@hub.example/x; ${TOKEN}; line2-secret`;
  const clean = redactCredentials(text, `${TOKEN}\nline2-secret`);
  for (const secret of [TOKEN, 'pw-secret', 'line2-secret']) assert.ok(!clean.includes(secret), clean);
  const hub = await startServer();
  try {
    hub.handle((_req, res) => res.writeHead(503).end());
    assert.throws(() => downloader(hub.origin.replace('http://', 'http://user:pw-secret@'), sandbox('redacted-url').cache), (error: unknown) => error instanceof UsageError && /must not hold a user name or password/.test(error.message) && !error.message.includes('pw-secret'));
    const box = sandbox('redacted');
    await assert.rejects(downloader(hub.origin, box.cache, { token: TOKEN }).download(), (error: unknown) => {
      assert.ok(error instanceof ModelError, String(error));
      const shown = `${error.message} ${error.hint ?? ''} ${String((error.cause as Error | undefined)?.message)}`;
      assert.match(error.message, /HTTP 503/);
      assert.ok(!shown.includes(TOKEN) && !shown.includes('pw-secret'), shown);
      return true;
    });
  } finally {
    await hub.close();
  }
});
