/**
 * The option table: every command-line option of every command, declared once in a topic GROUP below, its flags,
 * meaning, valid range and default in one `spec(...)` (src/cli/option-spec.ts), from which commander's --help text
 * (grouped by topic, every default stated) and the value check are both generated. Commands compose the groups they
 * need; a new option goes into the group it belongs to (or a new group), never into a command; choices come from
 * the tables that own them (formats, layouts, analyzers, score filters, log levels). What must hold: a value
 * outside its range is a UsageError (exit 2) naming the option, the value and the valid range; cross-option rules
 * live in combination-rules.ts.
 */
import { availableParallelism } from 'node:os';
import type { Option } from 'commander';
import { Argument, Command, Option as CommanderOption } from 'commander';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { add, byteSize, declarePath, int, integer, nonEmpty, num, parseInRange, parseWeights, spec, type PathDecl } from './option-spec.js';
import { ANALYZERS, LANGUAGES as ANALYZER_LANGUAGES, STEMMER_NAMES, STOPWORD_LIST_NAMES } from '../text/analyzer.js';
import { VARIANT_NAMES } from '../bm25/scoring.js';
import { DEFAULT_MEMORY_BUDGET } from '../bm25/index-writer.js';
import { DEFAULT_MAX_LINE_BYTES } from '../io/line-reader.js';
import { DEFAULT_MODELS, LANGUAGES as MODEL_LANGUAGES, MODEL_SIZES } from '../embed/default-models.js';
import { POOLING_MODES } from '../embed/model-dir.js';
import { DEVICES } from '../embed/device.js';
import { PRECISION_NAMES } from '../vector/precision.js';
import { FORMAT_NAMES, FORMATS, DEFAULT_FORMAT } from '../formats/formats.js';
import { IF_KEY_EXISTS } from '../formats/record.js';
import { SCORE_FILTERS } from '../mine/filters.js';
import type { KeyUse } from '../io/record-keys.js';
import { LAYOUT_NAMES } from '../formats/output-reader.js';

/** The path roles of the option table (src/cli/option-spec.ts PathDecl): what the write gate compares. */
const READ: PathDecl = { role: 'read' };
const WRITE: PathDecl = { role: 'write' };
const WRITE_DIR: PathDecl = { role: 'write', kind: 'dir' };

/** Help headings, in the order `--help` shows them. */
export const HEADINGS = {
  io: 'Input and output:',
  corpus: 'Corpus and index:',
  bm25: 'BM25 retrieval:',
  dense: 'Dense retrieval (model and vector index):',
  fusion: 'Hybrid fusion:',
  window: 'Mining window and filters:',
  format: 'Output format:',
  run: 'Run control:',
  eval: 'Evaluation:',
  stats: 'Statistics:',
  readBack: 'The output read back (its layout and keys; unset ones from the run):',
} as const;

/** The argument of a command that reads a file (default stdin): a path read, named "input" by the write gate. */
export function inputArgument(name: string, description: string): Argument {
  return declarePath(new Argument(name, description), { role: 'read', label: 'input' });
}

/**
 * Every path option and argument a mining command may have (the record, corpus, BM25, dense, mining, format and run
 * groups and its input), for the run's plan (src/run/plan-start.ts), which has the options but not the command:
 * test/path-options.test.ts checks that no mining command declares a path this does not.
 */
export function miningPathTemplate(): Command {
  const command = new Command('mining-paths').addArgument(inputArgument('[input]', 'input JSONL'));
  addRecordOptions(command);
  addCorpusOptions(command);
  addBm25Options(command, { lang: false });
  addDenseOptions(command, { lang: false });
  addMiningOptions(command, { minRank: 0, sample: 'top', fillHelp: '' });
  addFormatOptions(command);
  addRunOptions(command, { mining: true });
  return command;
}

// ---------------------------------------------------------------------------------------------------------------
// The groups. Each add*Options declares a topic's options on a command.

/**
 * The default field names. A key an option names is looked for in the first records before any work
 * (src/io/record-keys.ts); an optional field left at its default (the title, a positive text when ids are given)
 * may be absent, one the user named may not.
 */
export const DEFAULT_KEYS = {
  question: 'question',
  text: 'text',
  /** The query id: colbert's --query-id-key, report's --queries-key (the BEIR query id field). */
  queryId: '_id',
  corpusId: '_id',
  corpusText: 'text',
  corpusTitle: 'title',
} as const;

