/**
 * Analyzers turn text into index terms: tokenize (Unicode-aware), lower-case, drop stopwords, stem.
 * One table, ANALYZERS, says exactly what each --lang does; the CLI's choices and error messages are generated
 * from it. Invariant: an analyzer is a pure function of its settings, and `analyzerFingerprint` names those
 * settings, so an index built with one analyzer is never searched with another.
 *
 * Tokenization for alphabetic scripts follows Lucene's StandardTokenizer closely enough for BM25 parity:
 * runs of letters/digits/marks, kept together across an inner apostrophe or period ("don't", "u.s.a", "3.14").
 * Scripts without spaces (Han, Hiragana, Katakana, Thai) are segmented by Intl.Segmenter's dictionaries.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from '../io/fs.js';
import snowball from 'snowball-stemmers';
import stopwordLists from 'stopword';
import { UsageError } from '../errors.js';
import { porterStem } from './porter-stemmer.js';

export interface AnalyzerSpec {
  /** What the analyzer does, in words (shown by --help and docs/ANALYZERS.md). */
  description: string;
  /** Snowball algorithm name, or undefined for no stemming. */
  stemmer?: string;
  /** Stopword list. */
  stopwords: readonly string[];
  /** Intl.Segmenter locale for scripts without spaces; undefined uses the default word tokenizer only. */
  segmenterLocale?: string;
  /** English possessive "'s" removal (Lucene's EnglishPossessiveFilter). */
  removePossessive?: boolean;
}

/** Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, as used by Anserini/pyserini. */
export const LUCENE_ENGLISH_STOPWORDS = [
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not',
  'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was',
  'will', 'with',
] as const;

/**
 * Snowball's English stop list (snowball.tartarus.org/algorithms/english/stop.txt, 174 words), the list Xapian
 * and bm25s-style engines use; longer than Lucene's and with pronouns, auxiliaries and contractions.
 */
export const SNOWBALL_ENGLISH_STOPWORDS = (
  "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself it its itself " +
  "they them their theirs themselves what which who whom this that these those am is are was were be been being have has had having " +
  "do does did doing would should could ought i'm you're he's she's it's we're they're i've you've we've they've i'd you'd he'd she'd " +
  "we'd they'd i'll you'll he'll she'll we'll they'll isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't " +
  "wouldn't shan't shouldn't can't cannot couldn't mustn't let's that's who's what's here's there's when's where's why's how's a an " +
  'the and but if or because as until while of at by for with about against between into through during before after above below to ' +
  'from up down in out on off over under again further then once here there when where why how all any both each few more most other ' +
  'some such no nor not only own same so than too very'
).split(' ');

/** `--stemmer` choices: porter (Lucene's PorterStemFilter), snowball (the language's Snowball stemmer; English: Porter2), none. */
export const STEMMER_NAMES = ['porter', 'snowball', 'none'] as const;
/** `--stopwords` names; any other value is a file with one word a line. */
export const STOPWORD_LISTS: Readonly<Record<string, readonly string[]>> = {
  lucene: LUCENE_ENGLISH_STOPWORDS,
  snowball: SNOWBALL_ENGLISH_STOPWORDS,
  none: [],
};
export const STOPWORD_LIST_NAMES = Object.keys(STOPWORD_LISTS);

/** Which analyzer: a --lang, optionally with its stemmer or stopword list replaced (--stemmer, --stopwords). */
export interface AnalyzerChoice {
  lang: string;
  /** One of STEMMER_NAMES; default: the language's. */
  stemmer?: string;
  /** A STOPWORD_LISTS name or a file with one word a line; default: the language's. */
  stopwords?: string;
}

const sw = stopwordLists as unknown as Record<string, string[]>;

function snowballLang(stemmer: string, stopwordKey: string, name: string): AnalyzerSpec {
  return {
    description: `${name}: word tokenizer, lower case, ${name} stopwords (npm stopword "${stopwordKey}"), Snowball ${stemmer} stemmer`,
    stemmer,
    stopwords: sw[stopwordKey] ?? [],
  };
}

