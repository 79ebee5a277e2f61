/**
 * Normalised-text hashes (src/text/normalize.ts) computed on a thread of their own while the doc store build reads,
 * parses and writes on the main thread: on 8.8M passages the hashing was ~40% of the doc store build's one busy core
 * while the other core idled. Batches are answered in the order they were sent (one thread, one port), so the
 * hashes come back in document order; the thread is the run scope's (an error or a signal ends it).
 */
import { Worker } from 'node:worker_threads';
import { runScope, type Ownership } from '../run-scope.js';

/** Texts a batch (large enough that posting a batch costs little beside hashing it). */
const BATCH = 2048;
/** Batches in flight at most; the reader waits beyond (bounded memory). */
const IN_FLIGHT = 4;

export class TextHasher {
  private readonly worker: Worker;
  private readonly owned: Ownership;
  private batch: string[] = [];
  private sent = 0;
  private readonly waiting = new Map<number, { resolve: (hashes: BigUint64Array) => void; reject: (error: Error) => void }>();
  /** The answers not yet handed to `onHashes`, oldest first (in document order). */
  private readonly answers: Array<Promise<BigUint64Array>> = [];
  private failure?: Error;

  /** `onHashes` receives each batch's hashes, in document order. */
  constructor(private readonly onHashes: (hashes: BigUint64Array) => void) {
    this.worker = new Worker(new URL('./text-hash-worker.js', import.meta.url));
    this.owned = runScope().own('text hash thread', () => this.worker.terminate().then(() => undefined));
    this.worker.on('message', ({ id, hashes, error }: { id: number; hashes?: BigUint64Array; error?: string }) => {
      const entry = this.waiting.get(id);
      this.waiting.delete(id);
      if (error !== undefined || !hashes) entry?.reject(new Error(`text hash thread: ${error}`));
      else entry?.resolve(hashes);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`text hash thread exited (code ${code})`)));
  }

  /** Queue one text; its hash comes to `onHashes` in order. */
  add(text: string): void {
    this.batch.push(text);
    if (this.batch.length === BATCH) this.send();
  }

  /** Whether the caller should wait (drain) before queueing more. */
  get full(): boolean {
    return this.answers.length >= IN_FLIGHT;
  }

  /** Wait while too many batches are in flight (the caller reads on meanwhile). */
  async drain(): Promise<void> {
    while (this.answers.length >= IN_FLIGHT) this.onHashes(await this.answers.shift()!);
  }

  /** Every queued text hashed and handed on; the thread ended. */
  async finish(): Promise<void> {
    if (this.batch.length > 0) this.send();
    while (this.answers.length > 0) this.onHashes(await this.answers.shift()!);
    await this.owned.release();
  }

  private send(): void {
    if (this.failure) throw this.failure;
    const id = this.sent++;
    const texts = this.batch;
    this.batch = [];
    const answer = new Promise<BigUint64Array>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    answer.catch(() => undefined); // awaited in order later; a failure before then is not an unhandled rejection
    this.answers.push(answer);
    this.worker.postMessage({ id, texts });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const { reject } of this.waiting.values()) reject(error);
    this.waiting.clear();
  }
}
