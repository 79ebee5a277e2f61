/**
 * SIGTERM during the BM25 build (synchronous: minutes on millions of passages) ends the run at once, by the
 * signal, as a batch scheduler's preemption expects; the next build removes what the kill left (the folder built
 * aside, the build lock) and builds the index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../helpers/shared-data.js';

const root = mkdtempSync(join(tmpdir(), 'rare-mine-index-signals-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

/** A corpus whose BM25 phase takes seconds: 40,000 passages of 250 words from a 5,000-word vocabulary. */
function writeCorpus(path: string): void {
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  const vocabulary = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}x${(i * 7919) % 997}`);
  const lines: string[] = [];
  for (let d = 0; d < 40_000; d++) {
    const words: string[] = [];
    for (let w = 0; w < 250; w++) words.push(vocabulary[next() % vocabulary.length]);
    lines.push(JSON.stringify({ _id: `d${d}`, text: words.join(' ') }));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

test('SIGTERM during the BM25 build ends the run at once; the next build cleans up and succeeds', async () => {
  const corpus = join(root, 'corpus.jsonl');
  writeCorpus(corpus);
  const indexDir = join(root, 'index');
  const env = { ...process.env, RARE_MINE_LOG_FORMAT: 'json', RARE_MINE_NO_PROGRESS: '1', RARE_MINE_LOG_LEVEL: 'info' };
  const args = [cliPath, 'index', 'bm25', '--corpus', corpus, '--index-dir', indexDir];
  const child = spawn(process.execPath, args, { env });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const started = await Promise.race([
    new Promise<number>((resolve) => child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('"building BM25 index"')) resolve(performance.now());
    })),
    exited.then((how) => assert.fail(`the run ended (${JSON.stringify(how)}) before the BM25 build:\n${stderr}`)),
  ]);
  // Not at the very line: a signal that lands in the microseconds where the listeners are being swapped for the
  // default action is lost (libuv drops it), which a scheduler's signal, at a random time, all but never meets.
  await new Promise((resolve) => setTimeout(resolve, 300));
  child.kill('SIGTERM');
  const ended = await exited;
  const stoppedAfter = performance.now() - started;
  // Killed by the signal inside the build, or by the handler when the signal came just before it: both are what
  // the shell shows as 143.
  assert.ok(ended.signal === 'SIGTERM' || ended.code === 143, `${JSON.stringify(ended)}\n${stderr}`);
  assert.ok(!existsSync(join(indexDir, 'bm25', 'manifest.json')), 'the build did not complete');

  // The same build, uninterrupted: how long the killed one would have run.
  const rerunStarted = performance.now();
  const rerun = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const rerunSeconds = (performance.now() - rerunStarted) / 1000;
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.ok(existsSync(join(indexDir, 'bm25', 'manifest.json')));
  assert.deepEqual(readdirSync(indexDir).filter((name) => /\.(building|old)-\d+$|\.lock$/.test(name)), [], 'no leftovers beside the parts');
  const logTime = (message: string) => (rerun.stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; time: number }).find((line) => line.msg === message) ?? assert.fail(`no "${message}" in\n${rerun.stderr}`)).time;
  const buildMs = logTime('BM25 index built') - logTime('building BM25 index');
  assert.ok(buildMs > 2000, `the BM25 build took ${buildMs} ms: too short to tell "at once" from "after the build"`);
  assert.ok(stoppedAfter < Math.min(1500, buildMs / 2), `stopped ${stoppedAfter.toFixed(0)} ms after the signal; the BM25 build takes ${buildMs} ms (whole run ${rerunSeconds.toFixed(1)} s)`);
});
