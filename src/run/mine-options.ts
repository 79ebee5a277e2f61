/**
 * The options of a mining run as the stages read them (the command line declares them in src/cli/options.ts; a
 * retriever kind adds its own, src/retrievers/). Types only: what must hold is that every field the stages read is
 * declared by an option group every mining command composes.
 */
import type { OnError } from '../io/jsonl.js';
import type { MiningOptions } from '../mine/miner.js';
import type { FormatOptions } from '../formats/formats.js';
import type { IfKeyExists } from '../formats/record.js';

export interface RecordOptions {
  questionKey: string;
  textKey: string;
  positiveIdsKey?: string;
  outputKey: string;
  ifKeyExists: IfKeyExists;
  withScores: boolean;
  withIds: boolean;
  output?: string;
  onError: OnError;
  rejects?: string;
  maxLineBytes: number;
}

export interface CorpusOptions {
  corpus?: string;
  corpusIdKey: string;
  corpusTextKey: string;
  corpusTitleKey: string;
  indexDir?: string;
  rebuild: boolean;
}

export interface MineCommandOptions extends RecordOptions, CorpusOptions, FormatOptions, Omit<MiningOptions, 'questionKey' | 'textKey' | 'positiveIdsKey'> {
  /** Write the end-of-run statistics as JSON here. */
  statsJson?: string;
  /** Cross-encoder model dir for re-scoring. */
  rescoreModel?: string;
  /** Search threads (BM25's worker pool; the dense model's and USearch's threads); 1 = all in this thread. */
  threads: number;
  batchSize: number;
  /** "I/N": process only shard I of N (0-based) of the input file. */
  shard?: string;
  /** Continue `<output>.partial` from its journal. */
  resume: boolean;
}
