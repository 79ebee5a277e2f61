/**
 * Storage precisions of the vector index, as a table: the `--precision` choices, their USearch scalar
 * kinds and sizes, and the default by corpus size. Help texts and error messages are generated from the
 * table, so they cannot go stale.
 */
// The type only: the table (and --help, which lists it) loads no native module.
import type { ScalarKind } from 'usearch';
import { UsageError } from '../errors.js';

/** One row of the precision table. */
export interface PrecisionInfo {
  /** USearch scalar kind the graph's vectors are stored in (its value: ScalarKind is a string enum). */
  scalarKind: `${ScalarKind}`;
  /** Bytes per dimension in the index file. */
  bytesPerDimension: number;
  /**
   * Candidates asked of the graph per wanted result; all are rescored with the exact rows and the best
   * k kept, so a coarse precision loses little of the exact top-k set (i8 on 20k passages: recall 0.945
   * at 1×, 0.999 at 2×; bench/dense-ann-recall.ts).
   */
  oversample: number;
  /** One line for --help. */
  about: string;
}

/** The `--precision` choices. */
export const PRECISIONS = {
  f32: { scalarKind: 'f32', oversample: 1, bytesPerDimension: 4, about: '32-bit float: exact scores, 4 bytes a dimension' },
  f16: { scalarKind: 'f16', oversample: 1, bytesPerDimension: 2, about: 'IEEE half float: 2 bytes a dimension' },
  bf16: { scalarKind: 'bf16', oversample: 1, bytesPerDimension: 2, about: 'bfloat16 (8-bit exponent, 7-bit mantissa): 2 bytes a dimension' },
  i8: { scalarKind: 'i8', oversample: 2, bytesPerDimension: 1, about: 'int8 of the unit vector ×127: 1 byte a dimension' },
  e5m2: { scalarKind: 'e5m2', oversample: 2, bytesPerDimension: 1, about: '8-bit float, 5-bit exponent, 2-bit mantissa: 1 byte a dimension' },
} as const satisfies Record<string, PrecisionInfo>;

/** A `--precision` choice. */
export type Precision = keyof typeof PRECISIONS;

/** The choices in table order, for --help and errors. */
export const PRECISION_NAMES = Object.keys(PRECISIONS) as Precision[];

/** Above this many documents the default precision turns from f32 to i8 (a quarter of the memory). */
export const LOW_PRECISION_ABOVE_DOCS = 500_000;

/**
 * The default precision for a corpus: f32, or i8 above 500k documents (a quarter of the graph's vector
 * memory). RAGatouille's SimpleMiner switches to 8-bit floats (voyager E4M3) above 500k documents when
 * asked to; rare-mine takes int8: on 50k passages it kept the same recall as e5m2 (0.998 with 2×
 * oversampling), built in 42 s against e5m2's 59 s and f32's 102 s (bench/dense-ann-recall.ts).
 */
export function defaultPrecision(docCount: number): Precision {
  return docCount > LOW_PRECISION_ABOVE_DOCS ? 'i8' : 'f32';
}

/** Parse a `--precision` value. @throws UsageError naming the choices */
export function parsePrecision(value: string): Precision {
  if (value in PRECISIONS) return value as Precision;
  throw new UsageError(`--precision must be one of ${PRECISION_NAMES.join(', ')}, got "${value}"`);
}
