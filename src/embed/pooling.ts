/**
 * Pooling token vectors into one text vector, then L2 normalisation. Pure functions over row-major
 * Float32Arrays. What must hold: a text's vector depends only on its own unmasked tokens, never on padding,
 * so a text pools the same alone or in a padded batch.
 */
import type { PoolingMode } from './model-dir.js';

/**
 * Pool `hidden` ([batchSize, sequenceLength, dims], row-major) into `out` rows.
 * `attentionMask` is [batchSize, sequenceLength] with 1 on real tokens.
 */
export type PoolingFunction = (
  hidden: Float32Array,
  attentionMask: BigInt64Array,
  batchSize: number,
  sequenceLength: number,
  dims: number,
  out: Float32Array[],
) => void;

/** CLS pooling: the first token's vector (BERT's [CLS]; Devlin et al. 2019, used by bge). */
function clsPooling(hidden: Float32Array, _mask: BigInt64Array, batchSize: number, sequenceLength: number, dims: number, out: Float32Array[]): void {
  for (let row = 0; row < batchSize; row++) {
    const start = row * sequenceLength * dims;
    out[row].set(hidden.subarray(start, start + dims));
  }
}

/** Mean pooling over the attention mask (Reimers & Gurevych 2019, Sentence-BERT; used by e5, gte). */
function meanPooling(hidden: Float32Array, mask: BigInt64Array, batchSize: number, sequenceLength: number, dims: number, out: Float32Array[]): void {
  for (let row = 0; row < batchSize; row++) {
    const target = out[row];
    target.fill(0);
    let count = 0;
    for (let position = 0; position < sequenceLength; position++) {
      if (mask[row * sequenceLength + position] === 0n) continue;
      count++;
      const start = (row * sequenceLength + position) * dims;
      for (let d = 0; d < dims; d++) target[d] += hidden[start + d];
    }
    const scale = 1 / Math.max(count, 1);
    for (let d = 0; d < dims; d++) target[d] *= scale;
  }
}

/** Pooling functions by mode. */
export const POOLING: Readonly<Record<PoolingMode, PoolingFunction>> = { cls: clsPooling, mean: meanPooling };

/** Scale `vector` in place to unit L2 norm (a zero vector stays zero). */
export function l2Normalize(vector: Float32Array): void {
  let sumOfSquares = 0;
  for (let i = 0; i < vector.length; i++) sumOfSquares += vector[i] * vector[i];
  if (sumOfSquares === 0) return;
  const scale = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < vector.length; i++) vector[i] *= scale;
}
