/**
 * Summarise a V8 CPU profile (`node --cpu-prof`) as the functions that take the most time: self time (samples
 * whose top frame is the function) and total time (samples with the function anywhere on the stack, counted
 * once per sample even under recursion). Used by bench/bm25-bench.ts --cpu-prof and runnable on its own:
 *   node dist/bench/cpu-profile-summary.js FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface FunctionTime {
  /** `name (file:line)`, with the path relative to the repository or node_modules. */
  function: string;
  selfMs: number;
  selfPercent: number;
  totalMs: number;
  totalPercent: number;
}

export interface ProfileSummary {
  profile: string;
  sampledMs: number;
  /** Samples with no JS frame running: (idle), (program), (garbage collector). */
  gcPercent: number;
  idlePercent: number;
  topSelf: FunctionTime[];
  topTotal: FunctionTime[];
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  let where = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (where.startsWith(repoRoot)) where = where.slice(repoRoot.length);
  const nodeModules = where.lastIndexOf('node_modules/');
  if (nodeModules >= 0) where = where.slice(nodeModules);
  const name = functionName.length > 0 ? functionName : '(anonymous)';
  return where.length > 0 ? `${name} (${where}:${lineNumber + 1})` : name;
}

export function summarizeCpuProfile(path: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<string, number>();
  const totalUs = new Map<string, number>();
  let sampledUs = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; the sample's own duration is the next delta.
    const us = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    sampledUs += us;
    const leaf = byId.get(id);
    if (!leaf) return;
    const leafName = frameName(leaf);
    selfUs.set(leafName, (selfUs.get(leafName) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (!node) break;
      const name = frameName(node);
      if (name === '(root)' || seen.has(name)) continue;
      seen.add(name);
      totalUs.set(name, (totalUs.get(name) ?? 0) + us);
    }
  });
  const percent = (us: number) => Number(((100 * us) / Math.max(sampledUs, 1)).toFixed(1));
  const row = (name: string): FunctionTime => ({
    function: name,
    selfMs: Math.round((selfUs.get(name) ?? 0) / 1000),
    selfPercent: percent(selfUs.get(name) ?? 0),
    totalMs: Math.round((totalUs.get(name) ?? 0) / 1000),
    totalPercent: percent(totalUs.get(name) ?? 0),
  });
  const ranked = (table: Map<string, number>) =>
    [...table.entries()]
      .filter(([name]) => !name.startsWith('(idle)') && !name.startsWith('(program)') && !name.startsWith('(garbage collector)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => row(name));
  return {
    profile: path,
    sampledMs: Math.round(sampledUs / 1000),
    gcPercent: percent(selfUs.get('(garbage collector)') ?? 0),
    idlePercent: percent(selfUs.get('(idle)') ?? 0),
    topSelf: ranked(selfUs),
    topTotal: ranked(totalUs),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [path, top] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: node dist/bench/cpu-profile-summary.js FILE.cpuprofile [TOP]\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(JSON.stringify(summarizeCpuProfile(path, top ? Number(top) : 15), null, 2) + '\n');
  }
}
