/**
 * Other tools' option names, for users coming from them: an unknown option that is the name of a
 * sentence-transformers `mine_hard_negatives` argument, a FlagEmbedding `hn_mine` flag or a RAGatouille miner
 * setting gets "did you mean" with rare-mine's option and how the value maps. One row per name in FOREIGN_OPTIONS;
 * docs/COMING-FROM.md shows the same mappings as whole commands. What must hold: both spellings match,
 * `--range_min` and `--range-min`, except where the dashed one is rare-mine's own option on some command
 * (`--batch-size`, `--model-size`, `--min-rank`, `--max-rank`): only `--batch_size` etc. are theirs (src/app/main.ts leaves the other to commander).
 */

/** One foreign option: whose it is, and rare-mine's equivalent for a value (undefined when it takes none). */
export interface ForeignOption {
  /** The tool and the call, e.g. "sentence-transformers mine_hard_negatives". */
  tool: string;
  /** rare-mine's options for this value, e.g. "--num-neg 15"; or what to do instead when there is no option. */
  ours: (value: string | undefined) => string;
  /** How their meaning and ours differ, when they do (one sentence). */
  note?: string;
}

const ST = 'sentence-transformers mine_hard_negatives';
const FLAG = 'FlagEmbedding hn_mine';
const RAG = 'RAGatouille';

const valueOr = (value: string | undefined, placeholder: string) => (value === undefined || value.startsWith('-') ? placeholder : value);

/** sentence-transformers' output_format → rare-mine's --format (and its extras). */
function stFormat(value: string | undefined): string {
  switch (value) {
    case 'triplet':
      return '--format triplet';
    case 'n-tuple':
      return '--format ntuple';
    case 'n-tuple-scores':
      return '--format ntuple --with-scores';
    case 'labeled-pair':
    case 'labeled-list':
      return `--format triplet (rare-mine writes no ${value} layout; triplet and ntuple hold the same examples, labels implied by position)`;
    default:
      return '--format triplet | ntuple (n-tuple-scores: --format ntuple --with-scores)';
  }
}

