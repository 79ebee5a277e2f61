/**
 * An index dir holds one corpus's doc store and the indexes built over it. This folder knows no part: each part
 * module (src/corpus/doc-store-part.ts, src/bm25/bm25-part.ts, src/dense/dense-part.ts) names its folder
 * (layout.ts `PartPlace`) and brings its `ensure…`, which goes through ensurePart (parts.ts: judge, reuse or say
 * why not, lock, build aside, rename, log); the table of parts is src/retrievers/index-parts.ts. What must hold:
 * without --index-dir a temporary dir is used and removed at exit.
 */
import { existsSync } from '../io/fs.js';
import { log } from '../log.js';
import { ownedTempDir } from '../io/temp-dirs.js';
import { makeDirs } from '../io/make-dirs.js';

/**
 * The index dir to use: the given one (created) or a fresh temporary one removed at exit (and by a later run
 * when a kill prevented that: src/io/temp-dirs.ts).
 */
export function resolveIndexDir(indexDir: string | undefined): string {
  if (indexDir) {
    if (!existsSync(indexDir)) log().info({ indexDir }, 'creating a new index dir (it did not exist)');
    makeDirs(indexDir);
    return indexDir;
  }
  return ownedTempDir('rare-mine-index-');
}
