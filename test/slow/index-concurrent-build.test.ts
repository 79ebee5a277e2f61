/**
 * Two processes building the same --index-dir at once: both succeed, one valid index (moved from
 * test/index-integrity.test.ts, which keeps the damage cases).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cliPath, repoRoot } from '../helpers/shared-data.js';

const fixture = join(repoRoot, 'fixtures', 'dataflow-scifact-40.jsonl');

test('two processes building the same --index-dir at once: both succeed, one valid index', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rare-mine-concurrent-'));
  const indexDir = join(dir, 'idx');
  const big = join(dir, 'big.jsonl');
  const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
  writeFileSync(big, Array.from({ length: 200 }, (_, c) => lines.map((l) => { const r = JSON.parse(l); return JSON.stringify({ question: r.question, text: `${r.text} (${c})` }); }).join('\n')).join('\n') + '\n');
  const start = () =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [cliPath, 'bm25', '--index-dir', indexDir, '--log-level', 'warn', big]);
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('exit', (code) => resolve({ code, stdout }));
    });
  const [a, b] = await Promise.all([start(), start()]);
  assert.equal(a.code, 0);
  assert.equal(b.code, 0);
  assert.equal(a.stdout, b.stdout);
  assert.deepEqual(readdirSync(indexDir).sort(), ['bm25', 'docs']);
  const again = runCli(['bm25', '--index-dir', indexDir, big]);
  assert.ok(again.logs().some((l) => l.msg === 'reusing BM25 index: corpus and settings match'));
  assert.equal(again.stdout, a.stdout);
});
