/**
 * Issue 9, items 7, 11 and 15: non-seekable inputs, writing through what is already there, and ordinary I/O
 * problems. Pipes and FIFOs are read by plain runs (spooled when the input is also the corpus), refused with
 * --shard/--resume (exit 2); the partial output is created exclusively (a planted OUT.partial symlink is never
 * followed); a FIFO or device named by -o is written directly, never replaced; a full disk, a missing directory, a
 * directory or a file where a directory goes is exit 1 with one line naming the path and the cause, never "internal error".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertRegularPartial, OutputSink, writeFileAtomically } from '../src/io/output.js';
import { isSeekable, readLines } from '../src/io/line-reader.js';
import { FileError, fileErrorFrom } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { cliPath } from './helpers/shared-data.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-io-'));
const input = join(dir, 'in.jsonl');
const inputText = Array.from({ length: 6 }, (_, i) => JSON.stringify({ question: `what is topic ${i}`, text: `topic ${i} is a passage about subject ${i % 3}` })).join('\n') + '\n';
writeFileSync(input, inputText);
const isRoot = process.getuid?.() === 0;

function fifo(name: string): string {
  const path = join(dir, name);
  const made = spawnSync('mkfifo', [path]);
  assert.equal(made.status, 0, 'mkfifo');
  return path;
}

/**
 * Feed `text` into the FIFO from another process (it blocks until a reader opens it). The text goes through a file,
 * not the writer's stdin: the CLI tests block this process's event loop (spawnSync) while the writer runs.
 */
function feed(path: string, text: string): void {
  const source = `${path}.source`;
  writeFileSync(source, text);
  spawn('sh', ['-c', `cat '${source}' > '${path}'`], { stdio: 'ignore' });
}

test('OutputSink: a planted OUT.partial symlink is unlinked, never written through; a stale partial is replaced', async () => {
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious\n');
  const out = join(dir, 'planted.jsonl');
  symlinkSync(victim, `${out}.partial`);
  const sink = new OutputSink(out);
  await sink.write('{"a":1}\n');
  await sink.commit();
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n', "the link's target is untouched");
  assert.equal(readFileSync(out, 'utf8'), '{"a":1}\n');
  assert.ok(lstatSync(out).isFile());

  const dangling = join(dir, 'dangling.jsonl');
  symlinkSync(join(dir, 'would-be-created.txt'), `${dangling}.partial`);
  const second = new OutputSink(dangling);
  await second.write('x\n');
  await second.commit();
  assert.ok(!existsSync(join(dir, 'would-be-created.txt')), 'a dangling link is not followed to create its target');

  writeFileSync(`${out}.partial`, 'stale bytes from an interrupted run\n');
  const third = new OutputSink(out);
  await third.write('fresh\n');
  await third.commit();
  assert.equal(readFileSync(out, 'utf8'), 'fresh\n');
});

test('OutputSink: a directory at OUT.partial, and a resumed partial that is a link, are FileErrors', () => {
  const out = join(dir, 'dir-partial.jsonl');
  mkdirSync(`${out}.partial`);
  assert.throws(() => new OutputSink(out), (error: unknown) => error instanceof FileError && /is a directory where rare-mine writes its partial output/.test(error.message));
  const resumed = join(dir, 'resumed.jsonl');
  symlinkSync(input, `${resumed}.partial`);
  assert.throws(() => assertRegularPartial(`${resumed}.partial`), (error: unknown) => error instanceof FileError && /is a symbolic link, not a partial output/.test(error.message));
  assert.throws(() => new OutputSink(resumed, { append: true }), FileError);
  assert.equal(readFileSync(input, 'utf8'), inputText);
});