/** The corpus keys an `index` or mining command reads from --corpus, as the prefix check looks for them. */
export function corpusKeyUses(options: { corpusIdKey: string; corpusTextKey: string; corpusTitleKey: string }): KeyUse[] {
  return [
    { option: '--corpus-text-key', key: options.corpusTextKey, what: 'the document text' },
    ...(options.corpusIdKey === DEFAULT_KEYS.corpusId ? [] : [{ option: '--corpus-id-key', key: options.corpusIdKey, what: 'the document id' }]),
    ...(options.corpusTitleKey === DEFAULT_KEYS.corpusTitle ? [] : [{ option: '--corpus-title-key', key: options.corpusTitleKey, what: 'the document title' }]),
  ];
}

/**
 * The input keys a mining command reads, as the prefix check looks for them. `corpusIsInput`: no --corpus and no
 * corpus in --index-dir, so the --text-key texts are the corpus and the key is required.
 */
export function inputKeyUses(options: { questionKey: string; textKey: string; positiveIdsKey?: string; format: string; queryIdKey: string }, corpusIsInput: boolean): KeyUse[] {
  const uses: KeyUse[] = [{ option: '--question-key', key: options.questionKey, what: 'the query text' }];
  if (corpusIsInput || options.textKey !== DEFAULT_KEYS.text) {
    uses.push({ option: '--text-key', key: options.textKey, what: corpusIsInput ? 'the positive texts, which form the corpus when there is no --corpus' : 'the positive texts' });
  }
  if (options.positiveIdsKey !== undefined) uses.push({ option: '--positive-ids-key', key: options.positiveIdsKey, what: 'the positive corpus ids' });
  if (options.format === 'colbert' && options.queryIdKey !== DEFAULT_KEYS.queryId) uses.push({ option: '--query-id-key', key: options.queryIdKey, what: 'the query id of the colbert triples' });
  return uses;
}

/** Records in and out: keys, output file, bad-input policy. Mining commands. */
export function addRecordOptions(command: Command): Command {
  const h = HEADINGS.io;
  return add(command, [
    spec('--question-key <key>', h, { help: 'field holding the query text (a non-empty string); checked in the first 1,000 records before any work', default: DEFAULT_KEYS.question }),
    spec('--text-key <key>', h, { help: 'field holding the positive passage(s): a string or a list of strings; without --corpus, these texts form the corpus (an empty one is an error)', default: DEFAULT_KEYS.text }),
    spec('--positive-ids-key <key>', h, { help: 'field holding positive corpus id(s): a string or a list (excluded from negatives); a key none of the first 1,000 records has is an error' }),
    spec('--require-positives', h, { help: 'a record with no positive (no --text-key text, no known --positive-ids-key id) is a bad input line (file:line; exit 1, or rejected under --on-error skip) instead of being mined with a warning: its answer could be among its negatives', default: false }),
    spec('--output-key <key>', h, { help: 'field the negatives are written to; --with-scores adds <key>_scores, --with-ids adds <key>_ids', default: 'hard_negatives' }),
    spec('--if-key-exists <what>', h, { help: 'record format, when an input record already has a key this run writes (e.g. bm25 | dense): fail (stop, or reject under --on-error skip) or replace its value in place', choices: IF_KEY_EXISTS, default: 'fail' }),
    spec('-o, --output <file>', h, { help: 'write here (atomically: <file>.partial renamed on success) instead of stdout', defaultHelp: 'stdout', path: WRITE }),
    ...badInputOptions(),
    maxLineBytesOption(),
  ]);
}

/** --on-error and --rejects: every command that reads records or a corpus. */
export function badInputOptions(what = 'input'): Option[] {
  const h = HEADINGS.io;
  return [
    spec('--on-error <policy>', h, { help: `bad ${what} line: fail (stop with file:line and exit 1) or skip (write it to --rejects, count it)`, choices: ['fail', 'skip'], default: 'fail' }),
    spec('--rejects <file>', h, { help: 'with --on-error skip: where bad lines go, with their reasons (JSONL); without it skipped lines are only counted', path: WRITE }),
  ];
}

/** --on-error and --rejects as a group of their own (`index`, which reads a corpus but writes no records). */
export function addBadInputOptions(command: Command, what = 'input'): Command {
  return add(command, badInputOptions(what));
}

