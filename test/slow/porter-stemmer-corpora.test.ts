/**
 * src/text/porter-stemmer.ts against snowball-stemmers' 'porter' on every distinct token of the shared corpora
 * (../shared/data; skipped with a printed reason when absent), as the analyzer tokenizes them: the stems indexes
 * built before it hold must come out the same. All four, read whole, take about 10 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecords, RejectPolicy } from '../../src/io/jsonl.js';
import { createAnalyzer } from '../../src/text/analyzer.js';
import { comparePorterStems } from '../helpers/porter-differences.js';
import { sharedData } from '../helpers/shared-data.js';

const CORPORA = ['scifact', 'cacm', 'linux-doc-passages', 'gcide-definitions'];

/** The distinct tokens of the titles and texts of a corpus, read line by line. */
async function distinctTokens(path: string): Promise<{ tokens: Set<string>; documents: number }> {
  const analyzer = createAnalyzer('en');
  const tokens = new Set<string>();
  let documents = 0;
  for await (const record of readRecords(path, { policy: new RejectPolicy() })) {
    documents++;
    for (const field of ['title', 'text']) {
      const value = record.value[field];
      if (typeof value === 'string') analyzer.forEachToken(value, (token) => tokens.add(token));
    }
  }
  return { tokens, documents };
}

for (const folder of CORPORA) {
  test(`${folder}: every distinct token has snowball-stemmers' stem`, async (t) => {
    const path = sharedData(folder, 'corpus.jsonl');
    if (!path) return t.skip('shared data absent');
    const started = Date.now();
    const { tokens, documents } = await distinctTokens(path);
    const comparison = comparePorterStems(tokens);
    console.log(`# ${folder}: ${comparison.compared} distinct tokens of ${documents} documents compared, ${comparison.differenceCount} differ (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    assert.ok(comparison.compared > 1_000, `only ${comparison.compared} tokens`);
    assert.deepEqual(comparison.differences, []);
  });
}
