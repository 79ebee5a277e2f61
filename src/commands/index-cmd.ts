/**
 * `rare-mine index <kind>`: build (or confirm) the doc store and a retriever kind's index of a corpus once, so
 * that many mining runs and shards can read it. One subcommand per row of RETRIEVERS with an `index`
 * (src/retrievers/retrievers.ts).
 */
import type { Command } from 'commander';
import { log } from '../log.js';
import { addBadInputOptions, addCorpusOptions, corpusKeyUses } from '../cli/options.js';
import { commandPathPlan } from '../cli/path-plan.js';
import { RejectPolicy } from '../io/jsonl.js';
import { corpusFileSource } from '../corpus/corpus-source.js';
import { checkPaths } from '../io/path-safety.js';
import { indexDirWrites } from '../index/layout.js';
import { INDEX_PARTS } from '../retrievers/index-parts.js';
import { RETRIEVERS } from '../retrievers/retrievers.js';
import { lockSideFiles } from '../run/output-locks.js';
import { buildIndex, type IndexDirOptions, type RetrieverKind } from '../retrievers/retriever-kind.js';

export interface IndexOptions extends IndexDirOptions {
  corpus: string;
  corpusIdKey: string;
  corpusTextKey: string;
  corpusTitleKey: string;
  indexDir: string;
  onError: 'fail' | 'skip';
  rejects?: string;
}

/** Build `kind`'s index of --corpus in --index-dir; logs "index ready" with the kind's figures. */
export async function runIndex<O extends IndexDirOptions>(kind: RetrieverKind<O>, options: IndexOptions & O, command: Command): Promise<void> {
  // What the options declare (the corpus and vector files read; the rejects file and the index dir written), and the index dir's parts.
  checkPaths(commandPathPlan(command, options, [], { writes: indexDirWrites(options.indexDir, INDEX_PARTS) }));
  // One writer per rejects file, as for a mining run's (src/run/output-locks.ts).
  const locks = lockSideFiles([{ option: '--rejects', path: options.rejects }]);
  try {
    const keys = { idKey: options.corpusIdKey, textKey: options.corpusTextKey, titleKey: options.corpusTitleKey };
    const policy = new RejectPolicy(options.onError, options.rejects);
    const started = performance.now();
    const { docs, ...figures } = await buildIndex(kind, await corpusFileSource(options.corpus, keys, policy, corpusKeyUses(options)), options);
    log().info({ indexDir: options.indexDir, docs, ...figures, rejected: policy.rejected, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }, 'index ready');
  } finally {
    for (const lock of locks) lock.release();
  }
}

function registerKind<O extends IndexDirOptions>(index: Command, kind: RetrieverKind<O>): void {
  if (!kind.index) return;
  const command = index.command(kind.name).description(kind.index.description);
  addCorpusOptions(command, true);
  addBadInputOptions(command, 'corpus');
  kind.index.options(command);
  command.action(async (options: IndexOptions & O) => runIndex(kind, options, command));
}

export function register(program: Command): void {
  const index = program.command('index').summary('build an index once, to mine many times');
  for (const kind of RETRIEVERS) registerKind(index, kind);
}
