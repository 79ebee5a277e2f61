/**
 * src/text/porter-stemmer.ts gives exactly snowball-stemmers' 'porter' stems (the stems indexes built before it
 * hold): on Porter's own examples and awkward tokens, on 200,000 seeded pseudo-random words that end in every
 * suffix porter.sbl lists, on both sides of the R1 and R2 boundaries, and on every token of the repository's fixtures.
 * test/slow/porter-stemmer-corpora.test.ts does the same over the shared corpora.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAnalyzer } from '../src/text/analyzer.js';
import { porterStem } from '../src/text/porter-stemmer.js';
import { comparePorterStems } from './helpers/porter-differences.js';
import { SeededRandom } from './helpers/seeded-random.js';
import { repoRoot } from './helpers/shared-data.js';

/** Porter's examples (his 1980 paper and the Snowball page), every rule's textbook case. */
const PORTER_EXAMPLES = (
  'caresses ponies ties caress cats feed agreed plastered bled motoring sing conflated troubled sized hopping ' +
  'tanned falling hissing fizzed failing filing happy sky relational conditional rational valenci hesitanci ' +
  'digitizer conformabli radicalli differentli vileli analogousli vietnamization predication operator feudalism ' +
  'decisiveness hopefulness callousness formaliti sensitiviti sensibiliti triplicate formative formalize ' +
  'electriciti electrical hopeful goodness revival allowance inference airliner gyroscopic adjustable defensible ' +
  'irritant replacement adjustment dependent adoption homologou communism activate angulariti homologous ' +
  'effective bowdlerize probate rate cease controll roll generalization oscillators'
).split(' ');

/** Where y is a vowel or a consonant ('Y'), and tokens the analyzer passes on that are not plain English words. */
const AWKWARD_TOKENS = [
  'y', 'yy', 'yyy', 'yyyy', 'say', 'sayy', 'says', 'saying', 'boy', 'boys', 'toy', 'ayy', 'ayyy', 'yay', 'yays',
  'eye', 'eyed', 'eying', 'yes', 'yield', 'yielded', 'rhythm', 'syzygy', 'gypsy', 'bayonet', 'conveyed', 'player',
  'Y', 'YY', 'Yes', 'sayY', 'aYy', 'yaY', 'ayYs',
  '', 'a', 'e', 'i', 's', 'l', 'ed', 'ing', 'ies', 'sses', 'ss', 'ee', 'eed', 'll', 'all', 'ion', 'ation',
  "don't", "o'clock", "rock'n'roll", "ies'", "'s", 'u.s.a', 'e.g', 'i.e', 'ph.d', '3.14', '1990s', '2nd', '42',
  'h2o', 'mp3s', 'x86_64', 'snake_case', '__init__', 'naïve', 'naïvety', 'café', 'cafés', 'résumés', 'ÿ', 'ÿy',
  'ÿing', 'façade', 'jalapeño', 'straße', 'ﬁnding', 'çaying', 'éed', 'zed', 'zing', 'buzzed', 'fizzing', 'boxed',
  'sewed', 'hoped', 'hopped', 'owed', 'axed', 'relationally', 'ıing', 'ǆing', 'ωing', 'москва', 'καλημέρα', '東京',
  'a\u0301ing', 'e\u0308d', '\u{1F600}ing', '\u{1D400}ed', '\uD800ed', 'ies\uDC00',
];

test('Porter\'s examples give his stems', () => {
  const stems = Object.fromEntries(['caresses', 'ponies', 'relational', 'hopping', 'filing', 'happy', 'generalization', 'controll', 'probate'].map((word) => [word, porterStem(word)]));
  assert.deepEqual(stems, {
    caresses: 'caress', ponies: 'poni', relational: 'relat', hopping: 'hop', filing: 'file', happy: 'happi',
    generalization: 'gener', controll: 'control', probate: 'probat',
  });
});

test('hand-picked words and awkward tokens: the same stems as snowball-stemmers', () => {
  const comparison = comparePorterStems([...PORTER_EXAMPLES, ...AWKWARD_TOKENS]);
  console.log(`# ${comparison.compared} hand-picked words compared, ${comparison.differenceCount} differ`);
  assert.deepEqual(comparison.differences, []);
});