/** Every --lang value and what it does. */
export const ANALYZERS: Readonly<Record<string, AnalyzerSpec>> = {
  en: {
    description: "English as Lucene/Anserini: word tokenizer, possessive 's removed, lower case, Lucene's 33 English stopwords, Porter stemmer",
    stemmer: 'porter',
    stopwords: LUCENE_ENGLISH_STOPWORDS,
    removePossessive: true,
  },
  fr: snowballLang('french', 'fra', 'French'),
  de: snowballLang('german', 'deu', 'German'),
  es: snowballLang('spanish', 'spa', 'Spanish'),
  it: snowballLang('italian', 'ita', 'Italian'),
  pt: snowballLang('portuguese', 'por', 'Portuguese'),
  nl: snowballLang('dutch', 'nld', 'Dutch'),
  sv: snowballLang('swedish', 'swe', 'Swedish'),
  no: snowballLang('norwegian', 'nob', 'Norwegian'),
  da: snowballLang('danish', 'dan', 'Danish'),
  fi: snowballLang('finnish', 'fin', 'Finnish'),
  ru: snowballLang('russian', 'rus', 'Russian'),
  tr: snowballLang('turkish', 'tur', 'Turkish'),
  hu: snowballLang('hungarian', 'hun', 'Hungarian'),
  ro: snowballLang('romanian', 'ron', 'Romanian'),
  ar: snowballLang('arabic', 'ara', 'Arabic'),
  zh: {
    description: 'Chinese: Intl.Segmenter (ICU dictionary) word segmentation, lower case for Latin runs, Chinese stopwords (npm stopword "zho"), no stemming',
    stopwords: sw.zho ?? [],
    segmenterLocale: 'zh',
  },
  ja: {
    description: 'Japanese: Intl.Segmenter (ICU dictionary) word segmentation, lower case for Latin runs, Japanese stopwords (npm stopword "jpn"), no stemming',
    stopwords: sw.jpn ?? [],
    segmenterLocale: 'ja',
  },
  other: {
    description: 'Any language: word tokenizer, Intl.Segmenter for scripts without spaces, lower case, no stopwords, no stemming',
    stopwords: [],
    segmenterLocale: 'und',
  },
};

export const LANGUAGES = Object.keys(ANALYZERS);

export interface Analyzer {
  readonly lang: string;
  /** Index terms of `text`, in order, duplicates kept. */
  terms(text: string): string[];
  /**
   * The lower-cased tokens of `text` before stopwords and stemming, in order: `terms(text)` is exactly
   * `termOf` of each, without the empty ones. For callers that memoise per token (an index build).
   */
  forEachToken(text: string, visit: (token: string) => void): void;
  /** The index term of one token from forEachToken; '' when it yields none (a stopword). Not memoised. */
  termOf(token: string): string;
  /** A string naming every setting that changes the terms; stored in index manifests. */
  readonly fingerprint: string;
}

/** Bump when tokenization rules change, so indexes built before are rebuilt. */
const ANALYZER_VERSION = 1;

