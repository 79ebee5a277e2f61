/**
 * A chunked, append-only Uint32Array (no quadratic copying, no giant reallocation): the BM25 index writer's
 * posting buffers (term, doc, tf pushed in lockstep). Invariant: the chunks, in order, hold every pushed value in
 * push order, which forEachChunk, chunksArray and toArray read back.
 */
const CHUNK = 1 << 20;

export class ChunkedUint32 {
  private chunks: Uint32Array[] = [];
  private current = new Uint32Array(CHUNK);
  private used = 0;
  length = 0;

  push(value: number): void {
    if (this.used === CHUNK) {
      this.chunks.push(this.current);
      this.current = new Uint32Array(CHUNK);
      this.used = 0;
    }
    this.current[this.used++] = value;
    this.length++;
  }

  /** Visit every value in push order. */
  forEachChunk(visit: (chunk: Uint32Array, firstIndex: number) => void): void {
    let first = 0;
    for (const chunk of this.chunks) {
      visit(chunk, first);
      first += chunk.length;
    }
    visit(this.current.subarray(0, this.used), first);
  }

  /** The chunks in order (the last one trimmed to its used length). */
  chunksArray(): Uint32Array[] {
    return [...this.chunks, this.current.subarray(0, this.used)];
  }

  toArray(): Uint32Array {
    const out = new Uint32Array(this.length);
    this.forEachChunk((chunk, first) => out.set(chunk, first));
    return out;
  }
}
