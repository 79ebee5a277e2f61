/** The command that rebuilds a dense index, for messages (a light module: no model, no vector index loaded). */

/** `rare-mine index dense …` with the model (or the vector file) that made the index. */
export function denseRebuildHint(modelName: string): string {
  if (modelName.startsWith('vectors:')) return 'rare-mine index dense --corpus-vectors FILE --corpus CORPUS --index-dir DIR';
  return `rare-mine index dense --model ${modelName} --corpus CORPUS --index-dir DIR`;
}
