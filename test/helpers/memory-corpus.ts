/** A CorpusView over documents held in memory, for format and mining tests that need no doc store. */
import type { CorpusView } from '../../src/retriever.js';
import { normalizedTextHash } from '../../src/text/normalize.js';

/** The documents in order (ordinal = index); ids and texts looked up as the doc store does (texts normalised). */
export function memoryCorpus(docs: ReadonlyArray<{ id: string; text: string }>): CorpusView {
  return {
    docCount: docs.length,
    text: (ordinal) => docs[ordinal].text,
    id: (ordinal) => docs[ordinal].id,
    ordinalOfId: (id) => {
      const i = docs.findIndex((d) => d.id === id);
      return i < 0 ? undefined : i;
    },
    normalizedTextHash: (ordinal) => normalizedTextHash(docs[ordinal].text),
    ordinalOfText: (text) => {
      const i = docs.findIndex((d) => normalizedTextHash(d.text) === normalizedTextHash(text));
      return i < 0 ? undefined : i;
    },
  };
}
