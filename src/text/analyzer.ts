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
import snowball from 'snowball-stemmers';
import stopwordLists from 'stopword';
import { UsageError } from '../errors.js';

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
  /** A string naming every setting that changes the terms; stored in index manifests. */
  readonly fingerprint: string;
}

/** Bump when tokenization rules change, so indexes built before are rebuilt. */
const ANALYZER_VERSION = 1;

// Letters, marks, digits, connector punctuation; joined across one inner ' ’ or . followed by more of them.
const WORD = /[\p{L}\p{M}\p{N}_]+(?:['’.][\p{L}\p{M}\p{N}_]+)*/gu;
// Scripts written without spaces between words.
const NO_SPACE_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

export function createAnalyzer(lang: string): Analyzer {
  const spec = ANALYZERS[lang];
  if (!spec) throw new UsageError(`unknown --lang "${lang}"; choose one of: ${LANGUAGES.join(', ')}`);
  const stopwords = new Set(spec.stopwords);
  const stemmer = spec.stemmer ? snowball.newStemmer(spec.stemmer) : undefined;
  const segmenter = new Intl.Segmenter(spec.segmenterLocale ?? 'und', { granularity: 'word' });
  // The whole per-token pipeline (possessive, stopword, stem) is a pure function of the lower-cased token and
  // vocabularies are small: memoise it. '' marks a token that yields no term.
  const termCache = new Map<string, string>();

  const termOf = (token: string): string => {
    let term = termCache.get(token);
    if (term !== undefined) return term;
    let word = token.includes('’') ? token.replace(/’/g, "'") : token;
    if (spec.removePossessive && word.endsWith("'s")) word = word.slice(0, -2);
    if (word.length === 0 || stopwords.has(word)) term = '';
    else term = stemmer ? stemmer.stem(word) : word;
    if (termCache.size < 2_000_000) termCache.set(token, term);
    return term;
  };

  return {
    lang,
    fingerprint: `analyzer=v${ANALYZER_VERSION};lang=${lang};stem=${spec.stemmer ?? 'none'};stop=${spec.stopwords.length};possessive=${spec.removePossessive ? 1 : 0}`,
    terms(text: string): string[] {
      const out: string[] = [];
      const lower = text.toLowerCase();
      const segmentable = NO_SPACE_SCRIPT.test(lower);
      WORD.lastIndex = 0;
      for (let match = WORD.exec(lower); match !== null; match = WORD.exec(lower)) {
        const token = match[0];
        if (segmentable && NO_SPACE_SCRIPT.test(token)) {
          for (const piece of segmenter.segment(token)) {
            if (!piece.isWordLike) continue;
            const term = termOf(piece.segment);
            if (term.length > 0) out.push(term);
          }
        } else {
          const term = termOf(token);
          if (term.length > 0) out.push(term);
        }
      }
      return out;
    },
  };
}
