/**
 * Issue 25, item 1: the write gate, walked over the whole command table. For every command (from the register
 * functions src/app/main.ts uses), every option that writes a path and every option or argument that reads one
 * (their roles declared in the option table, src/cli/options.ts), the built binary is run writing onto what it
 * reads: refused with exit 2 (exit 1 for a directory option given a file) naming both, and the read file or
 * directory byte-identical. A new path option is walked the day it is declared; test/path-options.test.ts checks
 * that every option naming a file declares its role.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { declaredPaths, type DeclaredPath } from '../../src/cli/path-plan.js';
import { leafCommands } from '../helpers/command-table.js';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';
import { execFileSync, spawn } from 'node:child_process';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-write-gate-'));
const record = JSON.stringify({ question: 'what is alpha', text: 'alpha is the first letter', _id: 'q1' });
let files = 0;

/** A fresh file (or, for a tree, a directory holding one) that a command reads. */
function readTarget(path: DeclaredPath): string {
  const target = join(dir, `read-${++files}-${path.label.replace(/^-+/, '')}`);
  if (path.decl.kind === 'tree') {
    mkdirSync(target);
    writeFileSync(join(target, 'model.onnx'), 'weights\n');
  } else writeFileSync(target, `${record}\n`);
  return target;
}

/** What is there: a file's bytes, or a directory's names and bytes. */
function snapshot(path: string): string {
  try {
    return readdirSync(path).map((name) => `${name}:${readFileSync(join(path, name), 'latin1')}`).join('|');
  } catch {
    return readFileSync(path, 'latin1');
  }
}

/** Flag and value for a declared path option; an argument is positional. */
function given(path: DeclaredPath, value: string): { flags: string[]; positional?: string } {
  return path.attribute === undefined ? { flags: [], positional: value } : { flags: [path.label, value] };
}

/** Options some writes need to be accepted at all (combination rules), so that the refusal is the gate's. */
const NEEDS: Record<string, string[]> = { '--rejects': ['--on-error', 'skip'], '--colbert-dir': ['--format', 'colbert'] };

test('every command refuses to write any path option onto any path it reads (exit 2), the read file untouched', (t) => {
  let runs = 0;
  for (const { words, command } of leafCommands()) {
    const paths = declaredPaths(command);
    const reads = paths.filter((path) => path.decl.role === 'read');
    const writes = paths.filter((path) => path.decl.role === 'write');
    for (const write of writes) {
      for (const read of reads) {
        const victim = readTarget(read);
        const target = read.decl.kind === 'tree' && write.decl.kind !== 'dir' ? join(victim, 'model.onnx') : victim;
        const args = [...words];
        const positional: string[] = [];
        // Every other required option or argument gets a file of its own.
        for (const other of paths) {
          if (other === read || other === write) continue;
          const required = other.attribute === undefined ? command.registeredArguments[other.argument!].required : command.options.find((o) => o.attributeName() === other.attribute)!.mandatory;
          if (!required) continue;
          const value = other.decl.role === 'read' ? readTarget(other) : join(dir, `write-${++files}`);
          const g = given(other, value);
          args.push(...g.flags);
          if (g.positional) positional.push(g.positional);
        }
        for (const [path, value] of [[read, victim], [write, target]] as const) {
          const g = given(path, value);
          args.push(...g.flags);
          if (g.positional) positional.push(g.positional);
        }
        args.push(...(NEEDS[write.label] ?? []), ...positional);
        const before = snapshot(victim);
        const result = runCli(args, { timeoutMs: 60_000 });
        runs++;
        const what = `rare-mine ${args.join(' ')}`;
        if (write.decl.kind === 'dir' && read.decl.kind !== 'tree') {
          assert.ok(result.status === 1 || result.status === 2, `${what}: exit ${result.status}\n${result.messages()}`);
        } else {
          assert.equal(result.status, 2, `${what}\n${result.messages()}`);
          assert.match(result.messages(), new RegExp(`${write.label}.*(is the same file as|is inside|holds)`), what);
        }
        assert.equal(snapshot(victim), before, `${what}: the read path changed`);
      }
    }
  }
  assert.ok(runs >= 60, `${runs} runs`);
  t.diagnostic(`${runs} runs of the binary, each refused`);
});

