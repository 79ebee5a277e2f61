/**
 * The score filters, one row each in SCORE_FILTERS: its option, help, valid range, the test that rejects a
 * candidate, what the report calls what it removed and what to loosen when it left records short. The CLI options
 * (cli/options.ts), the miner's exclusion counters, the statistics' EXCLUSIONS and funnel, and the report's loosen
 * hints are all derived from the table, so a new filter is one row here.
 *
 * False-negative filters compare a candidate with the positive's score: a candidate too close to (or above) the
 * positive is probably an unlabelled positive (NV-Retriever, Moreira et al. 2024: "TopK-PercPos" at 95% of the
 * positive score trained best). With several positives the reference is the LOWEST positive score.
 *
 * Negative scores are handled by measuring the ratio's slack on |positive|: the threshold for --max-score-ratio R
 * is ref − (1 − R)·|ref|, which is R·ref for ref ≥ 0 and stays BELOW ref when ref < 0 (the naive R·ref would
 * rise above a negative positive score and let false negatives through).
 *
 * Order: the table's order is the order of --help and of reports; a candidate is tested by the absolute filters
 * first, then by the relative ones (FILTERS_IN_TEST_ORDER), and counted under the first that rejects it.
 */

/** The score above which --max-score-ratio rejects, for a reference (lowest positive) score. */
export function ratioThreshold(referenceScore: number, ratio: number): number {
  return referenceScore - (1 - ratio) * Math.abs(referenceScore);
}

/** One score filter. `name` is its counter in the summary and --stats-json; its option is `--<name in kebab-case>`. */
export interface ScoreFilter<N extends string = string> {
  readonly name: N;
  /** The option as commander declares it: `--max-score-ratio <r>`. */
  readonly flag: string;
  readonly help: string;
  /** The lowest valid value (inclusive; −Infinity: any number). */
  readonly min: number;
  /** True when it compares with the positive's score: it does not apply to a record without positives. */
  readonly relative: boolean;
  /** True when `score` must be dropped; `reference` is the lowest positive's score (relative filters only). */
  rejects(score: number, reference: number, value: number): boolean;
  /** What the report says it removed. */
  readonly removed: string;
  /** What to do when it left records short. */
  readonly loosenHint: string;
}

export const SCORE_FILTERS = [
  {
    name: 'max_score_ratio',
    flag: '--max-score-ratio <r>',
    help: "drop candidates scoring above r × the lowest positive's score (NV-Retriever's 0.95); negative scores handled (docs/MINING.md)",
    min: 0,
    relative: true,
    rejects: (score, reference, ratio) => score > ratioThreshold(reference, ratio),
    removed: 'scoring above --max-score-ratio × the positive',
    loosenHint: 'raise --max-score-ratio',
  },
  {
    name: 'margin',
    flag: '--margin <m>',
    help: "drop candidates scoring above (lowest positive's score − m)",
    min: Number.NEGATIVE_INFINITY,
    relative: true,
    rejects: (score, reference, margin) => score > reference - margin,
    removed: 'scoring within --margin of the positive',
    loosenHint: 'lower --margin',
  },
  {
    name: 'min_score',
    flag: '--min-score <s>',
    help: 'drop candidates scoring below s (at most --max-score)',
    min: Number.NEGATIVE_INFINITY,
    relative: false,
    rejects: (score, _reference, minScore) => score < minScore,
    removed: 'scoring below --min-score',
    loosenHint: 'lower --min-score',
  },
  {
    name: 'max_score',
    flag: '--max-score <s>',
    help: 'drop candidates scoring above s',
    min: Number.NEGATIVE_INFINITY,
    relative: false,
    rejects: (score, _reference, maxScore) => score > maxScore,
    removed: 'scoring above --max-score',
    loosenHint: 'raise --max-score',
  },
] as const satisfies ReadonlyArray<ScoreFilter<string>>;

export type FilterName = (typeof SCORE_FILTERS)[number]['name'];

/** snake_case → camelCase, as commander names an option's value: max_score_ratio → maxScoreRatio. */
type Camel<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<Camel<Tail>>}` : S;

/** The filters' values as commander parses them (`--max-score-ratio` → maxScoreRatio); absent = filter off. */
export type ScoreFilterOptions = { readonly [N in FilterName as Camel<N>]?: number };

/** The options key of a filter (its name in camelCase). */
export function optionKey<N extends FilterName>(name: N): Camel<N> {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()) as Camel<N>;
}

/** Absolute filters first, then the relative ones; table order within each. */
export const FILTERS_IN_TEST_ORDER: ReadonlyArray<(typeof SCORE_FILTERS)[number]> = [...SCORE_FILTERS.filter((f) => !f.relative), ...SCORE_FILTERS.filter((f) => f.relative)];

/**
 * The first filter that rejects `score`, or undefined when it passes all. `referenceScore` is undefined when the
 * record has no positive: the relative filters then do not apply.
 */
export function rejectingFilter(score: number, referenceScore: number | undefined, options: ScoreFilterOptions): FilterName | undefined {
  for (const filter of FILTERS_IN_TEST_ORDER) {
    const value = options[optionKey(filter.name)];
    if (value === undefined || (filter.relative && referenceScore === undefined)) continue;
    if (filter.rejects(score, referenceScore ?? 0, value)) return filter.name;
  }
  return undefined;
}

/** A record keyed by filter name, in table order. */
export function byFilter<T>(value: (filter: (typeof SCORE_FILTERS)[number]) => T): Record<FilterName, T> {
  return Object.fromEntries(SCORE_FILTERS.map((filter) => [filter.name, value(filter)])) as Record<FilterName, T>;
}
