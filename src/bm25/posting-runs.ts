/**
 * Sorted runs of postings on disk, for index builds within a memory budget (as Lucene flushes segments and
 * merges them): when the writer's posting buffer reaches the budget, it is sorted by term (docs stay ascending
 * within a term) and written as one run; at the end the runs are read back in parallel, term by term, and
 * concatenated in run order, which keeps every term's docs ascending because run r holds only documents
 * added before those of run r + 1. Run layout (u32 LE): repeated `term, count, (doc, tf) × count`, terms
 * ascending. Runs are temporary files in the index dir being built, removed after the merge.
 * The merge opens at most `mergeFanIn()` runs at once (64, less under a low open-file limit): with more runs,
 * consecutive groups of them are first merged into one run each (the same concatenation in run order, so the
 * result is the same bytes), level by level, until few enough remain.
 */
import { closeSync, onPath, openSync, readFileSync, readFullSync, rmSync, writeAllSync } from '../io/fs.js';
import { dirname, join } from 'node:path';

const IO_BYTES = 1 << 20;

/** Writes a run through a fixed buffer, one u32 at a time. */
class RunWriter {
  private readonly fd: number;
  private readonly out = new Uint32Array(IO_BYTES / 4);
  private used = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  put(value: number): void {
    if (this.used === this.out.length) this.flush();
    this.out[this.used++] = value;
  }

  /** Put a slice of values (a run group's (doc, tf) pairs, laid out already). */
  putAll(values: Uint32Array): void {
    for (let from = 0; from < values.length; ) {
      if (this.used === this.out.length) this.flush();
      const n = Math.min(values.length - from, this.out.length - this.used);
      this.out.set(values.subarray(from, from + n), this.used);
      this.used += n;
      from += n;
    }
  }

  private flush(): void {
    writeAllSync(this.fd, new Uint8Array(this.out.buffer, 0, this.used * 4), this.path);
    this.used = 0;
  }

  close(): void {
    try {
      this.flush();
    } finally {
      onPath(this.path, () => closeSync(this.fd));
    }
  }
}

/**
 * Write the buffered postings (parallel chunked arrays, in push order) as one run, grouped by term with a counting
 * sort: each posting's (doc, tf) is scattered straight to its place in one array laid out as the run's groups
 * are, so a group is written as one slice (no gather through a sort order, no copy of the buffers).
 */
export function writeRun(path: string, termCount: number, terms: readonly Uint32Array[], docsIn: readonly Uint32Array[], tfs: readonly Uint32Array[]): void {
  const perTerm = new Uint32Array(termCount + 1);
  for (const chunk of terms) for (let i = 0; i < chunk.length; i++) perTerm[chunk[i] + 1]++;
  for (let t = 0; t < termCount; t++) perTerm[t + 1] += perTerm[t];
  const fill = perTerm.slice(0, termCount);
  const pairs = new Uint32Array(2 * perTerm[termCount]);
  terms.forEach((chunk, c) => {
    const docChunk = docsIn[c];
    const tfChunk = tfs[c];
    for (let i = 0; i < chunk.length; i++) {
      const at = 2 * fill[chunk[i]]++;
      pairs[at] = docChunk[i];
      pairs[at + 1] = tfChunk[i];
    }
  });
  const writer = new RunWriter(path);
  for (let t = 0; t < termCount; t++) {
    const from = 2 * perTerm[t];
    const to = 2 * perTerm[t + 1];
    if (from === to) continue;
    writer.put(t);
    writer.put((to - from) / 2);
    writer.putAll(pairs.subarray(from, to));
  }
  writer.close();
}

/** The most runs merged at once: 64, or fewer when the open-file limit is low. */
export const MAX_MERGE_FAN_IN = 64;

/**
 * The soft open-file limit (RLIMIT_NOFILE) of this process from /proc/self/limits, or undefined where that file
 * is not (macOS, Windows) or says "unlimited".
 */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How many runs one merge step opens: MAX_MERGE_FAN_IN, within a quarter of the open-file limit (the rest is left
 * to Node, the index files being written and the doc store), and at least 2.
 */
