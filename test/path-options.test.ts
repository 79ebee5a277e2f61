/**
 * Issue 25, item 1: the write gate's plan comes from the option table. Every option or argument of every command
 * that names a file or directory declares whether it is read or written (src/cli/option-spec.ts PathDecl), so the
 * gate (src/cli/path-plan.ts → src/io/path-safety.ts) checks it and test/slow/write-gate.test.ts walks it; the mining
 * run's plan (no command in hand) declares every path any mining command has; a dangling link is compared by its
 * target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPaths } from '../src/io/path-safety.js';
import { commandPathPlan, declaredPaths } from '../src/cli/path-plan.js';
import { miningPathTemplate } from '../src/cli/options.js';
import { UsageError } from '../src/errors.js';
import { leafCommands } from './helpers/command-table.js';
import { repoRoot } from './helpers/shared-data.js';

/** Values that are not paths from the working dir, and why. */
const NOT_PATHS: Record<string, string> = {
  '--onnx-file': 'a file inside the model directory, relative to it (the model loader bounds it to that dir)',
  'models prepare <name>': 'the name of a built-in model',
};

test('the command table of the tests is the one src/app/main.ts registers', () => {
  const main = readFileSync(join(repoRoot, 'src', 'app', 'main.ts'), 'utf8');
  // Static or dynamic imports of the command files, each once.
  const registered = [...new Set([...main.matchAll(/(?:from |import\()\s*'\.\.\/commands\/([\w-]+)\.js'/g)].map((m) => m[1]))].sort();
  assert.deepEqual(registered, ['eval', 'index-cmd', 'merge', 'mine', 'models', 'report', 'stats']);
});

test('every option and argument that names a file or directory declares its path role', () => {
  const leaves = leafCommands();
  assert.ok(leaves.length >= 10, `${leaves.length} commands`);
  const missing: string[] = [];
  for (const { words, command } of leaves) {
    const declared = new Set(declaredPaths(command).map((path) => path.attribute ?? `#${path.argument}`));
    for (const option of command.options) {
      const pathLike = /<(file|dir|path|files\.\.\.)>/.test(option.flags);
      if (pathLike && !declared.has(option.attributeName()) && NOT_PATHS[option.long ?? ''] === undefined) missing.push(`${words.join(' ')} ${option.flags}`);
    }
    command.registeredArguments.forEach((argument, index) => {
      const name = `${words.join(' ')} <${argument.name()}>`;
      if (!declared.has(`#${index}`) && NOT_PATHS[name] === undefined) missing.push(name);
    });
  }
  assert.deepEqual(missing, [], 'path options and arguments without a declared role (declare `path:` in their spec)');
});

test('the mining run plans every path a mining command declares (miningPathTemplate)', () => {
  const template = new Map(declaredPaths(miningPathTemplate()).map((path) => [path.attribute ?? `#${path.argument}`, path]));
  const mining = leafCommands().filter(({ command }) => declaredPaths(command).some((path) => path.label === '-o') && command.options.some((o) => o.long === '--batch-size'));
  assert.ok(mining.length >= 3, mining.map((m) => m.words.join(' ')).join(', '));
  for (const { words, command } of mining) {
    for (const path of declaredPaths(command)) {
      const key = path.attribute ?? `#${path.argument}`;
      assert.deepEqual(template.get(key)?.decl, path.decl, `${words.join(' ')} ${path.label}: not in miningPathTemplate, or declared otherwise`);
    }
  }
});

test("a command's plan: its declared reads and writes with their values, names that are not files left out, derived files added", () => {
  const bm25 = leafCommands().find(({ words }) => words.join(' ') === 'bm25')!.command;
  const plan = commandPathPlan(bm25, { corpus: 'c.jsonl', output: 'o.jsonl', rejects: 'r.jsonl', stopwords: 'lucene', statsJson: 's.json' }, ['in.jsonl'], { siblings: { '-o': ['o.jsonl.partial'] } });
  assert.deepEqual(plan.reads.map((use) => `${use.option} ${use.path}`), ['input in.jsonl', '--corpus c.jsonl']);
  assert.deepEqual(plan.writes.map((use) => `${use.option} ${use.path} ${(use.siblings ?? []).join(',')}`), ['-o o.jsonl o.jsonl.partial', '--rejects r.jsonl ', '--stats-json s.json ']);
  const withFile = commandPathPlan(bm25, { stopwords: 'my-stopwords.txt' }, []);
  assert.deepEqual(withFile.reads.map((use) => `${use.option} ${use.path}`), ['--stopwords my-stopwords.txt']);
});

test('a dangling symbolic link is compared by its target: --rejects through a link to the -o not yet written, a chain of links', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-gate-'));
  const out = join(dir, 'out.jsonl');
  const link = join(dir, 'rejects-link');
  symlinkSync(out, link);
  const chain = join(dir, 'chain');
  symlinkSync('rejects-link', chain);
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, '{}\n');
  const usage = (error: unknown) => error instanceof UsageError && /name the same file/.test(error.message);
  assert.throws(() => checkPaths({ reads: [{ option: 'input', path: input }], writes: [{ option: '-o', path: out }, { option: '--rejects', path: link }] }), usage);
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: out }, { option: '--stats-json', path: chain }] }), usage);
  const linkToDirLink = join(dir, 'sub-link');
  symlinkSync(join(dir, 'not-yet-dir'), linkToDirLink);
  assert.doesNotThrow(() => checkPaths({ reads: [{ option: 'input', path: input }], writes: [{ option: '-o', path: join(dir, 'other.jsonl') }, { option: '--rejects', path: link }] }));
});
