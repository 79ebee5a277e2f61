/**
 * Benchmark worker for okapibm25 (npm): a single function BM25(documents, keywords) with no index, which rescans
 * every document per query (regex term counts, substring document frequencies, word counts). It has no
 * analyzer, so documents and queries are analyzed once by rare-mine's English analyzer and given to it as
 * space-delimited terms: each term is wrapped in spaces (" cell  protein ") so its substring matching is
 * whole-term matching, and every character other than a letter, digit or "_" inside a term (the "." of
 * "u.s.a", the "'" of "don't") becomes "_", so that `new RegExp(term)` matches the term literally.
 * Its top-k is selected here from the score of every document (inside the timed region).
 */
import { createRequire } from 'node:module';
import { createAnalyzer } from '../../src/text/analyzer.js';
import { packageVersion, parseConfig, readCorpus, readQueries, report, timeSearch } from './worker-protocol.js';

type Okapi = typeof import('okapibm25');
const okapi = createRequire(import.meta.url)('okapibm25') as Okapi;

const config = parseConfig(process.argv);
const analyzer = createAnalyzer('en');
const literal = (term: string) => term.replace(/[^\p{L}\p{N}_]/gu, '_');
const asTerms = (text: string) => analyzer.terms(text).map(literal);

const started = performance.now();
const documents: string[] = [];
const ids: string[] = [];
for await (const record of readCorpus(config.corpus)) {
  documents.push(asTerms(record.title.length > 0 ? `${record.title}\n${record.text}` : record.text).map((t) => ` ${t} `).join(''));
  ids.push(record.id);
}
const prepareSeconds = (performance.now() - started) / 1000;

function search(text: string): Array<[number, number]> {
  const keywords = asTerms(text).map((t) => ` ${t} `);
  const scores = okapi.default(documents, keywords, { k1: 0.9, b: 0.4 }) as number[];
  const hits: Array<[number, number]> = [];
  for (let d = 0; d < scores.length; d++) if (scores[d] > 0) hits.push([d, scores[d]]);
  hits.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return hits.slice(0, config.k);
}

const queries = readQueries(config.queries, config.queryLimit);
const timing = timeSearch(
  queries,
  search,
  (found) => ({ docIds: found.map(([d]) => ids[d]), scores: found.map(([, s]) => s) }),
  config.runFile,
  config.minSearchSeconds,
);

report({
  engine: 'okapibm25',
  engineVersion: packageVersion('okapibm25'),
  phase: 'all',
  docs: ids.length,
  prepareSeconds,
  ...timing,
  notes: [
    `no index: documents read and pre-analyzed once (rare-mine English analyzer) in ${prepareSeconds.toFixed(2)} s; every query rescans all documents`,
    'queries sanitized: analyzer terms with any non-letter/digit/_ character mapped to "_" (its keywords are compiled as RegExp), each wrapped in spaces for whole-term matching',
    ...(config.queryLimit !== undefined
      ? [`search: only the first ${queries.length} queries were run (each rescans the whole corpus); queries/s is extrapolated from them`]
      : []),
  ],
});