/** --max-line-bytes: commands that read JSONL lines of any length. */
export function maxLineBytesOption(): Option {
  return spec('--max-line-bytes <n>', HEADINGS.io, { help: 'longest line accepted, in bytes (memory stays bounded by it)', range: int(1), default: DEFAULT_MAX_LINE_BYTES });
}

/** The corpus and its index dir. `forIndex`: the `index` subcommands, where both are required. */
export function addCorpusOptions(command: Command, forIndex = false): Command {
  const h = HEADINGS.corpus;
  return add(command, [
    forIndex
      ? spec('--corpus <file>', h, { help: 'corpus JSONL (or a .json array): {"_id","title","text"}', required: true, path: READ })
      : spec('--corpus <file>', h, { help: 'corpus JSONL (or a .json array): {"_id","title","text"}', defaultHelp: 'the distinct --text-key texts of the input', path: READ }),
    spec('--corpus-id-key <key>', h, { help: 'corpus id field (falls back to "id" when "_id" is absent)', default: DEFAULT_KEYS.corpusId }),
    spec('--corpus-text-key <key>', h, { help: 'corpus text field', default: DEFAULT_KEYS.corpusText }),
    spec('--corpus-title-key <key>', h, { help: 'corpus title field (indexed together with the text; optional when left at its default)', default: DEFAULT_KEYS.corpusTitle }),
    forIndex
      ? spec('--index-dir <dir>', h, { help: 'where the index is written', required: true, path: WRITE_DIR })
      : spec('--index-dir <dir>', h, { help: 'where indexes live; reused when corpus and settings match', defaultHelp: 'a temporary dir', path: WRITE_DIR }),
    spec('--rebuild', h, { help: 'rebuild the index even when it matches', default: false }),
  ]);
}

const languageHelp = 'analyzer language (docs/ANALYZERS.md says what each does)';

/** BM25 scoring and the analyzer. `lang: false` where --lang is declared by the dense group (hybrid, eval). */
export function addBm25Options(command: Command, options: { lang: boolean } = { lang: true }): Command {
  const h = HEADINGS.bm25;
  return add(command, [
    ...(options.lang ? [spec('--lang <lang>', h, { help: languageHelp, choices: ANALYZER_LANGUAGES, default: 'en' })] : []),
    spec('--stemmer <name>', h, { help: "stemmer instead of --lang's (en: porter, as Lucene)", choices: STEMMER_NAMES, defaultHelp: "--lang's" }),
    spec('--stopwords <list>', h, { help: `stopword list instead of --lang's: ${STOPWORD_LIST_NAMES.join(', ')} or a FILE with one word a line (en default: lucene, ${ANALYZERS.en.stopwords.length} words)`, defaultHelp: "--lang's", path: { role: 'read', names: STOPWORD_LIST_NAMES } }),
    spec('--k1 <k1>', h, { help: 'BM25 term-frequency saturation', range: num(0), default: 0.9 }),
    spec('--b <b>', h, { help: 'BM25 length normalisation', range: num(0, 1), default: 0.4 }),
    spec('--bm25-variant <name>', h, { help: 'scoring formula (src/bm25/scoring.ts)', choices: VARIANT_NAMES, default: 'lucene' }),
    spec('--memory-budget <size>', h, {
      help: 'memory for building the BM25 index: postings beyond it go to sorted runs on disk, merged at the end (peak RSS ≈ budget + ~50 bytes a document, doc store table included, + ~30 bytes a term + ~60 MB for Node); K/M/G units, at least 64K',
      parse: byteSize('--memory-budget', 64 * 1024),
      default: DEFAULT_MEMORY_BUDGET,
      defaultHelp: '1G',
    }),
  ]);
}

const defaultModelsHelp = `by --lang and --model-size; small: ${Object.entries(DEFAULT_MODELS)
  .map(([lang, sizes]) => `${lang} ${sizes.small}`)
  .join(', ')} (docs/DENSE.md lists every size)`;

/**
 * The embedding model and the vector index. `langHelp`: what --lang also picks (hybrid: the BM25 analyzer);
 * `lang: false` where the BM25 group declares --lang (eval, whose analyzer languages are more).
 */
