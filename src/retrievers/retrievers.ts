/**
 * The retriever table: one row per kind, in the order commands list them. The mining commands
 * (`rare-mine <name>`), `index <name>` (rows with an index) and `eval --retriever`'s choices and options are
 * generated from it (src/commands/mine.ts, index-cmd.ts, eval.ts). A new retriever is its own file plus one row (and a
 * row in index-parts.ts for an index part of its own).
 */
import { bm25 } from './bm25.js';
import { dense } from './dense.js';
import { hybrid } from './hybrid.js';
import type { RetrieverKind } from './retriever-kind.js';
import type { Retriever } from '../retriever.js';

const KINDS = [bm25, dense, hybrid] as const;

type OptionsOf<K> = K extends RetrieverKind<infer O, Retriever> ? O : never;
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/**
 * Every kind's options at once (what `eval`, which offers every kind, parses). Each row reads only its own;
 * typing the table with all of them lets one loop open any row without a cast.
 */
export type AnyRetrieverOptions = Intersection<OptionsOf<(typeof KINDS)[number]>>;

export const RETRIEVERS: ReadonlyArray<RetrieverKind<AnyRetrieverOptions>> = KINDS;

export const RETRIEVER_NAMES: readonly string[] = RETRIEVERS.map((kind) => kind.name);