/** "10-210" → [10, 210]; undefined when it is not two integers with a dash. */
function rangePair(value: string | undefined): [number, number] | undefined {
  const match = value === undefined ? null : /^(\d+)-(\d+)$/.exec(value.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** 1 − r, printed without binary noise (0.05 → 0.95). */
function oneMinus(value: string | undefined): string {
  const r = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(r) ? String(Number((1 - r).toFixed(12))) : '(1 − R)';
}

const ST_RANKS_NOTE =
  'sentence-transformers counts range_min after the positives (and the candidates its score filters dropped) are taken out; rare-mine counts raw ranks, before any exclusion (as FlagEmbedding and RAGatouille): with one positive ranked first, range_min N is --min-rank N+1';

/** Option name (without dashes, `-` and `_` alike written `_`) → the foreign option. */
export const FOREIGN_OPTIONS: Readonly<Record<string, ForeignOption>> = {
  // sentence-transformers: sentence_transformers.util.mine_hard_negatives(dataset, model, ...)
  range_min: { tool: ST, ours: (v) => `--min-rank ${valueOr(v, 'N')}`, note: ST_RANKS_NOTE },
  range_max: { tool: ST, ours: (v) => `--max-rank ${valueOr(v, 'N')}`, note: 'sentence-transformers takes its candidates from the raw top range_max + (positives per query); --max-rank N keeps raw ranks below N (0-based): add the positives per query for the same window' },
  num_negatives: { tool: ST, ours: (v) => `--num-neg ${valueOr(v, 'N')}` },
  relative_margin: {
    tool: ST,
    ours: (v) => `--max-score-ratio ${oneMinus(valueOr(v, 'R'))}`,
    note: 'relative_margin R drops negatives scoring above (1 − R) × the positive; --max-score-ratio takes that factor (0.05 → 0.95), and stays below a negative positive score too (docs/MINING.md)',
  },
  absolute_margin: { tool: ST, ours: (v) => `--margin ${valueOr(v, 'M')}`, note: 'the same test: a negative must score at least M below the (lowest) positive' },
  sampling_strategy: { tool: ST, ours: (v) => `--sample ${v === 'top' || v === 'random' ? v : 'top | random'}` },
  output_format: { tool: ST, ours: (v) => stFormat(v) },
  anchor_column_name: { tool: ST, ours: (v) => `--question-key ${valueOr(v, 'KEY')}` },
  positive_column_name: { tool: ST, ours: (v) => `--text-key ${valueOr(v, 'KEY')}` },
  cross_encoder: { tool: ST, ours: (v) => `--rescore-model ${valueOr(v, 'DIR')}`, note: 'a cross-encoder in Hugging Face layout with an ONNX file' },
  include_positives: { tool: ST, ours: () => 'nothing: rare-mine always excludes the positives (use --format record with --with-ranks to see where they ranked)' },
  use_faiss: { tool: ST, ours: () => 'nothing: the dense vector index is USearch (HNSW, or --exact for brute force)' },
  use_multi_process: { tool: ST, ours: (v) => `--threads ${valueOr(v, 'N')}`, note: 'rare-mine encodes and searches on CPU threads' },
  query_prompt: { tool: ST, ours: (v) => `--query-prefix ${valueOr(v, 'TEXT')}` },
  corpus_prompt: { tool: ST, ours: (v) => `--doc-prefix ${valueOr(v, 'TEXT')}` },
  batch_size: { tool: `${ST} / ${FLAG}`, ours: (v) => `--embed-batch-size ${valueOr(v, 'N')}`, note: 'their batch_size is texts per model run; rare-mine\'s --batch-size is records searched per batch' },
  // FlagEmbedding: python -m FlagEmbedding.scripts.hn_mine (formerly baai_general_embedding.finetune.hn_mine)
  negative_number: { tool: FLAG, ours: (v) => `--num-neg ${valueOr(v, 'N')}` },
  range_for_sampling: {
    tool: FLAG,
    ours: (v) => {
      const pair = rangePair(v);
      return `${pair ? `--min-rank ${pair[0]} --max-rank ${pair[1]}` : '--min-rank A --max-rank B'} --sample random`;
    },
    note: 'both slice the raw ranking (0-based, before the positives are taken out) and draw at random; --fill random (the default) tops up from the corpus as hn_mine does',
  },
  use_gpu_for_searching: { tool: FLAG, ours: () => 'nothing: rare-mine searches on the CPU (BM25 worker threads, USearch); set --threads N' },
  input_file: { tool: FLAG, ours: (v) => `the input as an argument: rare-mine dense ${valueOr(v, 'FILE')} --question-key query --text-key pos --format flag` },
  output_file: { tool: FLAG, ours: (v) => `-o ${valueOr(v, 'FILE')}` },
  candidate_pool: { tool: FLAG, ours: (v) => `--corpus ${valueOr(v, 'FILE')}`, note: 'its {"text": ...} lines are read with the default --corpus-text-key text' },
  embedder_name_or_path: { tool: FLAG, ours: (v) => `--model ${valueOr(v, 'NAME')}` },
  model_name_or_path: { tool: FLAG, ours: (v) => `--model ${valueOr(v, 'NAME')}` },
  search_batch_size: { tool: FLAG, ours: (v) => `--batch-size ${valueOr(v, 'N')}` },
  query_instruction_for_retrieval: { tool: FLAG, ours: (v) => `--query-prefix ${valueOr(v, 'TEXT')}` },
  embedder_query_max_length: { tool: FLAG, ours: (v) => `--max-length ${valueOr(v, 'N')}`, note: 'one length for queries and passages' },
  embedder_passage_max_length: { tool: FLAG, ours: (v) => `--max-length ${valueOr(v, 'N')}`, note: 'one length for queries and passages' },
  pooling_method: { tool: FLAG, ours: (v) => `--pooling ${valueOr(v, 'MODE')}` },
  // RAGatouille: SimpleMiner (min_rank 10, max_rank), RAGTrainer.prepare_training_data(...)
  min_rank: { tool: RAG, ours: (v) => `--min-rank ${valueOr(v, 'N')}`, note: 'the same raw, 0-based rank (rare-mine dense defaults to RAGatouille\'s 10)' },
  max_rank: { tool: RAG, ours: (v) => `--max-rank ${valueOr(v, 'N')}` },
  num_new_negatives: { tool: RAG, ours: (v) => `--num-neg ${valueOr(v, 'N')}` },
  hard_negative_minimum_rank: { tool: RAG, ours: (v) => `--min-rank ${valueOr(v, 'N')}` },
  hard_negative_model_size: { tool: RAG, ours: (v) => `--model-size ${valueOr(v, 'SIZE')}` },
  model_size: { tool: RAG, ours: (v) => `--model-size ${valueOr(v, 'SIZE')}` },
  language_code: { tool: RAG, ours: (v) => `--lang ${valueOr(v, 'LANG')}` },
};

/** `--range-min`, `--range_min=3`, `-range_min` → "range_min". */
export function foreignKey(flag: string): string {
  return flag.replace(/^-+/, '').split('=')[0].toLowerCase().replace(/-/g, '_');
}

/**
 * The did-you-mean for an unknown option that another tool has (lines: whose it is, rare-mine's option with the value
 * mapped, how the meanings differ), or undefined. `value`: the argument after the flag, when there is one.
 */
export function foreignSuggestion(flag: string, value: string | undefined): string | undefined {
  const option = FOREIGN_OPTIONS[foreignKey(flag)];
  if (!option) return undefined;
  const inline = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : undefined;
  const ours = option.ours(inline ?? value);
  return [`(${foreignKey(flag)} of ${option.tool})`, `  in rare-mine: ${ours}`, ...(option.note ? [`  note: ${option.note}`] : []), '  docs/COMING-FROM.md maps whole calls of each tool'].join('\n');
}