test('OutputSink: -o naming a FIFO or /dev/null is written directly (no partial, no rename); /dev/full fails with its path', async () => {
  const pipe = fifo('out.fifo');
  const chunks: Buffer[] = [];
  const reader = createReadStream(pipe);
  const read = new Promise<void>((resolve) => reader.on('data', (c) => chunks.push(c as Buffer)).on('end', () => resolve()));
  const sink = new OutputSink(pipe);
  assert.ok(sink.direct);
  await sink.write('through the fifo\n');
  await sink.commit();
  await read;
  assert.equal(Buffer.concat(chunks).toString(), 'through the fifo\n');
  assert.ok(statSync(pipe).isFIFO(), 'still a FIFO');
  assert.ok(!existsSync(`${pipe}.partial`));

  const devNull = new OutputSink('/dev/null');
  await devNull.write('gone\n');
  await devNull.commit();
  assert.ok(statSync('/dev/null').isCharacterDevice());
  assert.ok(!existsSync('/dev/null.partial'));

  const full = new OutputSink('/dev/full');
  await full.write('x'.repeat(1 << 16));
  await assert.rejects(full.commit(), (error: unknown) => {
    const mapped = fileErrorFrom(error);
    return mapped !== undefined && mapped.exitCode === 1 && /^\/dev\/full: no space left on device \(ENOSPC/.test(mapped.message);
  });
});

test('OutputSink: a device node named by -o stays a device node (as root)', { skip: isRoot ? false : 'needs root to mknod' }, async () => {
  const node = join(dir, 'null-device');
  const made = spawnSync('mknod', [node, 'c', '1', '3']);
  assert.equal(made.status, 0, String(made.stderr));
  const sink = new OutputSink(node);
  await sink.write('to the device\n');
  await sink.commit();
  assert.ok(statSync(node).isCharacterDevice(), 'not replaced by a regular file');
});

test('fileErrorFrom: errno errors become one line naming the path and the cause; anything else is left for exit 70', () => {
  const enoent = Object.assign(new Error('x'), { code: 'ENOENT', path: 'a/b.jsonl', syscall: 'open' });
  assert.equal(fileErrorFrom(enoent)?.message, 'a/b.jsonl: no such file or directory (ENOENT in open)');
  const rename = Object.assign(new Error('x'), { code: 'EISDIR', path: 'o.partial', dest: 'o', syscall: 'rename' });
  assert.equal(fileErrorFrom(rename)?.message, 'o.partial -> o: is a directory (EISDIR in rename)');
  const noPath = Object.assign(new Error('x'), { code: 'ENOSPC', syscall: 'write' });
  assert.equal(fileErrorFrom(noPath, '<stdout>')?.message, '<stdout>: no space left on device (ENOSPC in write)');
  assert.equal(fileErrorFrom(new TypeError('a bug')), undefined);
  assert.equal(fileErrorFrom(Object.assign(new Error('x'), { code: 'ERR_ASSERTION' })), undefined);
});

test('a FIFO is read whole by a plain read (no ESPIPE), and is not seekable', async () => {
  const pipe = fifo('in.fifo');
  assert.equal(isSeekable(pipe), false);
  assert.equal(isSeekable(input), true);
  feed(pipe, inputText);
  const lines: string[] = [];
  for await (const line of readLines(pipe)) lines.push(line.text);
  assert.equal(lines.join('\n') + '\n', inputText);
});

test('CLI: pipes and FIFOs are mined (spooled when the input is also the corpus); --shard and --resume refuse them (exit 2)', () => {
  const plain = fifo('plain.fifo');
  feed(plain, inputText);
  const run = runCli(['bm25', '--num-neg', '2', plain]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.json().length, 6);
  assert.ok(run.json().every((r) => r.hard_negatives.length === 2), 'the corpus was read from the spooled copy');

  const corpusFifo = fifo('corpus.fifo');
  const inputFifo = fifo('queries.fifo');
  feed(corpusFifo, inputText);
  feed(inputFifo, inputText);
  const withCorpus = runCli(['bm25', '--num-neg', '2', '--corpus', corpusFifo, inputFifo]);
  assert.equal(withCorpus.status, 0, withCorpus.stderr);
  assert.equal(withCorpus.json().length, 6);

  const sharded = runCli(['bm25', '--shard', '0/2', fifo('shard.fifo'), '-o', join(dir, 'shard.jsonl')]);
  assert.equal(sharded.status, 2);
  assert.match(sharded.stderr, /--shard needs a regular input file \(it reads a byte range of it\); .*shard\.fifo is a pipe, FIFO or device/);
  const resumed = runCli(['bm25', '--resume', fifo('resume.fifo'), '-o', join(dir, 'resume.jsonl')]);
  assert.equal(resumed.status, 2);
  assert.match(resumed.stderr, /--resume needs a regular input file/);
});

test('CLI: ordinary I/O problems are exit 1 with one line naming the path and the cause (stdout > /dev/full, -o /dev/full, merge, -o into a missing dir, --index-dir a file)', () => {
  const full = openSync('/dev/full', 'w');
  const toFull = spawnSync(process.execPath, [cliPath, 'bm25', input], { stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: { ...process.env, RARE_MINE_LOG_LEVEL: 'warn', RARE_MINE_NO_PROGRESS: '1' } });
  closeSync(full);
  assert.equal(toFull.status, 1, toFull.stderr);
  assert.match(toFull.stderr, /^rare-mine: <stdout>: no space left on device \(ENOSPC/m);

  const cases: Array<[string[], RegExp]> = [
    [['bm25', input, '-o', '/dev/full'], /^\/dev\/full: no space left on device \(ENOSPC/m],
    [['bm25', input, '-o', join(dir, 'missing', 'out.jsonl')], /missing\/out\.jsonl: -o: directory .*missing does not exist \(ENOENT\)/],
    [['bm25', input, '--index-dir', input], /in\.jsonl: --index-dir names a file, not a directory \(ENOTDIR\)/],
    [['bm25', input, '--stats-json', join(dir, 'missing', 's.json')], /--stats-json: directory .* does not exist/],
  ];
  for (const [args, message] of cases) {
    const run = runCli(args);
    assert.equal(run.status, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.messages(), message);
    assert.doesNotMatch(run.stderr, /internal error/);
  }

  const shards = [0, 1].map((i) => join(dir, `part-${i}.jsonl`));
  for (const [i, part] of shards.entries()) assert.equal(runCli(['bm25', '--shard', `${i}/2`, input, '-o', part]).status, 0);
  const merged = runCli(['merge', '-o', '/dev/full', ...shards]);
  assert.equal(merged.status, 1, merged.stderr);
  assert.match(merged.messages(), /^\/dev\/full: no space left on device/m);
  const overShard = runCli(['merge', '-o', shards[1], ...shards]);
  assert.equal(overShard.status, 2, 'merge -o onto one of its inputs is refused');
});

test('CLI: --stats-json failing after the output was committed says the output is complete (exit 1)', () => {
  const out = join(dir, 'complete.jsonl');
  const run = runCli(['bm25', input, '-o', out, '--stats-json', '/dev/full']);
  assert.equal(run.status, 1, run.stderr);
  assert.match(run.stderr, /\/dev\/full: cannot write --stats-json: no space left on device/);
  assert.match(run.messages(), /hint: the output .*complete\.jsonl is complete \(6 records\); only the statistics file is missing/);
  assert.equal(readFileSync(out, 'utf8').trimEnd().split('\n').length, 6);
});

test('small files written whole (the report, shard sidecars) never write through a link planted at their aside name', () => {
  const victim = join(dir, 'atomic-victim.txt');
  writeFileSync(victim, 'precious\n');
  const report = join(dir, 'atomic-report.html');
  symlinkSync(victim, `${report}.partial`);
  writeFileAtomically(report, '<html></html>\n');
  assert.equal(readFileSync(report, 'utf8'), '<html></html>\n');
  const sidecar = join(dir, 'atomic.shard.json');
  symlinkSync(victim, `${sidecar}.new`);
  writeFileAtomically(sidecar, '{}\n', `${sidecar}.new`);
  assert.equal(readFileSync(sidecar, 'utf8'), '{}\n');
  assert.equal(readFileSync(victim, 'utf8'), 'precious\n', "the link's target is untouched");
  assert.equal(existsSync(`${report}.partial`), false);
});