export function addDenseOptions(command: Command, options: { lang?: boolean; langHelp?: string; queryVectors?: boolean } = {}): Command {
  const h = HEADINGS.dense;
  const vectorFile = 'NumPy .npy (float32/float16, little-endian, C order, 2-D; header v1-3), .safetensors or .fvecs, read in blocks; rows are L2-normalised and compared by cosine';
  return add(command, [
    ...(options.lang === false ? [] : [spec('--lang <lang>', h, { help: options.langHelp ?? 'language, picks the default model when --model is not given', choices: MODEL_LANGUAGES, default: 'en' })]),
    // A model directory is read (nothing may be written inside it); a name that is no directory here (a hub name,
    // "use-lite") never matches a written path.
    spec('--model <name>', h, { help: `model directory, Hugging Face name, or "use-lite" (built-in, offline, English)`, defaultHelp: defaultModelsHelp, path: { role: 'read', kind: 'tree', names: ['use-lite'] } }),
    spec('--model-size <size>', h, { help: 'size of the default model', choices: MODEL_SIZES, default: 'small' }),
    spec('--revision <rev>', h, { help: 'hub model: branch, tag or commit to use (recorded in the index manifest)', defaultHelp: 'main' }),
    spec('--onnx-file <path>', h, { help: 'ONNX file inside the model directory, e.g. onnx/model_quantized.onnx or onnx/model_int8.onnx (recorded in the index manifest)', defaultHelp: 'onnx/model.onnx, then model.onnx' }),
    spec('--query-prefix <text>', h, { help: 'text prepended to queries; "" for none', parse: (v: string) => v, defaultHelp: "from the model's files (e5 \"query: \", bge's instruction)" }),
    spec('--doc-prefix <text>', h, { help: 'text prepended to documents; "" for none', parse: (v: string) => v, defaultHelp: "from the model's files (e5 \"passage: \")" }),
    spec('--max-length <n>', h, { help: 'tokens per text, special tokens included', range: int(2), defaultHelp: "the model's max_seq_length" }),
    spec('--pooling <mode>', h, { help: "pooling when the model's files don't say (or to override them)", choices: POOLING_MODES, defaultHelp: "from the model's files" }),
    spec('--precision <kind>', h, { help: 'vector storage in the vector index', choices: PRECISION_NAMES, defaultHelp: 'f32; i8 above 500,000 documents' }),
    spec('--exact', h, { help: 'exact (brute-force) search instead of HNSW (chosen automatically below ~60k documents, where it is faster)', default: false }),
    spec('--corpus-vectors <file>', h, {
      help: `precomputed document vectors instead of embedding the corpus: row i is the i-th corpus document (DataFlow mode: the i-th text of the input, a list of positives giving one row per text, in order); ${vectorFile}. Without --query-vectors the model (--model, the one that made these rows) embeds the queries. Its SHA-256 and shape identify the index; give it again when mining over --index-dir`,
      parse: nonEmpty('--corpus-vectors'),
      path: READ,
    }),
    ...(options.queryVectors === false
      ? []
      : [
          spec('--query-vectors <file>', h, {
            help: `precomputed query vectors instead of embedding the queries: row i is the i-th record of the input (eval: of --queries), blank lines not counted; ${vectorFile}`,
            parse: nonEmpty('--query-vectors'),
            path: READ,
          }),
        ]),
    spec('--vectors-tensor <name>', h, { help: 'the tensor to read from a .safetensors vector file holding several', parse: nonEmpty('--vectors-tensor'), defaultHelp: 'its only tensor' }),
    spec('--embed-batch-size <n>', h, { help: 'texts per model run', range: int(1), default: 32 }),
    spec('--device <name>', h, {
      help: "where the model encodes: cpu (onnxruntime on --threads cores) or webgpu (onnxruntime's WebGPU execution provider, Dawn over Vulkan/Metal/D3D12; checked before any work, exit 4 when no adapter is found, never a silent fall back to the CPU; Dawn may print its own warnings on stderr, plain text even under --log-format json)",
      choices: DEVICES,
      default: 'cpu',
    }),
    spec('--no-cache', h, { help: 'do not read or write the embedding cache (default: use it)' }),
  ]);
}

