/**
 * Benchmark worker for wink-bm25-text-search (in-memory, pure JS), configured as its README recommends for
 * wink-nlp-utils: lower case, tokenize0, stopword removal (Lucene's 33 English stopwords, as rare-mine), Porter2
 * stem. One field (title and text joined, as rare-mine indexes them), k1=0.9, b=0.4, k=1 (so its idf is
 * Lucene's ln(1 + (N − df + 0.5)/(df + 0.5))). Index and search run in this one process (it has no disk index).
 */
import bm25 from 'wink-bm25-text-search';
import nlp from 'wink-nlp-utils';
import { LUCENE_ENGLISH_STOPWORDS } from '../../src/text/analyzer.js';
import { cpuSeconds, joinedText, packageVersion, parseConfig, readCorpus, readQueries, report, timeSearch } from './worker-protocol.js';

const config = parseConfig(process.argv);
const stopwords = nlp.helper.words(LUCENE_ENGLISH_STOPWORDS);

const cpuStarted = cpuSeconds();
const started = performance.now();
const engine = bm25();
engine.defineConfig({ fldWeights: { body: 1 }, bm25Params: { k1: 0.9, b: 0.4, k: 1 } });
engine.definePrepTasks([
  nlp.string.lowerCase,
  nlp.string.tokenize0,
  (tokens: string[]) => nlp.tokens.removeWords(tokens, stopwords),
  nlp.tokens.stem,
]);
const ids: string[] = [];
for await (const record of readCorpus(config.corpus)) {
  engine.addDoc({ body: joinedText(record) }, ids.length);
  ids.push(record.id);
}
engine.consolidate();
const indexSeconds = (performance.now() - started) / 1000;
const indexCpuSeconds = cpuSeconds() - cpuStarted;

const queries = readQueries(config.queries, config.queryLimit);
const timing = timeSearch(
  queries,
  (text) => engine.search(text, config.k),
  (found) => ({ docIds: found.map(([id]) => ids[Number(id)]), scores: found.map(([, score]) => score) }),
  config.runFile,
  config.minSearchSeconds,
);

report({
  engine: 'wink-bm25-text-search',
  engineVersion: packageVersion('wink-bm25-text-search'),
  phase: 'all',
  docs: ids.length,
  indexSeconds,
  indexCpuSeconds,
  ...timing,
  notes: [
    'in memory: index = read JSONL + addDoc + consolidate; search in the same process',
    'analysis: wink-nlp-utils lowerCase, tokenize0, removeWords(Lucene 33 stopwords), stem (Porter2)',
    'consolidate() rounds each precomputed term score to 4 decimals (its default precision)',
  ],
});