// Letters, marks, digits, connector punctuation; joined across one inner ' ’ or . followed by more of them.
const WORD = /[\p{L}\p{M}\p{N}_]+(?:['’.][\p{L}\p{M}\p{N}_]+)*/gu;
// Scripts written without spaces between words.
const NO_SPACE_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/** The stemmer a --stemmer choice means for `spec`'s language (Snowball has a stemmer per language; Porter is English). */
function stemmerFor(choice: string | undefined, lang: string, spec: AnalyzerSpec): string | undefined {
  if (choice === undefined) return spec.stemmer;
  if (choice === 'none') return undefined;
  if (choice === 'porter') return 'porter';
  const snowballName = lang === 'en' ? 'english' : spec.stemmer;
  if (snowballName === undefined || snowballName === 'porter') {
    throw new UsageError(`--stemmer snowball has no Snowball stemmer for --lang ${lang}; choose porter or none`);
  }
  return snowballName;
}

/** The stopword list a --stopwords value means: a named list, or a file of one word a line (# comments). */
function stopwordsFor(choice: string | undefined, spec: AnalyzerSpec): readonly string[] {
  if (choice === undefined) return spec.stopwords;
  const named = STOPWORD_LISTS[choice];
  if (named) return named;
  let text: string;
  try {
    text = readFileSync(choice, 'utf8');
  } catch (error) {
    throw new UsageError(`--stopwords must be ${STOPWORD_LIST_NAMES.join(', ')} or a readable file, got "${choice}" (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { cause: error });
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim().toLowerCase())
    .filter((line) => line.length > 0);
}

/** The stem function of the Snowball algorithm `name`. */
function snowballStem(name: string): (word: string) => string {
  const stemmer = snowball.newStemmer(name);
  return (word) => stemmer.stem(word);
}

export function createAnalyzer(choice: string | AnalyzerChoice): Analyzer {
  const { lang, stemmer: stemmerChoice, stopwords: stopwordChoice } = typeof choice === 'string' ? { lang: choice, stemmer: undefined, stopwords: undefined } : choice;
  const spec = ANALYZERS[lang];
  if (!spec) throw new UsageError(`unknown --lang "${lang}"; choose one of: ${LANGUAGES.join(', ')}`);
  if (stemmerChoice !== undefined && !(STEMMER_NAMES as readonly string[]).includes(stemmerChoice)) {
    throw new UsageError(`--stemmer must be one of ${STEMMER_NAMES.join(', ')}, got "${stemmerChoice}"`);
  }
  const stemmerName = stemmerFor(stemmerChoice, lang, spec);
  const stopwordList = stopwordsFor(stopwordChoice, spec);
  const stopwords = new Set(stopwordList);
  // Porter is ours: the same stems as snowball-stemmers' 'porter' (test/porter-stemmer.test.ts), ~18x faster.
  const stem = stemmerName === undefined ? undefined : stemmerName === 'porter' ? porterStem : snowballStem(stemmerName);
  const segmenter = new Intl.Segmenter(spec.segmenterLocale ?? 'und', { granularity: 'word' });
  // The language's own list keeps its historical fingerprint (stop=<count>); a replaced list is named by its content.
  const stopwordFingerprint = stopwordChoice === undefined
    ? `stop=${spec.stopwords.length}`
    : `stop=${stopwordList.length};stoplist=${createHash('sha256').update([...stopwords].sort().join('\n')).digest('hex').slice(0, 16)}`;
  // The whole per-token pipeline (possessive, stopword, stem) is a pure function of the lower-cased token and
  // vocabularies are small: memoise it. '' marks a token that yields no term.
  const termCache = new Map<string, string>();

  const analyzeToken = (token: string): string => {
    const whole = token.includes('’') ? token.replace(/’/g, "'") : token;
    // A listed contraction ("it's", "let's" in Snowball's list) is a stopword before the possessive is removed.
    const word = spec.removePossessive && whole.endsWith("'s") && !stopwords.has(whole) ? whole.slice(0, -2) : whole;
    if (word.length === 0 || stopwords.has(word)) return '';
    return stem ? stem(word) : word;
  };
  const termOf = (token: string): string => {
    let term = termCache.get(token);
    if (term !== undefined) return term;
    term = analyzeToken(token);
    if (termCache.size < 2_000_000) termCache.set(token, term);
    return term;
  };

  const forEachToken = (text: string, visit: (token: string) => void): void => {
    const lower = text.toLowerCase();
    const segmentable = NO_SPACE_SCRIPT.test(lower);
    WORD.lastIndex = 0;
    for (let match = WORD.exec(lower); match !== null; match = WORD.exec(lower)) {
      const token = match[0];
      if (segmentable && NO_SPACE_SCRIPT.test(token)) {
        for (const piece of segmenter.segment(token)) if (piece.isWordLike) visit(piece.segment);
      } else visit(token);
    }
  };

  return {
    lang,
    fingerprint: `analyzer=v${ANALYZER_VERSION};lang=${lang};stem=${stemmerName ?? 'none'};${stopwordFingerprint};possessive=${spec.removePossessive ? 1 : 0}`,
    terms(text: string): string[] {
      const out: string[] = [];
      forEachToken(text, (token) => {
        const term = termOf(token);
        if (term.length > 0) out.push(term);
      });
      return out;
    },
    forEachToken,
    termOf: analyzeToken,
  };
}
