/**
 * The heartbeat of the lease locks this process holds (src/io/lease-lock.ts): every interval, each lock file still
 * holding our token gets its mtime set to now. It runs on its own thread so that a main thread busy for minutes
 * (a BM25 build is synchronous) still renews its locks. A lock that is gone or holds another token is reported
 * as lost and no longer renewed.
 */
import { readFileSync, utimesSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const held = new Map<string, string>();

parentPort!.on('message', (message: { hold?: string; drop?: string; token: string }) => {
  if (message.hold !== undefined) held.set(message.token, message.hold);
  if (message.drop !== undefined) held.delete(message.token);
});

function renew(): void {
  const now = new Date();
  for (const [token, path] of held) {
    let ours = false;
    try {
      ours = (JSON.parse(readFileSync(path, 'utf8')) as { token?: string }).token === token;
      if (ours) utimesSync(path, now, now);
    } catch {
      ours = false;
    }
    if (!ours) {
      held.delete(token);
      parentPort!.postMessage({ lost: path, token });
    }
  }
}

setInterval(renew, (workerData as { intervalMs: number }).intervalMs);