/** Reciprocal rank fusion of rankings, one weight per input in `inputs` order (hybrid, eval --retriever hybrid). */
export function addFusionOptions(command: Command, inputs: readonly string[]): Command {
  const h = HEADINGS.fusion;
  const none = inputs.length === 2 ? 'not both 0' : 'not all 0';
  return add(command, [
    spec('--rrf-k <k>', h, { help: 'reciprocal rank fusion constant: score = Σ w/(k + rank)', range: int(1), default: 60 }),
    spec(`--rrf-weights <${inputs.join(',')}>`, h, {
      help: `weight of each ranking in the fusion, non-negative, ${none} (e.g. ${inputs.map((_, i) => (i === 0 ? '1' : '0.5')).join(',')} to trust ${inputs[0].toUpperCase()} more)`,
      parse: parseWeights(inputs),
      default: inputs.map(() => 1),
      defaultHelp: inputs.map(() => '1').join(','),
    }),
    spec('--fusion-depth <n>', h, { help: "depth of each engine's ranking that is fused (at least the requested depth)", range: int(1), default: 100 }),
  ]);
}

/** The mining window, exclusions, score filters, sampling. Defaults differ by retriever (bm25: DataFlow; dense: RAGatouille). */
export function addMiningOptions(command: Command, defaults: { minRank: number; maxRank?: number; sample: 'top' | 'random'; fillHelp: string }): Command {
  const h = HEADINGS.window;
  return add(command, [
    spec('--num-neg <n>', h, { help: 'negatives per record', range: int(1), default: 3 }),
    spec('--min-rank <r>', h, { help: 'first 0-based rank of the raw ranking that may be a negative (ranks count before exclusions)', range: int(0), default: defaults.minRank }),
    spec('--max-rank <r>', h, { help: 'ranks below this (exclusive) only; above --min-rank', range: int(1), default: defaults.maxRank, defaultHelp: defaults.maxRank === undefined ? 'no limit (min-rank + 100 with --sample random)' : undefined }),
    spec('--sample <how>', h, { help: 'top: the best-ranked survivors; random: a seeded draw from the window', choices: ['top', 'random'], default: defaults.sample }),
    spec('--fill <how>', h, { help: defaults.fillHelp, choices: ['none', 'random'], default: 'random' }),
    ...SCORE_FILTERS.map((filter) => spec(filter.flag, h, { help: filter.help, range: num(filter.min) })),
    spec('--rescore-model <dir>', h, { help: 'cross-encoder (Hugging Face layout, ONNX) that re-scores candidates and positives; the score filters then apply to its scores', path: { role: 'read', kind: 'tree' } }),
    spec('--dedup-threshold <j>', h, { help: 'also drop near-duplicates (word 3-shingle Jaccard ≥ j) of a positive or of a kept negative; exact duplicates are always dropped', range: num(0, 1) }),
  ]);
}

/** What `--fill` does, per retriever family (BM25's ranking runs out; a dense ranking covers the corpus). */
export const FILL_HELP = {
  bm25: 'when the ranking runs out before --num-neg (BM25 ranks only documents sharing a term with the query): random = top up with a seeded draw of zero-score documents (counted in the summary); none = write fewer',
  dense: 'when the window holds fewer than --num-neg survivors (a small corpus, strict filters): random = top up with a seeded draw of the remaining corpus (counted in the summary); none = write fewer',
} as const;

/** --format and the per-negative extras; their meaning per format lives in src/formats/. */
export function addFormatOptions(command: Command): Command {
  const h = HEADINGS.format;
  const formatsHelp = FORMAT_NAMES.map((name) => `${name}: ${FORMATS[name].description}`).join('; ');
  return add(command, [
    spec('--format <name>', h, { help: `output layout (docs/FORMATS.md) — ${formatsHelp}`, choices: FORMAT_NAMES, default: DEFAULT_FORMAT }),
    spec('--with-scores', h, { help: "also write each negative's retriever score (colbert: ColBERT v2's distillation layout; labeled-pair/labeled-list: score/scores in place of label/labels)", default: false }),
    spec('--with-ids', h, { help: "also write each negative's corpus id (record, flag, triplet, ntuple; colbert writes ids only; not labeled-pair/labeled-list)", default: false }),
    spec('--with-ranks', h, { help: "also write each negative's 0-based raw rank (record: <key>_ranks, flag: neg_ranks, triplet: negative_rank, ntuple: negative_ranks; not colbert, labeled-pair, labeled-list); rare-mine stats draws its rank histogram from them", default: false }),
    spec('--query-id-key <key>', h, { help: 'colbert: record field holding the query id (string or number), written as the third column of its queries file; with "_id", falls back to "id", then to line:N', default: DEFAULT_KEYS.queryId }),
    spec('--colbert-dir <dir>', h, {
      help: 'colbert: existing directory for queries.train.colbert.tsv and corpus.train.colbert.tsv, which resolve the integer ids of the triples (with -o DIR/triples.train.colbert.jsonl, DIR is a RAGatouille data dir); required when the triples go to stdout',
      defaultHelp: 'the directory of -o',
      path: WRITE_DIR,
    }),
  ]);
}

