/**
 * Sorted runs of postings on disk, for index builds within a memory budget (as Lucene flushes segments and
 * merges them): when the writer's posting buffer reaches the budget, it is sorted by term (docs stay ascending
 * within a term) and written as one run; at the end the runs are read back in parallel, term by term, and
 * concatenated in run order, which keeps every term's docs ascending because run r holds only documents
 * added before those of run r + 1. Run layout (u32 LE): repeated `term, count, (doc, tf) × count`, terms
 * ascending. Runs are temporary files in the index dir being built, removed after the merge.
 */
import { closeSync, onPath, openSync, readFullSync, rmSync, writeAllSync } from '../io/fs.js';

const IO_BYTES = 1 << 20;

/** Write postings i < count (parallel arrays, in push order) as one run, grouped by term with a counting sort. */
export function writeRun(path: string, termCount: number, count: number, terms: Uint32Array, docsIn: Uint32Array, tfs: Uint32Array): void {
  const perTerm = new Uint32Array(termCount + 1);
  for (let i = 0; i < count; i++) perTerm[terms[i] + 1]++;
  for (let t = 0; t < termCount; t++) perTerm[t + 1] += perTerm[t];
  const order = new Uint32Array(count);
  const fill = perTerm.slice(0, termCount);
  for (let i = 0; i < count; i++) order[fill[terms[i]]++] = i;
  const fd = openSync(path, 'w');
  const out = new Uint32Array(IO_BYTES / 4);
  let used = 0;
  const flush = () => {
    writeAllSync(fd, new Uint8Array(out.buffer, 0, used * 4), path);
    used = 0;
  };
  const put = (value: number) => {
    if (used === out.length) flush();
    out[used++] = value;
  };
  for (let t = 0; t < termCount; t++) {
    const from = perTerm[t];
    const to = perTerm[t + 1];
    if (from === to) continue;
    put(t);
    put(to - from);
    for (let j = from; j < to; j++) {
      put(docsIn[order[j]]);
      put(tfs[order[j]]);
    }
  }
  try {
    flush();
  } finally {
    onPath(path, () => closeSync(fd));
  }
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
