/**
 * Sorted runs of postings on disk, for index builds within a memory budget (as Lucene flushes segments and
 * merges them): when the writer's posting buffer reaches the budget, it is sorted by term (docs stay ascending
 * within a term) and written as one run; at the end the runs are read back in parallel, term by term, and
 * concatenated in run order, which keeps every term's docs ascending because run r holds only documents
 * added before those of run r + 1. Run layout (u32 LE): repeated `term, count, (doc, tf) × count`, terms
 * ascending. Runs are temporary files in the index dir being built, removed after the merge.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

const IO_BYTES = 1 << 20;

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
  const fd = openSync(path, 'w');
  const out = new Uint32Array(IO_BYTES / 4);
  let used = 0;
  const flush = () => {
    writeSync(fd, new Uint8Array(out.buffer, 0, used * 4));
    used = 0;
  };
  for (let t = 0; t < termCount; t++) {
    let from = 2 * perTerm[t];
    const to = 2 * perTerm[t + 1];
    if (from === to) continue;
    if (used + 2 > out.length) flush();
    out[used++] = t;
    out[used++] = (to - from) / 2;
    while (from < to) {
      if (used === out.length) flush();
      const n = Math.min(to - from, out.length - used);
      out.set(pairs.subarray(from, from + n), used);
      used += n;
      from += n;
    }
  }
  flush();
  closeSync(fd);
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
    const bytes = readSync(this.fd, new Uint8Array(this.buffer.buffer), 0, IO_BYTES, this.fileOffset);
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
    closeSync(this.fd);
    if (remove) rmSync(this.path, { force: true });
  }
}
