/**
 * The doc store as a part of an index dir: its folder (`docs/`) and its `ensure…` through ensurePart
 * (src/index/parts.ts). What must hold: the doc store is the corpus — an existing one is reused when the corpus
 * matches and is never replaced by another corpus without --rebuild (IndexError, exit 3); a damaged one is an
 * IndexError with a rebuild hint, never "not built".
 */
import { join } from 'node:path';
import { IndexError, UsageError } from '../errors.js';
import { log } from '../log.js';
import type { PartPlace } from '../index/layout.js';
import { ensurePart, type BuildContext } from '../index/parts.js';
import type { CorpusSource } from './corpus-source.js';
import { buildDocStore, DocStore, readDocStoreManifest, type DocStoreManifest } from './doc-store.js';

/** Where the doc store lives in an index dir. */
export const DOC_STORE_PART: PartPlace = { folder: 'docs' };

/** The doc store's folder in the index dir `indexDir`. */
export function docStoreDir(indexDir: string): string {
  return join(indexDir, DOC_STORE_PART.folder);
}

/** The verified manifest of the doc store of `indexDir`; undefined when none was built. */
export function readIndexDocStoreManifest(indexDir: string, rebuildHint: string): DocStoreManifest | undefined {
  return readDocStoreManifest(docStoreDir(indexDir), rebuildHint);
}

/**
 * Open the doc store, building it from `source` when none exists or with `rebuild`.
 * @throws IndexError when the existing doc store is damaged, or holds another corpus (without `rebuild`);
 *   UsageError when there is no corpus and no doc store
 */
export async function ensureDocStore(indexDir: string, source: CorpusSource | undefined, build: BuildContext): Promise<DocStore> {
  const dir = docStoreDir(indexDir);
  if (!source) {
    const manifest = readDocStoreManifest(dir, build.rebuildHint);
    if (!manifest) throw new UsageError(`no corpus given and ${dir} holds no doc store`, { hint: 'pass --corpus FILE, or build the index first with `rare-mine index bm25 --corpus FILE --index-dir DIR`' });
    log().info({ dir, docs: manifest.docCount }, 'using existing doc store');
    return new DocStore(dir, build.rebuildHint);
  }
  await ensurePart<DocStoreManifest>(
    {
      name: 'doc store',
      dir,
      reuseReason: 'corpus fingerprint matches',
      inspect: () => {
        const manifest = readDocStoreManifest(dir, build.rebuildHint);
        if (manifest && manifest.corpusFingerprint !== source.fingerprint) {
          throw new IndexError(
            `${indexDir} holds the index of another corpus (${manifest.source}, ${manifest.docCount} documents, built ${manifest.createdAt}); this run's corpus is ${source.description}`,
            { hint: 'pass --rebuild to replace that index with this corpus, or choose another --index-dir' },
          );
        }
        return manifest && { manifest };
      },
      describe: (manifest) => ({ docs: manifest.docCount }),
      settings: { corpus: source.description },
      build: async (aside, progress) => {
        // By bytes when the source's size is known (a regular file): a percentage and an ETA, as mining shows.
        const byBytes = source.totalBytes !== undefined && source.totalBytes > 0;
        const reading = byBytes ? progress('reading corpus', source.totalBytes, 'documents', 'bytes') : progress('reading corpus', undefined, 'documents');
        try {
          return await buildDocStore(aside, source.documents(), { corpusFingerprint: source.fingerprint, source: source.description }, (doc) => reading.tick(1, byBytes ? doc.endByte : undefined), build.threads ?? 1);
        } finally {
          reading.done();
        }
      },
    },
    build,
  );
  return new DocStore(dir, build.rebuildHint);
}