// Every suffix porter.sbl's steps look for (its among lists and single letters), and letters to build stems from:
// consonants, vowels, y, the capital Y Snowball uses as a marker, non-ASCII letters and marks, digits, ' and _.
const STEP_1_SUFFIXES = ['s', 'ies', 'sses', 'ss', 'ed', 'eed', 'ing', 'y', 'bled', 'ated', 'izing', 'bbed', 'dding', 'ffed', 'gged', 'mming', 'nned', 'pping', 'rred', 'tted', 'zzed', 'lled', 'ssed'];
const STEP_2_SUFFIXES = ['anci', 'enci', 'abli', 'eli', 'alli', 'ousli', 'entli', 'aliti', 'biliti', 'iviti', 'tional', 'ational', 'alism', 'ation', 'ization', 'izer', 'ator', 'iveness', 'fulness', 'ousness'];
const STEP_3_SUFFIXES = ['icate', 'ative', 'alize', 'iciti', 'ical', 'ful', 'ness'];
const STEP_4_SUFFIXES = ['ic', 'ance', 'ence', 'able', 'ible', 'ate', 'ive', 'ize', 'iti', 'al', 'ism', 'ion', 'sion', 'tion', 'er', 'ous', 'ant', 'ent', 'ment', 'ement', 'ou'];
const STEP_5_SUFFIXES = ['e', 'll', 'le'];
const SUFFIXES = [...STEP_1_SUFFIXES, ...STEP_2_SUFFIXES, ...STEP_3_SUFFIXES, ...STEP_4_SUFFIXES, ...STEP_5_SUFFIXES];
/** Suffixes kept or rewritten depending on where R1 or R2 begins. */
const REGION_SUFFIXES = ['eed', ...STEP_2_SUFFIXES, ...STEP_3_SUFFIXES, ...STEP_4_SUFFIXES, 'll'];
const LETTER_POOLS: readonly (readonly [weight: number, letters: readonly string[]])[] = [
  [40, [...'bcdfghjklmnpqrstvwxz']],
  [32, [...'aeiou']],
  [10, ['y']],
  [3, ['Y']],
  [6, ['ï', 'é', 'ÿ', 'ß', 'ω', 'a\u0301', '\u{1F600}']],
  [6, [...'0123456789']],
  [3, ["'", '_', '.']],
];
const POOL_WEIGHT = LETTER_POOLS.reduce((sum, [weight]) => sum + weight, 0);

function randomWords(count: number, seed: number): string[] {
  const random = new SeededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random.uniform() * items.length)];
  const letter = (): string => {
    let draw = random.uniform() * POOL_WEIGHT;
    for (const [weight, letters] of LETTER_POOLS) {
      if (draw < weight) return pick(letters);
      draw -= weight;
    }
    return pick(LETTER_POOLS[0][1]);
  };
  const words: string[] = [];
  for (let n = 0; n < count; n++) {
    let word = '';
    for (let letters = Math.floor(random.uniform() * 8); letters > 0; letters--) word += letter();
    if (random.uniform() < 0.85) word += pick(SUFFIXES);
    if (random.uniform() < 0.35) word += pick(SUFFIXES);
    words.push(word);
  }
  return words;
}

test('200,000 seeded pseudo-random words ending in every listed suffix: the same stems as snowball-stemmers', () => {
  const words = randomWords(200_000, 1980);
  const comparison = comparePorterStems(words);
  console.log(`# ${comparison.compared} pseudo-random words compared, ${comparison.differenceCount} differ`);
  assert.deepEqual(comparison.differences, []);
  assert.equal(comparison.compared, 200_000);

  // What the words exercised: every suffix ends many words, and each region-bound one is both kept (its R1 or
  // R2 starts too late; Step 5a may still take a final e) and rewritten somewhere. (porterStem's stems are
  // snowball-stemmers', as just asserted.)
  const tally = new Map(SUFFIXES.map((suffix) => [suffix, { ending: 0, kept: 0 }]));
  for (const word of words) {
    const stem = porterStem(word);
    for (let length = 1; length <= Math.min(7, word.length); length++) {
      const suffix = word.slice(-length);
      const counts = tally.get(suffix);
      if (counts === undefined) continue;
      counts.ending++;
      if (stem.endsWith(suffix) || (suffix.endsWith('e') && stem.endsWith(suffix.slice(0, -1)))) counts.kept++;
    }
  }
  for (const [suffix, { ending, kept }] of tally) {
    assert.ok(ending >= 300, `only ${ending} words end in "${suffix}"`);
    if (REGION_SUFFIXES.includes(suffix)) assert.ok(kept > 0 && kept < ending, `"${suffix}" kept in ${kept} of ${ending} words`);
  }
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

test("every token of the repository's fixtures: the same stems as snowball-stemmers", () => {
  const analyzer = createAnalyzer('en');
  const tokens = new Set<string>();
  const files = [...filesUnder(join(repoRoot, 'fixtures')), ...filesUnder(join(repoRoot, 'test', 'fixtures'))];
  // Binary index files too, read as UTF-8: the text they store is tokens, the rest is odd ones.
  for (const file of files) analyzer.forEachToken(readFileSync(file, 'utf8'), (token) => tokens.add(token));
  const comparison = comparePorterStems(tokens);
  console.log(`# ${comparison.compared} distinct fixture tokens (${files.length} files) compared, ${comparison.differenceCount} differ`);
  assert.ok(comparison.compared >= 1_000, `only ${comparison.compared} tokens`);
  assert.deepEqual(comparison.differences, []);
});
