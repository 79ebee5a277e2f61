/**
 * Model files are read with a bound: a model.onnx (or tokenizer.json, config.json, model.onnx_data) that is a
 * link to /dev/zero, a FIFO or a huge file is a ModelError naming the bound, at once; SIGTERM/SIGINT end the
 * process at once while a model is read, hashed or loaded (withDefaultSignals).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTinyBertModelDir, writeTinyCrossEncoderModelDir } from '../helpers/tiny-models.js';
import { OnnxEmbedder } from '../../src/embed/onnx-embedder.js';
import { CrossEncoder } from '../../src/rescore/cross-encoder.js';
import { checkModelFile, modelFileBound, readModelFile } from '../../src/embed/model-files.js';
import { ModelError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

process.env.RARE_MINE_LOG_LEVEL ??= 'warn';
const root = mkdtempSync(join(tmpdir(), 'rare-mine-model-files-'));
process.env.RARE_MINE_CACHE_DIR = join(root, 'cache');
test.after(() => rmSync(root, { recursive: true, force: true }));
const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

let source: string | undefined;
/** A fresh copy of a tiny model directory (regular files), to damage. */
async function modelCopy(name: string): Promise<string> {
  if (!source) {
    source = join(root, 'source');
    await writeTinyBertModelDir(source, { hiddenSize: 32, layers: 1, heads: 2, maxPosition: 64, seed: 3 });
  }
  const dir = join(root, name);
  cpSync(source, dir, { recursive: true });
  return dir;
}

function replaceWithLink(path: string, target: string): void {
  rmSync(path);
  symlinkSync(target, path);
}

function replaceWithFifo(path: string): void {
  rmSync(path);
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
}

const refused = (pattern: RegExp) => (error: unknown) => error instanceof ModelError && pattern.test(error.message);

test('a link to /dev/zero, a FIFO or a huge file as a model file is refused at once, naming the bound', async () => {
  const cases: Array<[string, string, (path: string) => void, RegExp]> = [
    ['model.onnx → /dev/zero', 'onnx/model.onnx', (path) => replaceWithLink(path, '/dev/zero'), /model.onnx \(it resolves to \/dev\/zero\) is a character device; model files must be regular files/],
    ['model.onnx a FIFO', 'onnx/model.onnx', replaceWithFifo, /is a FIFO/],
    ['model.onnx of 3 GiB (sparse)', 'onnx/model.onnx', (path) => truncateSync(path, 3 * 2 ** 30), /is 3221225472 bytes \(3072 MiB\), more than the 2048 MiB bound for a \*\.onnx file/],
    ['model.onnx a directory', 'onnx/model.onnx', (path) => { rmSync(path); cpSync(join(root, 'source', 'onnx'), path, { recursive: true }); }, /is a directory/],
    ['tokenizer.json → /dev/zero', 'tokenizer.json', (path) => replaceWithLink(path, '/dev/zero'), /tokenizer.json .* is a character device/],
    ['config.json a FIFO', 'config.json', replaceWithFifo, /config.json is a FIFO/],
    ['config.json of 300 MiB (sparse)', 'config.json', (path) => truncateSync(path, 300 * 2 ** 20), /more than the 256 MiB bound for a \*\.json file/],
    ['model.onnx_data → /dev/zero', 'onnx/model.onnx_data', (path) => symlinkSync('/dev/zero', path), /model.onnx_data .* is a character device/],
  ];
  for (const [name, file, damage, message] of cases) {
    const dir = await modelCopy(name.replace(/[^a-z0-9]+/gi, '-'));
    damage(join(dir, file));
    const started = performance.now();
    assert.throws(() => OnnxEmbedder.open(dir, { threads: 1 }), refused(message), name);
    assert.ok(performance.now() - started < 2000, `${name}: refused at once`);
  }
});

test('a cross-encoder whose model.onnx is a link to /dev/zero is refused', async () => {
  const dir = join(root, 'cross');
  await writeTinyCrossEncoderModelDir(dir, { seed: 4 });
  replaceWithLink(join(dir, 'onnx', 'model.onnx'), '/dev/zero');
  await assert.rejects(CrossEncoder.open(dir, { threads: 1 }), refused(/is a character device/));
});

