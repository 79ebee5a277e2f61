/**
 * The folders of src/ form a layered graph: no folder-level import cycle (a folder A importing from B while B,
 * directly or through others, imports from A). The graph is built from the import and export statements of
 * src/**\/*.ts (type-only imports count: they tie the folders' designs together just the same); a cycle is
 * printed with one import statement per edge, so the failure says what to move.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { repoRoot } from './helpers/shared-data.js';

/** Relative module specifiers of `import … from`, `export … from`, `import '…'` and `import('…')`. */
const IMPORT = /(?:^|[\s;])(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/**
 * The node of a path relative to src/: its folder ("bm25/index-reader.ts" → "bm25"); a file at the root of src/
 * is a node of its own ("errors.ts"), since the root is not a folder of the design (the entry point may live there
 * beside the modules every folder uses).
 */
function folderOf(pathInSrc: string): string {
  const parts = pathInSrc.split('/');
  return parts.length > 1 ? parts[0] : pathInSrc;
}

/** An edge of the folder graph and one import statement that makes it. */
interface Edge {
  to: string;
  file: string;
  specifier: string;
}

/** Folder → folders it imports from, each with one file that does it. `files` maps paths relative to src/ to their text. */
function folderGraph(files: ReadonlyMap<string, string>): Map<string, Edge[]> {
  const graph = new Map<string, Edge[]>();
  for (const [file, text] of files) {
    const from = folderOf(file);
    if (!graph.has(from)) graph.set(from, []);
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2];
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      if (target.startsWith('..')) continue; // outside src/ (none today)
      const to = folderOf(target);
      const edges = graph.get(from)!;
      if (to !== from && !edges.some((edge) => edge.to === to)) edges.push({ to, file, specifier });
    }
  }
  return graph;
}

/** One cycle of the graph as its edges, or undefined when it is acyclic (depth-first search, three colours). */
function findCycle(graph: ReadonlyMap<string, readonly Edge[]>): Array<Edge & { from: string }> | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: Array<Edge & { from: string }> = [];
  const visit = (node: string): Array<Edge & { from: string }> | undefined => {
    state.set(node, 'open');
    for (const edge of graph.get(node) ?? []) {
      path.push({ from: node, ...edge });
      if (state.get(edge.to) === 'open') return path.slice(path.findIndex((step) => step.from === edge.to));
      if (state.get(edge.to) === undefined) {
        const cycle = visit(edge.to);
        if (cycle) return cycle;
      }
      path.pop();
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return undefined;
}

function describeCycle(cycle: ReadonlyArray<Edge & { from: string }>): string {
  return cycle.map((step) => `${step.from} → ${step.to}  (src/${step.file} imports '${step.specifier}')`).join('\n');
}

function sourceFiles(): Map<string, string> {
  const src = join(repoRoot, 'src');
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.set(relative(src, path).split(/[\\/]/).join('/'), readFileSync(path, 'utf8'));
    }
  };
  walk(src);
  return files;
}

test('the cycle finder finds a folder cycle, names its imports, and passes a layered graph', () => {
  const cyclic = new Map([
    ['a/one.ts', "import { two } from '../b/two.js';\nimport type { X } from './local.js';"],
    ['b/two.ts', "export { three } from '../c/three.js';"],
    ['c/three.ts', "const m = await import('../a/one.js');\nimport { log } from '../log.js';"],
    ['log.ts', ''],
    ['main.ts', "import { two } from './b/two.js';\nimport { log } from './log.js';"],
  ]);
  const cycle = findCycle(folderGraph(cyclic));
  assert.ok(cycle, 'a → b → c → a is a cycle');
  assert.deepEqual(cycle.map((step) => `${step.from}>${step.to}`), ['a>b', 'b>c', 'c>a']);
  assert.match(describeCycle(cycle), /c → a {2}\(src\/c\/three\.ts imports '\.\.\/a\/one\.js'\)/);
  const layered = new Map([...cyclic].map(([file, text]) => [file, file === 'c/three.ts' ? "import { log } from '../log.js';" : text]));
  assert.equal(findCycle(folderGraph(layered)), undefined);
});

test('no folder-level import cycle among the folders of src/', () => {
  const files = sourceFiles();
  assert.ok(files.size > 50, `read ${files.size} files under src/`);
  const graph = folderGraph(files);
  assert.ok(graph.get('index')?.some((edge) => edge.to === 'storage'), 'the graph has the edges it should (index → storage)');
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, cycle && `folder-level import cycle:\n${describeCycle(cycle)}`);
});

test('every module importing onnxruntime-node first imports onnx/runtime-environment (telemetry off before the library loads)', () => {
  const importers = [...sourceFiles()].filter(([, text]) => /from ['"]onnxruntime-node['"]/.test(text));
  assert.ok(importers.length >= 3, `found ${importers.length} modules importing onnxruntime-node`);
  for (const [file, text] of importers) {
    const environment = text.search(/^import ['"][./]+onnx\/runtime-environment\.js['"]/m);
    const runtime = text.search(/^import [^;]*from ['"]onnxruntime-node['"]/m);
    assert.ok(environment !== -1 && environment < runtime, `src/${file} must import onnx/runtime-environment.js before onnxruntime-node`);
  }
});
