/**
 * Issue 9, item 1: every path a command writes is checked against every path it reads, and against the other
 * paths it writes, before anything is opened for writing (src/io/path-safety.ts). Unit cases for the class
 * (same path, symlink, hard link, `dir/../name`, a not-yet-existing output named twice, an index dir's parts),
 * then each command through the built CLI: exit 2, and the input untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkPaths } from '../src/io/path-safety.js';
import { indexDirWrites } from '../src/index/layout.js';
import { INDEX_PARTS } from '../src/retrievers/index-parts.js';
import { FileError, UsageError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rare-mine-paths-'));
const input = join(dir, 'in.jsonl');
const inputText = [
  { question: 'what is alpha', text: 'alpha is the first letter' },
  { question: 'what is beta', text: 'beta is the second letter' },
  { question: 'what is gamma', text: 'gamma is the third letter' },
].map((r) => JSON.stringify(r)).join('\n') + '\n';
writeFileSync(input, inputText);

const usage = (message: RegExp) => (error: unknown) => error instanceof UsageError && message.test(error.message);
const fileError = (message: RegExp) => (error: unknown) => error instanceof FileError && error.exitCode === 1 && message.test(error.message);

test('a written path that is a read path is refused: same name, symlink, hard link, dir/../name', () => {
  const link = join(dir, 'link.jsonl');
  symlinkSync(input, link);
  const hard = join(dir, 'hard.jsonl');
  linkSync(input, hard);
  mkdirSync(join(dir, 'sub'));
  for (const alias of [input, link, hard, join(dir, 'sub', '..', 'in.jsonl')]) {
    assert.throws(() => checkPaths({ reads: [{ option: 'input', path: input }], writes: [{ option: '-o', path: alias }] }), usage(/-o .* is the same file as input/), alias);
    assert.throws(() => checkPaths({ reads: [{ option: 'input', path: alias }], writes: [{ option: '--rejects', path: input }] }), usage(/--rejects/), alias);
  }
  assert.doesNotThrow(() => checkPaths({ reads: [{ option: 'input', path: input }], writes: [{ option: '-o', path: join(dir, 'out.jsonl') }] }));
});

test('a derived file of -o (OUT.partial, its journal, the shard sidecar) that is an input is refused too', () => {
  const out = join(dir, 'derived.jsonl');
  writeFileSync(`${out}.partial`, 'x');
  assert.throws(
    () => checkPaths({ reads: [{ option: '--corpus', path: `${out}.partial` }], writes: [{ option: '-o', path: out, siblings: [`${out}.partial`] }] }),
    usage(/-o .*derived\.jsonl\.partial is the same file as --corpus/),
  );
});

test('two writes of the same file are refused, also when neither exists yet (-o = --rejects = --stats-json)', () => {
  const out = join(dir, 'not-yet.jsonl');
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: out }, { option: '--rejects', path: join(dir, 'sub', '..', 'not-yet.jsonl') }] }), usage(/-o .* and --rejects .* name the same file/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '--rejects', path: out }, { option: '--stats-json', path: out }] }), usage(/--stats-json/));
  const viaLinkedDir = join(dir, 'linked-dir');
  symlinkSync(join(dir, 'sub'), viaLinkedDir);
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: join(dir, 'sub', 'o.jsonl') }, { option: '--run', path: join(viaLinkedDir, 'o.jsonl') }] }), usage(/name the same file/));
  assert.doesNotThrow(() => checkPaths({ reads: [], writes: [{ option: '-o', path: out, siblings: [`${out}.partial`] }, { option: '--rejects', path: `${out}.rejects` }] }));
});

test("an index dir's parts conflict with the paths inside them; the index dir may hold other inputs", () => {
  const index = join(dir, 'idx');
  mkdirSync(join(index, 'docs'), { recursive: true });
  writeFileSync(join(index, 'docs', 'texts.bin'), 'x');
  writeFileSync(join(index, 'corpus.jsonl'), 'x');
  assert.throws(() => checkPaths({ reads: [{ option: '--corpus', path: join(index, 'docs', 'texts.bin') }], writes: indexDirWrites(index, INDEX_PARTS) }), usage(/--index-dir .*docs is a directory rare-mine replaces, and holds --corpus/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: join(index, 'docs', 'out.jsonl') }, ...indexDirWrites(index, INDEX_PARTS)] }), usage(/name the same file \(or one is inside the other\)/));
  assert.doesNotThrow(() => checkPaths({ reads: [{ option: '--corpus', path: join(index, 'corpus.jsonl') }], writes: indexDirWrites(index, INDEX_PARTS) }));
});

test('write targets that cannot be created are FileErrors (exit 1) before any work: missing dir, a directory, a file as --index-dir, empty path', () => {
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: join(dir, 'missing', 'out.jsonl') }] }), fileError(/-o: directory .*missing does not exist/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '--stats-json', path: join(dir, 'missing', 's.json') }] }), fileError(/--stats-json: directory/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: dir }] }), fileError(/-o names a directory, not a file \(EISDIR\)/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '--rejects', path: join(input, 'x.jsonl') }] }), fileError(/is not a directory \(ENOTDIR\)/));
  assert.throws(() => checkPaths({ reads: [], writes: indexDirWrites(input, INDEX_PARTS) }), fileError(/--index-dir names a file, not a directory/));
  assert.throws(() => checkPaths({ reads: [], writes: [{ option: '-o', path: '' }] }), fileError(/^'': -o: empty path/));
  assert.doesNotThrow(() => checkPaths({ reads: [], writes: [{ option: '-o', path: '-' }, { option: '--rejects', path: undefined }] }), 'stdout and absent options are skipped');
});

test('every command refuses to write over what it reads (exit 2) and leaves the input untouched', () => {
  const qrels = join(dir, 'qrels.tsv');
  writeFileSync(qrels, 'query-id\tcorpus-id\tscore\n1\td1\t1\n');
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, '{"_id":"d1","text":"alpha is the first letter"}\n');
  const queries = join(dir, 'queries.jsonl');
  writeFileSync(queries, '{"_id":"1","text":"alpha"}\n');
  const cases: Array<[string[], string, RegExp]> = [
    [['bm25', '--on-error', 'skip', '--rejects', input, input], input, /--rejects .* is the same file as input/],
    [['index', 'bm25', '--corpus', corpus, '--index-dir', join(dir, 'ix'), '--on-error', 'skip', '--rejects', corpus], corpus, /--rejects .* is the same file as --corpus/],
    [['eval', '--corpus', corpus, '--queries', queries, '--qrels', qrels, '--run', qrels], qrels, /--run .* is the same file as --qrels/],
    [['stats', '--stats-json', input, input], input, /--stats-json .* is the same file as input/],
  ];
  for (const [args, victim, message] of cases) {
    const before = readFileSync(victim, 'utf8');
    const run = runCli(args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(readFileSync(victim, 'utf8'), before, `${args[0]}: the input is untouched`);
  }
});