/**
 * Reading a mining output back (stats, report): the run's --stats-json (`runFlag`: report's --stats-json, which it
 * also shows; stats' --run-stats, its own --stats-json being a file it writes), then the layout and keys the output
 * was mined with, each defaulting to the run's, else the mining default. `questionKey`: report names queries.
 */
export function addReadBackOptions(command: Command, options: { runFlag: '--stats-json' | '--run-stats'; runHelp: string; questionKey: boolean }): Command {
  const h = HEADINGS.readBack;
  const fromRun = (fallback: string) => `the run's, from ${options.runFlag}; else ${fallback}`;
  return add(command, [
    spec(`${options.runFlag} <file>`, h, { help: options.runHelp, path: READ }),
    spec('--format <name>', h, {
      help: 'layout of the file: auto (flag when lines have "query", "pos" and "neg"; else record), record or flag',
      choices: ['auto', ...LAYOUT_NAMES],
      defaultHelp: fromRun('auto'),
    }),
    spec('--output-key <key>', h, { help: 'record layout: the field holding the negatives (the --output-key it was mined with)', defaultHelp: fromRun('"hard_negatives"') }),
    ...(options.questionKey
      ? [spec('--question-key <key>', h, { help: 'record layout: the field holding the query text (the --question-key it was mined with)', defaultHelp: fromRun(`"${DEFAULT_KEYS.question}"`) })]
      : []),
    spec('--text-key <key>', h, { help: 'record layout: the field holding the positive text(s) (the --text-key it was mined with), to count records without positives', defaultHelp: fromRun(`"${DEFAULT_KEYS.text}"`) }),
    spec('--positive-ids-key <key>', h, { help: 'record layout: the field holding positive corpus ids (the --positive-ids-key it was mined with), to count records without positives and name positives given by id', defaultHelp: fromRun('none') }),
    spec('--num-neg <n>', h, { help: 'the --num-neg it was mined with, to count short records', range: int(0), defaultHelp: fromRun('the most negatives any record has') }),
    maxLineBytesOption(),
  ]);
}

/** What `rare-mine stats` prints and writes. */
export function addStatsOutputOptions(command: Command): Command {
  const h = HEADINGS.stats;
  return add(command, [
    spec('--json', h, { help: 'print the report as JSON (the --stats-json layout) instead of the table', default: false }),
    spec('--stats-json <file>', h, { help: 'also write the JSON report to this file', path: WRITE }),
  ]);
}

/** Batching, threads, seeds, resume and shards, the statistics file. `mining`: the resume/shard/seed options too. */
export function addRunOptions(command: Command, options: { mining: boolean }): Command {
  const h = HEADINGS.run;
  return add(command, [
    spec('--threads <n>', h, {
      help: 'threads of every stage, one stage at a time: BM25 search (worker threads over one shared copy of the index), the ONNX model (encoding, re-scoring), vector search and index builds (BM25 analysis, GEMM, k-means, HNSW insertion). Output is byte-identical for every value',
      range: int(1),
      // The one place --threads is decided: every stage below takes this number, none has a default of its own.
      default: availableParallelism(),
      defaultHelp: 'every core (os.availableParallelism())',
    }),
    ...(options.mining
      ? [
          spec('--seed <n>', h, { help: 'seed for --sample random and --fill random (same seed, same output)', range: int(0), default: 42 }),
          spec('--batch-size <n>', h, { help: 'records searched per batch', range: int(1), default: 256 }),
          spec('--resume', h, { help: 'continue an interrupted -o run from the last complete batch of <file>.partial', default: false }),
          spec('--shard <I/N>', h, { help: 'process only shard I of N (0-based; a contiguous byte range of the input file); join outputs with `rare-mine merge`' }),
          spec('--stats-json <file>', h, { help: 'also write the end-of-run statistics (scores, filters, rank histogram) as JSON', path: WRITE }),
        ]
      : []),
  ]);
}

/**
 * The program's own options, before any command: how much to log and in which form, stack traces. Their defaults
 * come from the environment when it sets them (checked against the same choices by src/app/main.ts).
 */
