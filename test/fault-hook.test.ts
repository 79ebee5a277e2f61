/**
 * The filesystem layer's test hook (src/io/fs.ts, RARE_MINE_FAULT) and the loops and atomic writer built on it:
 * unset, the layer is node:fs itself; count counts; fail:K:CODE fails the K-th operation as the OS would; a short
 * write or read is continued by writeAllSync / readFullSync; and writeFileAtomically, failed at every one of its
 * operations, keeps the old file, leaves no aside file and names the path. (The whole commands under the same loop:
 * test/fault-injection.test.ts, test/slow/fault-injection.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as layer from '../src/io/fs.js';
import { repoRoot } from './helpers/shared-data.js';

const ERROR_CODES = ['ENOSPC', 'EIO', 'EMFILE'];
const fsModule = pathToFileURL(join(repoRoot, 'dist', 'src', 'io', 'fs.js')).href;
const outputModule = pathToFileURL(join(repoRoot, 'dist', 'src', 'io', 'output.js')).href;

/** Run an ES module snippet in a fresh node with RARE_MINE_FAULT set; resolves with its exit status and output. */
function child(script: string, fault: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const run = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, RARE_MINE_FAULT: fault, RARE_MINE_LOG_FORMAT: 'json' } });
    let stdout = '';
    let stderr = '';
    run.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    run.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    run.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('unset, the layer is node:fs itself: no wrapper on any call', () => {
  for (const name of ['openSync', 'writeSync', 'readSync', 'closeSync', 'fsyncSync', 'renameSync', 'rmSync', 'mkdirSync', 'readFileSync', 'writeFileSync'] as const) {
    assert.equal(layer[name], nodeFs[name], `${name} is node:fs's own`);
  }
});

test('count counts every operation and traces it; fail:K:CODE fails exactly the K-th, as the OS would', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-fault-hook-'));
  const file = join(dir, 'a.txt');
  const script = `
    import { openSync, writeSync, closeSync, renameSync } from '${fsModule}';
    try {
      const fd = openSync(${JSON.stringify(file)}, 'w');
      writeSync(fd, 'hello');
      closeSync(fd);
      renameSync(${JSON.stringify(file)}, ${JSON.stringify(file + '.b')});
      console.log('done');
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, syscall: error.syscall, path: error.path ?? null }));
    }`;
  const countFile = join(dir, 'count.txt');
  const counted = await child(script, `count:${countFile}`);
  assert.equal(counted.stdout.trim(), 'done', counted.stderr);
  const [count, ...trace] = readFileSync(countFile, 'utf8').trimEnd().split('\n');
  assert.equal(count, '4');
  assert.deepEqual(trace.map((line) => line.split(' ').slice(0, 2).join(' ')), ['1 open', '2 write', '3 close', '4 rename']);
  assert.equal(trace[1], `2 write ${file}`, 'a descriptor is traced by the path it was opened at');

  const failedWrite = await child(script, 'fail:2:ENOSPC');
  assert.deepEqual(JSON.parse(failedWrite.stdout), { code: 'ENOSPC', syscall: 'write', path: null }, 'a descriptor operation carries no path, as the OS error does not');
  const failedRename = await child(script, 'fail:4:EIO');
  assert.deepEqual(JSON.parse(failedRename.stdout), { code: 'EIO', syscall: 'rename', path: join(dir, 'a.txt') });
  assert.match((await child(script, 'fail:x:EIO')).stderr, /RARE_MINE_FAULT: bad operation number/);
});

test('a short write or read moves half the bytes; writeAllSync and readFullSync continue it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-fault-hook-'));
  const file = join(dir, 'data.bin');
  writeFileSync(file, '');
  const script = `
    import { openSync, writeSync, readSync, writeAllSync, readFullSync, closeSync } from '${fsModule}';
    const fd = openSync(${JSON.stringify(file)}, 'w+');
    const op = process.env.WHICH;
    const data = Buffer.from('0123456789');
    if (op === 'raw-write') console.log(writeSync(fd, data, 0, 10, 0));
    if (op === 'loop-write') { writeAllSync(fd, data, 'x', 0); console.log(10); }
    if (op === 'raw-read' || op === 'loop-read') {
      writeSync(fd, data, 0, 10, 0);
      const into = Buffer.alloc(10);
      console.log(op === 'raw-read' ? readSync(fd, into, 0, 10, 0) : readFullSync(fd, into, 0, 10, 0, 'x'));
    }
    closeSync(fd);`;
  const run = (which: string, fault: string) => {
    process.env.WHICH = which;
    return child(script, fault);
  };
  assert.equal((await run('raw-write', 'fail:2:short')).stdout.trim(), '5', 'the raw write is short');
  assert.equal((await run('loop-write', 'fail:2:short')).stdout.trim(), '10');
  assert.equal(readFileSync(file, 'utf8'), '0123456789', 'writeAllSync wrote every byte');
  assert.equal((await run('raw-read', 'fail:3:short')).stdout.trim(), '5', 'the raw read is short');
  assert.equal((await run('loop-read', 'fail:3:short')).stdout.trim(), '10', 'readFullSync read every byte');
  delete process.env.WHICH;
});

test('writeFileAtomically failed at each of its operations (an error, a short write): the old file kept, no aside left, the path named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-fault-hook-'));
  const script = (target: string) => `
    import { writeFileAtomically } from '${outputModule}';
    try {
      writeFileAtomically(${JSON.stringify(target)}, 'new content, all of it\\n'.repeat(100));
      console.log('ok');
    } catch (error) {
      console.log(JSON.stringify({ code: error.code, path: error.path ?? null }));
    }`;
  const countFile = join(dir, 'count.txt');
  const first = join(dir, 'count-target.json');
  writeFileSync(first, 'old\n');
  assert.equal((await child(script(first), `count:${countFile}`)).stdout.trim(), 'ok');
  const [countLine, ...trace] = readFileSync(countFile, 'utf8').trimEnd().split('\n');
  const count = Number(countLine);
  assert.ok(count >= 5, `open, write, fsync, close, rename at least: ${count}`);
  const runs: Array<Promise<void>> = [];
  for (let k = 1; k <= count; k++) {
    // The three error codes take the same path through the code: one per k (rotating); a short one where k is a write.
    const write = trace[k - 1].split(' ')[1] === 'write';
    for (const mode of [ERROR_CODES[k % ERROR_CODES.length], ...(write ? ['short'] : [])]) {
      const target = join(dir, `t-${k}-${mode}.json`);
      writeFileSync(target, 'old\n');
      runs.push(
        child(script(target), `fail:${k}:${mode}`).then((result) => {
          const content = readFileSync(target, 'utf8');
          if (result.stdout.trim() === 'ok') {
            assert.equal(content, 'new content, all of it\n'.repeat(100), `${mode} at ${k}: succeeded, so complete`);
          } else {
            const error = JSON.parse(result.stdout) as { code: string; path: string | null };
            assert.equal(error.code, mode, `${mode} at ${k}: ${result.stdout}${result.stderr}`);
            assert.ok(error.path?.startsWith(target), `${mode} at ${k}: the error names the file: ${result.stdout}`);
            assert.equal(content, 'old\n', `${mode} at ${k}: the old file is kept`);
          }
        }),
      );
    }
  }
  await Promise.all(runs);
  const left = readdirSync(dir).filter((name) => name.includes('.partial'));
  assert.deepEqual(left, [], 'no aside file is left');
});
