/**
 * `rare-mine eval`: retrieval quality of a retriever on BEIR files (nDCG@10, Recall@100, MRR@10 with trec_eval's
 * definitions) and its speed: index build seconds, search seconds and queries/s for top-100.
 */
import { writeFileAtomically } from '../io/output.js';
import type { Command } from 'commander';
import { rowsInOrder } from '../io/record-rows.js';
import type { VectorInputOptions } from '../dense/vector-inputs.js';
import { UsageError } from '../errors.js';
import { log } from '../log.js';
import { addEvalOptions, addRunOptions } from '../cli/options.js';
import { addOptionsOnce } from '../cli/option-spec.js';
import { RejectPolicy } from '../io/jsonl.js';
import { corpusFileSource } from '../corpus/corpus-source.js';
import { checkPaths } from '../io/path-safety.js';
import { indexDirWrites } from '../index/layout.js';
import { INDEX_PARTS } from '../retrievers/index-parts.js';
import { evaluate } from '../eval/metrics.js';
import { readQrels, readQueries } from '../eval/beir.js';
import type { Candidate } from '../retriever.js';
import { RETRIEVER_NAMES, RETRIEVERS, type AnyRetrieverOptions } from '../retrievers/retrievers.js';
import { openRetriever } from '../retrievers/retriever-kind.js';

/** The eval options and every retriever's (RETRIEVERS declares them all on `eval`). */
export type EvalOptions = AnyRetrieverOptions & {
  retriever: string;
  corpus: string;
  queries: string;
  qrels: string;
  json: boolean;
  run?: string;
  indexDir?: string;
  rebuild: boolean;
  threads: number;
  depth: number;
};

export async function runEval(options: EvalOptions): Promise<void> {
  checkPaths({
    reads: [
      { option: '--corpus', path: options.corpus },
      { option: '--queries', path: options.queries },
      { option: '--qrels', path: options.qrels },
      { option: '--corpus-vectors', path: (options as Partial<VectorInputOptions>).corpusVectors },
      { option: '--query-vectors', path: (options as Partial<VectorInputOptions>).queryVectors },
    ],
    writes: [{ option: '--run', path: options.run }, ...indexDirWrites(options.indexDir, INDEX_PARTS)],
  });
  const keys = { idKey: '_id', textKey: 'text', titleKey: 'title' };
  const source = await corpusFileSource(options.corpus, keys, new RejectPolicy('fail'));
  const queries = await readQueries(options.queries);
  const qrels = await readQrels(options.qrels);
  // Row i of --query-vectors is the i-th query of --queries: each judged query keeps its position as its line.
  const judged = queries.map((query, i) => ({ ...query, line: i + 1 })).filter((q) => qrels.has(q.id));
  if (judged.length === 0) throw new UsageError(`no query of ${options.queries} has judgments in ${options.qrels}`);

  const indexStarted = performance.now();
  const kind = RETRIEVERS.find((k) => k.name === options.retriever);
  // commander checks the choices; a caller of runEval may pass anything.
  if (!kind) throw new UsageError(`unknown --retriever "${options.retriever}"; choose one of: ${RETRIEVER_NAMES.join(', ')}`);
  const retriever = await openRetriever(kind, source, options, 'eval', rowsInOrder(options.queries, queries.length));
  const indexSeconds = (performance.now() - indexStarted) / 1000;

  let results: Candidate[][];
  let searchSeconds: number;
  const texts = judged.map((q) => q.text);
  const threads = options.threads;
  // Search threads (BM25's pool, the model's and USearch's threads) started while the retriever opened.
  const searchStarted = performance.now();
  results = await retriever.search(texts, options.depth, judged.map((q) => q.line));
  searchSeconds = (performance.now() - searchStarted) / 1000;

  const rankings = new Map<string, string[]>();
  const runLines: string[] = [];
  judged.forEach((query, i) => {
    const ids = results[i].map((c) => retriever.corpus.id(c.docOrdinal));
    rankings.set(query.id, ids);
    results[i].forEach((c, rank) => runLines.push(`${query.id} Q0 ${ids[rank]} ${rank + 1} ${c.score.toFixed(6)} rare-mine-${retriever.name}`));
  });
  let unknown = 0;
  for (const judgedDocs of qrels.values()) for (const id of judgedDocs.keys()) if (retriever.corpus.ordinalOfId(id) === undefined) unknown++;
  if (unknown > 0) log().warn({ judgments: unknown }, 'some qrels name documents that are not in the corpus (they count as relevant but can never be retrieved)');
  await retriever.close();
  if (options.run) writeFileAtomically(options.run, runLines.join('\n') + '\n'); // checked writable by checkPaths
  const scores = evaluate(rankings, qrels);
  const report = {
    ...scores,
    index_seconds: round(indexSeconds),
    search_seconds: round(searchSeconds),
    queries_per_second: round(judged.length / searchSeconds),
  };
  if (options.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    process.stdout.write(
      `retriever   ${retriever.name}\nqueries     ${report.queries}\nnDCG@10     ${report['ndcg@10'].toFixed(4)}\nRecall@100  ${report['recall@100'].toFixed(4)}\n` +
        `MRR@10      ${report['mrr@10'].toFixed(4)}\nindex       ${report.index_seconds} s\nsearch      ${report.search_seconds} s (${report.queries_per_second} queries/s, top-${options.depth}, ${threads} thread${threads > 1 ? 's' : ''})\n`,
    );
  }
  log().debug(report, 'eval');
}

function round(value: number): number {
  return Number(value.toFixed(4));
}

export function register(program: Command): void {
  const command = program
    .command('eval')
    .summary('retrieval quality and speed on BEIR files')
    .description('Evaluate a retriever on BEIR files: prints nDCG@10, Recall@100, MRR@10 (trec_eval definitions) and index/search time.');
  addEvalOptions(command, RETRIEVER_NAMES);
  // Every retriever's options, each declared once (the first kind to declare --lang gives its help and choices).
  for (const kind of RETRIEVERS) addOptionsOnce(command, (scratch) => kind.options(scratch));
  addRunOptions(command, { mining: false });
  command.action(async (options: EvalOptions) => runEval(options));
}
