/**
 * The differential check of src/text/porter-stemmer.ts against the stemmer it replaces: snowball-stemmers'
 * 'porter', whose stems the indexes built before it hold. Shared by the unit test and the corpora test.
 */
import snowball from 'snowball-stemmers';
import { porterStem } from '../../src/text/porter-stemmer.js';

const reference = snowball.newStemmer('porter');

export interface PorterComparison {
  /** How many words were compared. */
  compared: number;
  /** The first words whose stems differ, as `"word": ours "…", snowball-stemmers "…"`. */
  differences: string[];
  /** How many words' stems differ in all. */
  differenceCount: number;
}

/** porterStem against snowball-stemmers' 'porter' on every word; keeps the first `shown` differences. */
export function comparePorterStems(words: Iterable<string>, shown = 20): PorterComparison {
  const comparison: PorterComparison = { compared: 0, differences: [], differenceCount: 0 };
  for (const word of words) {
    comparison.compared++;
    const ours = porterStem(word);
    const theirs = reference.stem(word);
    if (ours === theirs) continue;
    comparison.differenceCount++;
    if (comparison.differences.length < shown) {
      comparison.differences.push(`${JSON.stringify(word)}: ours ${JSON.stringify(ours)}, snowball-stemmers ${JSON.stringify(theirs)}`);
    }
  }
  return comparison;
}