test('bounded reads: the bound table, and a file read whole within its bound', () => {
  assert.equal(modelFileBound('a/tokenizer.json'), 256 * 2 ** 20);
  assert.equal(modelFileBound('onnx/model.onnx'), 2 * 2 ** 30);
  assert.throws(() => modelFileBound('model.bin'), refused(/not a model file rare-mine reads/));
  const path = join(root, 'small.json');
  writeFileSync(path, '{"a": 1}');
  assert.equal(readModelFile(path).toString(), '{"a": 1}');
  assert.throws(() => readModelFile(path, 4), refused(/is 8 bytes .* more than the 0\.000 MiB bound/));
  assert.throws(() => checkModelFile(join(root, 'missing.json')), refused(/cannot be read/));
});

test('CLI: dense --model with model.onnx → /dev/zero ends at once with exit 4 and the reason', async () => {
  const dir = await modelCopy('cli-dev-zero');
  replaceWithLink(join(dir, 'onnx', 'model.onnx'), '/dev/zero');
  const started = performance.now();
  const run = runCli(['dense', '--model', dir, fixture], { env: { RARE_MINE_CACHE_DIR: join(root, 'cli-cache') } });
  assert.equal(run.status, 4, run.stderr);
  assert.match(run.stderr, /is a character device; model files must be regular files/);
  assert.equal(run.stdout, '');
  assert.ok(performance.now() - started < 15_000);
});

test('SIGTERM and SIGINT end the process at once during a step that blocks the event loop (withDefaultSignals)', async () => {
  const script = [
    `import { installSignalHandlers, withDefaultSignals } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'terminal', 'signals.js'))};`,
    'installSignalHandlers();',
    "await withDefaultSignals(() => { process.stderr.write('blocking\\n'); const end = Date.now() + 8000; while (Date.now() < end); });",
    "process.stderr.write('survived\\n');",
  ].join('\n');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    let stderr = '';
    const started = await new Promise<number>((resolve) => child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('blocking')) resolve(performance.now());
    }));
    child.kill(signal);
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })));
    assert.deepEqual(ended, { code: null, signal }, `${signal}: killed by the signal (the shell shows ${signal === 'SIGTERM' ? 143 : 130})`);
    assert.ok(performance.now() - started < 3000, `${signal}: at once, not after the 8 s step`);
    assert.ok(!stderr.includes('survived'));
  }
});

test('a signal that came before a blocking step: the step is not started, the handler ends the process (143)', async () => {
  const script = [
    `import { installSignalHandlers, withDefaultSignals } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'terminal', 'signals.js'))};`,
    `import { runScope } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'run-scope.js'))};`,
    'installSignalHandlers();',
    // A release that takes a while (as a thread's or a lock's does): the handler's stop is still under way when
    // the blocking step would start.
    "runScope().own('slow release', () => new Promise((resolve) => setTimeout(resolve, 300)));",
    "process.kill(process.pid, 'SIGTERM');",
    "await withDefaultSignals(() => { process.stderr.write('blocking\\n'); const end = Date.now() + 8000; while (Date.now() < end); });",
    "process.stderr.write('survived\\n');",
  ].join('\n');
  const started = performance.now();
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json' } });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })));
  assert.deepEqual(ended, { code: 143, signal: null }, stderr);
  assert.ok(!stderr.includes('blocking') && !stderr.includes('survived'), stderr);
  assert.ok(performance.now() - started < 5000, 'at once, not after the 8 s step');
});

test('CLI: SIGTERM while a large model file is being hashed ends the run at once, by the signal', async () => {
  const dir = await modelCopy('cli-large');
  // A sparse graph just under the 2 GiB bound: a regular file within it, so it is hashed (seconds) before
  // onnxruntime sees it.
  truncateSync(join(dir, 'onnx', 'model.onnx'), 2 * 2 ** 30 - 1);
  const child = spawn(process.execPath, [cliPath, 'dense', '--model', dir, fixture], {
    // "model resolved" (debug) is logged just before the model is read and hashed.
    env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1', RARE_MINE_LOG_LEVEL: 'debug', RARE_MINE_CACHE_DIR: join(root, 'large-cache') },
  });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })));
  const started = await Promise.race([
    new Promise<number>((resolve) => child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('"model resolved"')) resolve(performance.now());
    })),
    exited.then((how) => assert.fail(`the run ended (${JSON.stringify(how)}) before the model was loaded:\n${stderr}`)),
  ]);
  child.kill('SIGTERM');
  const ended = await exited;
  // Killed by the signal inside the loading step, or by the handler when the signal came just before it: both
  // are what the shell shows as 143.
  assert.ok(ended.signal === 'SIGTERM' || ended.code === 143, `${JSON.stringify(ended)}\n${stderr}`);
  assert.ok(performance.now() - started < 1500, 'ended at once, not after hashing 2 GiB');
});
