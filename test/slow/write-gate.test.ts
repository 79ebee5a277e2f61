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