test('--rejects through a link whose target does not exist yet is compared by its target (here -o)', () => {
  const input = join(dir, 'links-in.jsonl');
  writeFileSync(input, `${record}\n`);
  const out = join(dir, 'links-out.jsonl');
  const link = join(dir, 'rejects-link');
  symlinkSync(out, link);
  const result = runCli(['bm25', input, '-o', out, '--on-error', 'skip', '--rejects', link], { timeoutMs: 60_000 });
  assert.equal(result.status, 2, result.messages());
  assert.match(result.messages(), /-o .*links-out\.jsonl and --rejects .*rejects-link name the same file/);
});

test("merge refuses -o onto a shard's sidecar, which it reads", () => {
  const shard = join(dir, 'shard.jsonl');
  writeFileSync(shard, `${record}\n`);
  writeFileSync(`${shard}.shard.json`, '{}\n');
  const result = runCli(['merge', shard, '-o', `${shard}.shard.json`], { timeoutMs: 60_000 });
  assert.equal(result.status, 2, result.messages());
  assert.match(result.messages(), /-o .*shard\.json is the same file as shard sidecar/);
  assert.equal(readFileSync(`${shard}.shard.json`, 'utf8'), '{}\n');
});

test('special files on purpose: report -o and bm25 -o /dev/stdout write to fd 1 (no partial, no rename); --rejects a FIFO is opened once for the run', async () => {
  const corpus = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');
  const out = join(dir, 'special-out.jsonl');
  const mined = runCli(['bm25', corpus, '-o', out, '--with-scores'], { timeoutMs: 120_000 });
  assert.equal(mined.status, 0, mined.messages());
  const report = runCli(['report', out, '-o', '/dev/stdout'], { timeoutMs: 120_000 });
  assert.equal(report.status, 0, report.messages());
  assert.match(report.stdout, /^<!DOCTYPE html>/i);
  // Mining -o /dev/stdout (stdout a socket here, which cannot be opened again): written through fd 1, as `-` is.
  const viaPath = runCli(['bm25', corpus, '-o', '/dev/stdout', '--with-scores'], { timeoutMs: 120_000 });
  assert.equal(viaPath.status, 0, viaPath.messages());
  assert.equal(viaPath.stdout, readFileSync(out, 'utf8'));
  const stats = runCli(['stats', out, '--stats-json', '/dev/stdout'], { timeoutMs: 120_000 });
  assert.equal(stats.status, 0, stats.messages());
  assert.match(stats.stdout, /"records": 40/);

  const fifo = join(dir, 'rejects.fifo');
  execFileSync('mkfifo', [fifo]);
  const input = join(dir, 'bad-lines.jsonl');
  writeFileSync(input, `${record}\nnot json\n${record}\n{"question": 3}\nalso not json\n`);
  const reader = spawn('cat', [fifo]);
  let received = '';
  reader.stdout.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
  const readerDone = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  const run = spawn(process.execPath, [cliPath, 'bm25', input, '--corpus', corpus, '--on-error', 'skip', '--rejects', fifo, '-o', join(dir, 'fifo-out.jsonl')], {
    env: { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1' },
  });
  let stderr = '';
  run.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => run.on('close', (code) => resolve(code)));
  await readerDone;
  assert.equal(status, 0, stderr);
  const lines = received.trim().split('\n').map((line) => JSON.parse(line) as { line: number });
  assert.deepEqual(lines.map((line) => line.line), [2, 4, 5], 'every rejected line reached the one reader of the FIFO');
});
