/**
 * Every option of the mining commands, declared once with its meaning, valid range and default; commander's
 * --help text is generated from here, and so are the typed options objects the commands receive.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { LANGUAGES } from '../text/analyzer.js';
import { VARIANT_NAMES } from '../bm25/scoring.js';
import { DEFAULT_MAX_LINE_BYTES } from '../io/line-reader.js';

export function integer(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

export function number(name: string, min = Number.NEGATIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`${name} must be a number ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Input/output keys and the record contract, shared by bm25, dense and hybrid. */
export function addRecordOptions(command: Command): Command {
  return command
    .option('--question-key <key>', 'field holding the query text (a non-empty string)', 'question')
    .option('--text-key <key>', 'field holding the positive passage(s): a string or a list of strings; without --corpus, these texts form the corpus', 'text')
    .option('--positive-ids-key <key>', 'field holding positive corpus id(s): a string or a list (excluded from negatives)')
    .option('--output-key <key>', 'field the negatives are written to; --with-scores adds <key>_scores, --with-ids adds <key>_ids', 'hard_negatives')
    .option('--with-scores', "also write each negative's retriever score", false)
    .option('--with-ids', "also write each negative's corpus id", false)
    .option('-o, --output <file>', 'write here (atomically: <file>.partial renamed on success) instead of stdout')
    .addOption(new Option('--on-error <policy>', 'bad input line: fail (stop with file:line and exit 1) or skip (write it to --rejects, count it)').choices(['fail', 'skip']).default('fail'))
    .option('--rejects <file>', 'with --on-error skip: where bad lines go, with their reasons (JSONL)')
    .option('--resume', 'continue an interrupted -o run from the last complete batch of <file>.partial', false)
    .option('--shard <I/N>', 'process only shard I of N (0-based; a contiguous byte range of the input file); join outputs with `rare-mine merge`')
    .option('--max-line-bytes <n>', 'longest input line accepted, in bytes (memory stays bounded by it)', integer('--max-line-bytes', 1), DEFAULT_MAX_LINE_BYTES);
}

/** The corpus and its index dir. */
export function addCorpusOptions(command: Command): Command {
  return command
    .option('--corpus <file>', 'corpus JSONL (or a .json array): {"_id","title","text"}; default: the distinct --text-key texts of the input')
    .option('--corpus-id-key <key>', 'corpus id field (falls back to "id" when "_id" is absent)', '_id')
    .option('--corpus-text-key <key>', 'corpus text field', 'text')
    .option('--corpus-title-key <key>', 'corpus title field (indexed together with the text; optional)', 'title')
    .option('--index-dir <dir>', 'where indexes live; reused when corpus and settings match (default: a temporary dir)')
    .option('--rebuild', 'rebuild the index even when it matches', false);
}

export function addBm25Options(command: Command): Command {
  return command
    .addOption(new Option('--lang <lang>', 'analyzer language (docs/ANALYZERS.md says what each does)').choices(LANGUAGES).default('en'))
    .option('--k1 <k1>', 'BM25 term-frequency saturation (≥ 0)', number('--k1', 0), 0.9)
    .option('--b <b>', 'BM25 length normalisation (0..1)', number('--b', 0), 0.4)
    .addOption(new Option('--bm25-variant <name>', 'scoring formula (src/bm25/scoring.ts)').choices(VARIANT_NAMES).default('lucene'));
}

export function addMiningOptions(command: Command, defaults: { minRank: number; maxRank?: number; sample: 'top' | 'random' }): Command {
  return command
    .option('--num-neg <n>', 'negatives per record', integer('--num-neg', 0), 3)
    .option('--min-rank <r>', 'first 0-based rank of the raw ranking that may be a negative (ranks count before exclusions)', integer('--min-rank', 0), defaults.minRank)
    .option('--max-rank <r>', `ranks below this (exclusive) only${defaults.maxRank === undefined ? '; default: no limit' : ''}`, integer('--max-rank', 1), defaults.maxRank)
    .addOption(new Option('--sample <how>', 'top: the best-ranked survivors; random: a seeded draw from the window').choices(['top', 'random']).default(defaults.sample))
    .option('--seed <n>', 'seed for --sample random and --fill random (same seed, same output)', integer('--seed', 0), 42)
    .addOption(new Option('--fill <how>', 'when the ranking runs out before --num-neg (BM25 ranks only documents sharing a term with the query): random = top up with a seeded draw of zero-score documents (counted in the summary); none = write fewer').choices(['none', 'random']).default('random'))
    .option('--max-score-ratio <r>', "drop candidates scoring above r × the lowest positive's score (NV-Retriever's 0.95); negative scores handled (docs/MINING.md)", number('--max-score-ratio', 0))
    .option('--margin <m>', "drop candidates scoring above (lowest positive's score − m)", number('--margin'))
    .option('--min-score <s>', 'drop candidates scoring below s', number('--min-score'))
    .option('--max-score <s>', 'drop candidates scoring above s', number('--max-score'))
    .option('--rescore-model <dir>', 'cross-encoder (Hugging Face layout, ONNX) that re-scores candidates and positives; the score filters then apply to its scores')
    .option('--dedup-threshold <j>', 'also drop near-duplicates (word 3-shingle Jaccard ≥ j, 0..1) of a positive or of a kept negative; exact duplicates are always dropped', number('--dedup-threshold', 0))
    .option('--batch-size <n>', 'records searched per batch', integer('--batch-size', 1), 256)
    .option('--stats-json <file>', 'also write the end-of-run statistics (scores, filters, rank histogram) as JSON');
}
