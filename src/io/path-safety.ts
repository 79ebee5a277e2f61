/**
 * Before a command opens anything for writing, every path it will write is checked against every path it reads and
 * against every other path it writes, so `--rejects in.jsonl in.jsonl`, `-o` = the corpus or `-o` = `--rejects`
 * can never destroy or lose data. What must hold: two paths are "the same file" when they have the same device and
 * inode (through symlinks and hard links), or — for a path that does not exist yet — when the real path of its
 * parent dir plus its name is the same; a written directory tree (an index dir's parts) conflicts with every path
 * inside it. A conflict is a UsageError (exit 2); a write target that cannot be created (missing parent dir, a
 * directory where a file goes, a file where a directory goes, an empty path) is a FileError (exit 1), found before
 * any work is done. Every command (bm25, dense, hybrid, index, eval, merge, stats) calls checkPaths first.
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { FileError, UsageError } from '../errors.js';

/** How a command uses a path. */
export interface PathUse {
  /** The option (or argument) that names it, for messages: "-o", "--rejects", "input", "--corpus". */
  option: string;
  /** undefined, or "-" for stdin/stdout, is skipped. */
  path: string | undefined;
  /**
   * file (default): one file read or written. tree: a directory whose contents are written (an index dir's part,
   * replaced whole); every path inside it conflicts. dir: a directory that is created and written into, but whose
   * other contents are left alone (an index dir itself).
   */
  kind?: 'file' | 'tree' | 'dir';
  /** Derived paths written beside a file (`OUT.partial`, its journal, a shard sidecar), checked as the same option. */
  siblings?: string[];
}

export interface PathPlan {
  reads: PathUse[];
  writes: PathUse[];
}

interface Identified {
  option: string;
  path: string;
  kind: 'file' | 'tree' | 'dir';
  /** "dev:ino" when the path exists (following symlinks). */
  inode?: string;
  /** The real path, or the real parent dir joined with the name when the path does not exist yet. */
  canonical: string;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** What the symbolic link at `path` points to; undefined when it is not a link (or not there, or its parent is no dir). */
function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/** Links followed at most, as the kernel does (ELOOP beyond). */
const MAX_LINKS = 40;

/**
 * The real path of `path`; when it does not exist yet, the real path of its deepest existing ancestor joined with
 * the rest, and a dangling symbolic link by its target (writing through it creates the target: `--rejects link`
 * with `link -> in.jsonl.new` is the file `in.jsonl.new`).
 */
export function canonicalPath(path: string, links = 0): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    if (parent === absolute) return absolute;
    const real = join(canonicalPath(parent, links), basename(absolute));
    const target = linkTarget(real);
    return target !== undefined && links < MAX_LINKS ? canonicalPath(resolve(dirname(real), target), links + 1) : real;
  }
}

function identify(option: string, path: string, kind: Identified['kind']): Identified {
  const stats = statOrUndefined(path);
  return { option, path, kind, inode: stats ? `${stats.dev}:${stats.ino}` : undefined, canonical: canonicalPath(path) };
}

function inside(child: string, tree: string): boolean {
  return child === tree || child.startsWith(tree.endsWith(sep) ? tree : tree + sep);
}

/** How writing `write` would change or destroy `other` (read or written elsewhere), or undefined when it cannot. */
function overlap(write: Identified, other: Identified): string | undefined {
  if (write.inode !== undefined && write.inode === other.inode) return write.kind !== 'dir' || other.kind === 'dir' ? 'is the same file as' : undefined;
  if (write.canonical === other.canonical) return 'is the same file as';
  if (write.kind === 'tree' && inside(other.canonical, write.canonical)) return 'is a directory rare-mine replaces, and holds';
  if (other.kind === 'tree' && inside(write.canonical, other.canonical)) return 'is inside';
  return undefined;
}

/** A file that will be created or replaced: its parent must be a directory, and it must not be one. */
function checkWritableFile(use: Identified): void {
  if (use.path === '') throw new FileError('', `${use.option}: empty path`);
  const stats = statOrUndefined(use.path);
  if (stats?.isDirectory()) throw new FileError(use.path, `${use.option} names a directory, not a file (EISDIR)`);
  if (stats) return;
  const parent = dirname(use.canonical);
  const parentStats = statOrUndefined(parent);
  if (!parentStats) throw new FileError(use.path, `${use.option}: directory ${parent} does not exist (ENOENT)`, { hint: `create it first (mkdir -p ${parent})` });
  if (!parentStats.isDirectory()) throw new FileError(use.path, `${use.option}: ${parent} is not a directory (ENOTDIR)`);
}

/** A directory that will be created (with its parents) or written into: it must not be something else. */
function checkWritableDir(use: Identified): void {
  if (use.path === '') throw new FileError('', `${use.option}: empty path`);
  const stats = statOrUndefined(use.path);
  if (stats && !stats.isDirectory()) throw new FileError(use.path, `${use.option} names a file, not a directory (ENOTDIR)`);
}

/**
 * Refuse a plan in which a written path is also read, or written twice; refuse write targets that cannot be
 * created. Call it before anything is opened for writing.
 */
export function checkPaths(plan: PathPlan): void {
  const expand = (uses: PathUse[]): Identified[] =>
    uses.flatMap((use) => {
      if (use.path === undefined || use.path === '-') return [];
      const kind = use.kind ?? 'file';
      const main = identify(use.option, use.path, kind);
      return [main, ...(use.siblings ?? []).map((path) => identify(use.option, path, 'file'))];
    });
  const reads = expand(plan.reads);
  const writes = expand(plan.writes);
  for (const write of writes) {
    if (write.kind === 'file') checkWritableFile(write);
    else checkWritableDir(write);
  }
  for (const write of writes) {
    for (const read of reads) {
      const how = overlap(write, read);
      if (how) {
        throw new UsageError(`${write.option} ${write.path} ${how} ${read.option} ${read.path}: writing it would destroy what is read`, {
          hint: `give ${write.option} another path`,
        });
      }
    }
  }
  for (let i = 0; i < writes.length; i++) {
    for (let j = i + 1; j < writes.length; j++) {
      const [a, b] = [writes[i], writes[j]];
      if (a.option === b.option && a.path !== b.path) continue; // a file and its own derived sibling
      const how = overlap(a, b) ?? overlap(b, a);
      if (how) {
        throw new UsageError(`${a.option} ${a.path} and ${b.option} ${b.path} name the same file (or one is inside the other): one would overwrite the other`, {
          hint: `give ${b.option} another path`,
        });
      }
    }
  }
}
