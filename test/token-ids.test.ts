/**
 * TokenIds (the index build's token memo with its ASCII scanner) yields exactly the analyzer's terms: on random
 * texts mixing case, digits, underscores, the ' and . joiners, punctuation, repeated tokens and non-ASCII
 * letters, for each language's analyzer, and when the memo is full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createAnalyzer } from '../src/text/analyzer.js';
import { TokenIds } from '../src/text/token-ids.js';

function termsThrough(tokenIds: TokenIds, terms: string[], text: string): string[] {
  const out: string[] = [];
  tokenIds.forEachId(text, (id) => out.push(terms[id]));
  return out;
}

function memo(lang: string, maxEntries?: number): { tokenIds: TokenIds; terms: string[]; analyzer: ReturnType<typeof createAnalyzer> } {
  const analyzer = createAnalyzer(lang);
  const ids = new Map<string, number>();
  const terms: string[] = [];
  const termId = (term: string) => {
    assert.ok(term.length > 0, 'stopwords never get an id');
    let id = ids.get(term);
    if (id === undefined) {
      id = terms.push(term) - 1;
      ids.set(term, id);
    }
    return id;
  };
  return { tokenIds: new TokenIds(analyzer, termId, maxEntries), terms, analyzer };
}

const pieces = ['The', 'the', 'RUNNING', 'runs', "it's", "John's", 'e.g.', 'U.S.A', 'x_y', '42', '3.14', 'a', 'of', 'ÉCOLE', 'naïve', 'Straße', '東京大学', "rock'n'roll", '...', "''", ' ', '  ', '\n', ',', '-', '.', "'", '(', ')', 'don’t', 'Ab1', 'zZ9_'];
const text = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ unit: fc.constantFrom('a', 'B', '.', "'", ' ', '_', '1', 'é', '-') })), { maxLength: 40 }).map((parts) => parts.join(''));

test('TokenIds gives the analyzer\'s terms for every text (ASCII scan and the analyzer path alike)', () => {
  for (const lang of ['en', 'fr', 'de', 'zh']) {
    const { tokenIds, terms, analyzer } = memo(lang);
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 10 }), (texts) => {
        for (const t of texts) assert.deepEqual(termsThrough(tokenIds, terms, t), analyzer.terms(t), JSON.stringify(t));
      }),
      { numRuns: 150, seed: 20261130 },
    );
  }
});

test('TokenIds with a full memo still analyzes every new token', () => {
  const { tokenIds, terms, analyzer } = memo('en', 3);
  const t = 'Alpha beta GAMMA delta alpha Epsilon beta zeta the eta.theta';
  for (let round = 0; round < 3; round++) assert.deepEqual(termsThrough(tokenIds, terms, t), analyzer.terms(t));
});

test('TokenIds survives growth of its table (thousands of distinct tokens, looked up again after)', () => {
  const { tokenIds, terms, analyzer } = memo('en');
  const t = Array.from({ length: 20_000 }, (_, i) => `tok${i} Word${i % 97}`).join(' ');
  assert.deepEqual(termsThrough(tokenIds, terms, t), analyzer.terms(t));
  assert.deepEqual(termsThrough(tokenIds, terms, t), analyzer.terms(t));
});
