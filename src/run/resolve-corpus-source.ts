/**
 * Which corpus a mining run indexes: --corpus; else the corpus file an --index-dir was built from; else (DataFlow
 * style) the distinct positive texts of the input. What must hold: a damaged doc store is an IndexError, never
 * replaced by the input's texts without --rebuild.
 */
import { IndexError } from '../errors.js';
import { log } from '../log.js';
import type { RejectPolicy } from '../io/jsonl.js';
import { readIndexDocStoreManifest } from '../corpus/doc-store-part.js';
import { corpusFileSource, corpusFromInput, fingerprintFile, regularFileBytes, type CorpusKeys, type CorpusSource } from '../corpus/corpus-source.js';
import { corpusKeyUses } from '../cli/options.js';
import type { CorpusOptions } from './mine-options.js';

const INPUT_SOURCE_PREFIX = 'input texts of ';
/** In the input-corpus fingerprint: v2 names each text of a list of positives `line:N:i` (v1 gave them all `line:N`). */
const INPUT_CORPUS_VERSION = 'input-v2';

/**
 * The corpus to index: --corpus; else, when --index-dir already holds a doc store built from a corpus file,
 * that index as it is; else (DataFlow style) the distinct positive texts of the input.
 */
export async function resolveCorpusSource(options: CorpusOptions & { textKey: string }, inputPath: string, policy: RejectPolicy, displayName = inputPath): Promise<CorpusSource | undefined> {
  const keys: CorpusKeys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
  if (options.corpus) return corpusFileSource(options.corpus, keys, policy, corpusKeyUses(options));
  if (options.indexDir) {
    // A damaged doc store is an IndexError (exit 3), not "none": it must not be replaced by the input's texts
    // unless --rebuild says so.
    const hint = `rare-mine index bm25 --corpus CORPUS --index-dir ${options.indexDir}`;
    let manifest;
    try {
      manifest = readIndexDocStoreManifest(options.indexDir, hint);
    } catch (error) {
      if (!(options.rebuild && error instanceof IndexError)) throw error;
      log().warn({ reason: error.message }, '--rebuild: replacing a damaged doc store with the input texts');
    }
    if (manifest && !manifest.source.startsWith(INPUT_SOURCE_PREFIX)) {
      log().info({ corpus: manifest.source, docs: manifest.docCount }, 'no --corpus: using the corpus already indexed in --index-dir');
      return undefined;
    }
  }
  return {
    description: `${INPUT_SOURCE_PREFIX}${displayName}`,
    fingerprint: await fingerprintFile(inputPath, `${INPUT_CORPUS_VERSION};${options.textKey}`),
    totalBytes: regularFileBytes(inputPath),
    documents: () => corpusFromInput(inputPath, options.textKey, policy, displayName),
  };
}

/** Whether --index-dir holds a doc store built from a corpus file (which a run without --corpus then uses). */
export function indexHoldsCorpusFile(options: CorpusOptions): boolean {
  if (!options.indexDir) return false;
  try {
    const manifest = readIndexDocStoreManifest(options.indexDir, '');
    return manifest !== undefined && !manifest.source.startsWith(INPUT_SOURCE_PREFIX);
  } catch {
    return false; // a damaged doc store is reported when the corpus is resolved (resolveCorpusSource)
  }
}