export function addGlobalOptions(program: Command): Command {
  return add(program, [
    new CommanderOption('--log-level <level>', 'how much to log on stderr: info is one line per phase, debug the details').choices(LOG_LEVELS).default(process.env.RARE_MINE_LOG_LEVEL ?? 'info', 'info, or $RARE_MINE_LOG_LEVEL'),
    new CommanderOption('--log-format <format>', 'on stderr: pretty (human-readable lines, the statistics table) or json (every line one JSON object: the table, warnings and errors are events; no progress line)').choices(LOG_FORMATS).default(process.env.RARE_MINE_LOG_FORMAT ?? 'pretty', 'pretty, or $RARE_MINE_LOG_FORMAT'),
    new CommanderOption('--debug', 'print stack traces of errors').default(false),
  ]);
}

/** `rare-mine eval`: the BEIR files, the ranking depth and run file, the index dir. `retrievers`: the table's names. */
export function addEvalOptions(command: Command, retrievers: readonly string[]): Command {
  const h = HEADINGS.eval;
  return add(command, [
    spec('--retriever <name>', h, { help: 'which retriever to evaluate', choices: retrievers, default: 'bm25' }),
    spec('--corpus <file>', h, { help: 'BEIR corpus.jsonl', required: true, path: READ }),
    spec('--queries <file>', h, { help: 'BEIR queries JSONL ({"_id","text"})', required: true, path: READ }),
    spec('--qrels <file>', h, { help: 'BEIR qrels TSV with header (query-id, corpus-id, score)', required: true, path: READ }),
    spec('--json', h, { help: 'print one JSON object: ndcg@10, recall@100, mrr@10, queries, index_seconds, search_seconds, queries_per_second', default: false }),
    spec('--run <file>', h, { help: 'also write the ranking as a TREC run file', path: WRITE }),
    spec('--depth <n>', h, { help: 'ranking depth evaluated', range: int(1), default: 100 }),
    spec('--index-dir <dir>', HEADINGS.corpus, { help: 'index dir (reused when it matches)', defaultHelp: 'a temporary dir', path: WRITE_DIR }),
    spec('--rebuild', HEADINGS.corpus, { help: 'rebuild the index even when it matches', default: false }),
  ]);
}

/** `rare-mine merge`: where the merged output goes. */
export function addMergeOptions(command: Command): Command {
  return add(command, [declarePath(new CommanderOption('-o, --output <file>', 'write here atomically instead of stdout'), WRITE)]);
}

/** `rare-mine report`: the HTML file, the qrels that measure false negatives, the sample and review table. */
export function addReportOptions(command: Command): Command {
  return add(command, [
    declarePath(new CommanderOption('-o, --output <file>', 'write the HTML here (atomically) instead of stdout'), WRITE),
    declarePath(new CommanderOption('--qrels <file>', 'BEIR qrels TSV (query-id, corpus-id, score): measure the false-negative rate (needs an output mined with --with-ids)'), READ),
    new CommanderOption('--queries-key <key>', `with --qrels: the record field holding the query id (default "${DEFAULT_KEYS.queryId}")`),
    new CommanderOption('--seed <n>', 'seed of the record sample (same seed, same report)').default(42).argParser(integer('--seed', 0)),
    new CommanderOption('--review-rows <n>', 'rows in the likeliest-false-negatives table (1..1000)').default(30).argParser((v: string) => parseInRange('--review-rows', { min: 1, max: 1000, integer: true }, v)),
    new CommanderOption('--samples <n>', 'records in the seeded sample (0..1000)').default(8).argParser((v: string) => parseInRange('--samples', { min: 0, max: 1000, integer: true }, v)),
  ]);
}

/** `rare-mine models prepare`: convert again, the cache root, JSON output. */
export function addModelsPrepareOptions(command: Command): Command {
  return add(command, [
    new CommanderOption('--force', 'convert again even when the cached conversion is current').default(false),
    declarePath(new CommanderOption('--cache-dir <dir>', 'rare-mine cache root (default: $RARE_MINE_CACHE_DIR, $XDG_CACHE_HOME/rare-mine or ~/.cache/rare-mine)'), WRITE_DIR),
    new CommanderOption('--json', 'print one JSON object').default(false),
  ]);
}

/** `rare-mine models list`: JSON output. */
export function addModelsListOptions(command: Command): Command {
  return add(command, [new CommanderOption('--json', 'print JSON lines').default(false)]);
}