export function mergeFanIn(limit = openFileLimit()): number {
  return Math.max(2, Math.min(MAX_MERGE_FAN_IN, limit === undefined ? MAX_MERGE_FAN_IN : Math.floor(limit / 4)));
}

/**
 * Merge `paths` (runs in run order) into one run at `into`: each term's groups concatenated in run order, which
 * keeps its docs ascending. The merged runs are removed.
 */
function mergeInto(paths: readonly string[], into: string): void {
  const readers: RunReader[] = [];
  try {
    for (const path of paths) readers.push(new RunReader(path));
    const writer = new RunWriter(into);
    try {
      for (;;) {
        let term = -1;
        for (const reader of readers) if (reader.term !== -1 && (term === -1 || reader.term < term)) term = reader.term;
        if (term === -1) break;
        let count = 0;
        for (const reader of readers) if (reader.term === term) count += reader.remaining;
        writer.put(term);
        writer.put(count);
        for (const reader of readers) {
          if (reader.term !== term) continue;
          for (; reader.remaining > 0; reader.remaining--) {
            writer.put(reader.next());
            writer.put(reader.next());
          }
          reader.nextGroup();
        }
      }
    } finally {
      writer.close();
    }
  } finally {
    for (const reader of readers) reader.close(false);
  }
  for (const path of paths) rmSync(path, { force: true });
}

/**
 * Runs to merge at the end, at most `fanIn` of them: while there are more, each consecutive group of `fanIn` runs
 * is merged into one (beside them, `run-L<level>-<i>.tmp`), so the final merge — and every step — opens at most
 * `fanIn` runs at once, whatever the number of runs and within the open-file limit.
 */
export function reduceRuns(paths: readonly string[], fanIn = mergeFanIn()): string[] {
  let runs = [...paths];
  for (let level = 1; runs.length > fanIn; level++) {
    const next: string[] = [];
    for (let from = 0; from < runs.length; from += fanIn) {
      const group = runs.slice(from, from + fanIn);
      if (group.length === 1) {
        next.push(group[0]);
        continue;
      }
      const into = join(dirname(group[0]), `run-L${level}-${next.length}.tmp`);
      mergeInto(group, into);
      next.push(into);
    }
    runs = next;
  }
  return runs;
}

/** Reads a run back sequentially, one u32 at a time, through a fixed buffer. */
export class RunReader {
  private readonly fd: number;
  private readonly buffer = new Uint32Array(IO_BYTES / 4);
  private filled = 0;
  private at = 0;
  private fileOffset = 0;
  /** The term of the group the reader stands at, or -1 at the end. */
  term = -1;
  /** Postings left in the current group. */
  remaining = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.nextGroup();
  }

  private refill(): boolean {
    const bytes = readFullSync(this.fd, new Uint8Array(this.buffer.buffer), 0, IO_BYTES, this.fileOffset, this.path);
    if (bytes % 4 !== 0) throw new Error(`${this.path}: run ends inside a value (at byte ${this.fileOffset + bytes})`);
    this.fileOffset += bytes;
    this.filled = bytes / 4;
    this.at = 0;
    return bytes > 0;
  }

  next(): number {
    if (this.at === this.filled && !this.refill()) throw new Error(`${this.path}: run ends early`);
    return this.buffer[this.at++];
  }

  /** Move to the next group header (after the current group is consumed). */
  nextGroup(): void {
    if (this.at === this.filled && !this.refill()) {
      this.term = -1;
      return;
    }
    this.term = this.next();
    this.remaining = this.next();
  }

  /** Start reading the file again from its beginning (the merge reads every run twice). */
  rewind(): void {
    this.fileOffset = 0;
    this.filled = 0;
    this.at = 0;
    this.nextGroup();
  }

  close(remove: boolean): void {
    onPath(this.path, () => closeSync(this.fd));
    if (remove) rmSync(this.path, { force: true });
  }
}
