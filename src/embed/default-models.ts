/**
 * Default embedding models per language and size, as RAGatouille's SimpleMiner picks them
 * (ragatouille/negative_miners/simpleminer.py, DenseModels): `--lang en|zh|fr|other` × `--model-size
 * small|base|large`. Solon has no small model; RAGatouille uses the base one for fr/small, and so do we.
 */
import { UsageError } from '../errors.js';

/** `--lang` choices; any other code means "other". */
export const LANGUAGES = ['en', 'zh', 'fr', 'other'] as const;
/** A `--lang` choice. */
export type Language = (typeof LANGUAGES)[number];

/** `--model-size` choices. */
export const MODEL_SIZES = ['small', 'base', 'large'] as const;
/** A `--model-size` choice. */
export type ModelSize = (typeof MODEL_SIZES)[number];

/** Hub repo id of the default model for each language and size. */
export const DEFAULT_MODELS: Readonly<Record<Language, Readonly<Record<ModelSize, string>>>> = {
  en: { small: 'BAAI/bge-small-en-v1.5', base: 'BAAI/bge-base-en-v1.5', large: 'BAAI/bge-large-en-v1.5' },
  zh: { small: 'thenlper/gte-small-zh', base: 'thenlper/gte-base-zh', large: 'thenlper/gte-large-zh' },
  fr: { small: 'OrdalieTech/Solon-embeddings-base-0.1', base: 'OrdalieTech/Solon-embeddings-base-0.1', large: 'OrdalieTech/Solon-embeddings-large-0.1' },
  other: { small: 'intfloat/multilingual-e5-small', base: 'intfloat/multilingual-e5-base', large: 'intfloat/multilingual-e5-large' },
};

/** Default `--lang` and `--model-size`, as RAGatouille's. */
export const DEFAULT_LANGUAGE: Language = 'en';
export const DEFAULT_MODEL_SIZE: ModelSize = 'small';

/**
 * The default model for a language code and size. Like RAGatouille, any language other than en/zh/fr maps
 * to the multilingual model.
 * @throws UsageError for an unknown size
 */
export function defaultModelFor(language: string = DEFAULT_LANGUAGE, size: string = DEFAULT_MODEL_SIZE): string {
  if (!(MODEL_SIZES as readonly string[]).includes(size)) {
    throw new UsageError(`--model-size must be one of ${MODEL_SIZES.join(', ')}, got "${size}"`);
  }
  const lang: Language = (LANGUAGES as readonly string[]).includes(language) ? (language as Language) : 'other';
  return DEFAULT_MODELS[lang][size as ModelSize];
}
