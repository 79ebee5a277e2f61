/**
 * Where rare-mine and Hugging Face keep things on disk, from the environment. One place, so the error that
 * lists the places searched for a model and the code that searches them can never disagree.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

/** rare-mine's cache root: `$RARE_MINE_CACHE_DIR`, else `$XDG_CACHE_HOME/rare-mine`, else `~/.cache/rare-mine`. */
export function rareMineCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RARE_MINE_CACHE_DIR) return env.RARE_MINE_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rare-mine');
}

/** The embedding cache directory of one model fingerprint: `<cache root>/embeddings/<fingerprint>/`. */
export function embeddingCacheDir(fingerprint: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(rareMineCacheRoot(env), 'embeddings', fingerprint);
}

/** Hugging Face hub cache, as huggingface_hub finds it: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
export function huggingFaceHubCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface', 'hub');
}

/** The hub endpoint: `$HF_ENDPOINT`, else https://huggingface.co (no trailing slash). */
export function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return checkEndpoint((env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, ''), 'HF_ENDPOINT');
}

/** `url` without the password of its user part (`https://user:secret@host` → `https://user:<redacted>@host`), also in text that is no URL, for messages. */
export function withoutPassword(url: string): string {
  return url.replace(/:[^/@:\s]*@/g, ':<redacted>@');
}

/**
 * `endpoint` when it is an http(s) URL with a host and no user or password; else a UsageError naming `name` (the variable or option that
 * gave it: exit 2), which shows the value without any password in it.
 */
export function checkEndpoint(endpoint: string, name: string): string {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.hostname === '') {
    throw new UsageError(`${name} must be an http(s) URL such as https://huggingface.co, got ${JSON.stringify(withoutPassword(endpoint).slice(0, 200))}`, {
      hint: `set ${name} to the hub's address (or unset it for https://huggingface.co)`,
    });
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError(`${name} must not hold a user name or password (a request to such a URL cannot be made), got ${JSON.stringify(withoutPassword(endpoint).slice(0, 200))}`, {
      hint: 'give the hub address alone; the token goes in HF_TOKEN',
    });
  }
  return endpoint;
}

/** True when `HF_HUB_OFFLINE` forbids downloads (huggingface_hub's convention: 1/true/yes/on). */
export function huggingFaceOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE ?? '');
}
