/**
 * The doc store build's hashing thread (src/corpus/text-hasher.ts): normalises and hashes batches of texts, in the
 * order they come, and answers each with its hashes (transferred).
 */
import { parentPort } from 'node:worker_threads';
import { normalizedTextHash } from '../text/normalize.js';

const port = parentPort!;
port.on('message', ({ id, texts }: { id: number; texts: string[] }) => {
  try {
    const hashes = new BigUint64Array(texts.length);
    for (let i = 0; i < texts.length; i++) hashes[i] = normalizedTextHash(texts[i]);
    port.postMessage({ id, hashes }, [hashes.buffer]);
  } catch (error) {
    port.postMessage({ id, error: (error as Error).stack ?? String(error) });
  }
});
