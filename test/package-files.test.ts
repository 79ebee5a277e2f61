/**
 * What `npm pack` ships: bin/rare-mine.js imports the built dist/src/, so the package must hold it (dist/ is
 * git-ignored, and npm packs what git does unless package.json's `files` says otherwise), and nothing a user does
 * not run: tests, benchmarks, fixtures, TypeScript sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/shared-data.js';

test('the npm package holds bin/ and the built dist/src/ it imports, the docs and the README; no tests, benchmarks, fixtures or sources', (t) => {
  if (!existsSync(join(repoRoot, 'dist', 'src', 'app', 'main.js'))) {
    t.skip('dist/ is not built (npm test builds it first)');
    return;
  }
  // --ignore-scripts: the prepack build is not needed here, dist/ is already built.
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((file) => file.path);
  for (const needed of ['bin/rare-mine.js', 'dist/src/app/main.js', 'dist/src/bm25/search-worker.js', 'dist/src/bm25/build-worker.js', 'dist/src/io/heartbeat-worker.js', 'package.json', 'README.md', 'docs/CLI.md']) {
    assert.ok(files.includes(needed), `the package holds ${needed}`);
  }
  assert.deepEqual(files.filter((path) => /^(test|bench|fixtures|src|dist\/test|dist\/bench)\//.test(path)), []);
});
