/**
 * Transformer building blocks written as ONNX subgraphs with an {@link OnnxGraphBuilder}: dense layers,
 * layer norm, multi-head self-attention over an additive padding bias, GELU, masked mean pooling, L2
 * normalisation. Shared by the tiny test models and the USE-lite converter so that both lay out heads and
 * masks the same way. What must hold: activations are [batch, sequence, hidden] float32, masks are
 * [batch, sequence] int64 of 0/1, and a padded position never changes a real position's output (keys at
 * padded positions get a large negative bias before the softmax, so their weight is exactly 0).
 */
import { Attr, type OnnxGraphBuilder } from './graph-builder.js';

/** A dense layer's parameters: `weight` is row-major [inputSize, outputSize] (x · W + b). */
export interface DenseWeights {
  weight: Float32Array;
  bias: Float32Array;
  inputSize: number;
  outputSize: number;
}

/** x · W + b over the last axis. */
export function dense(b: OnnxGraphBuilder, x: string, weights: DenseWeights, name: string): string {
  const w = b.initializer(`${name}.weight`, weights.weight, [weights.inputSize, weights.outputSize]);
  const bias = b.initializer(`${name}.bias`, weights.bias, [weights.outputSize]);
  const product = b.op('MatMul', [x, w], {}, `${name}.matmul`);
  return b.op('Add', [product, bias], {}, name);
}

/** LayerNormalization over the last axis (opset 17): (x − mean) / sqrt(var + epsilon) · scale + bias. */
export function layerNorm(
  b: OnnxGraphBuilder,
  x: string,
  scale: Float32Array,
  bias: Float32Array,
  epsilon: number,
  name: string,
): string {
  const gamma = b.initializer(`${name}.scale`, scale, [scale.length]);
  const beta = b.initializer(`${name}.bias`, bias, [bias.length]);
  return b.op('LayerNormalization', [x, gamma, beta], { axis: Attr.int(-1), epsilon: Attr.float(epsilon) }, name);
}

/** GELU, exact (erf) form as in BERT: 0.5 · x · (1 + erf(x / √2)). */
export function gelu(b: OnnxGraphBuilder, x: string, name: string): string {
  const scaled = b.op('Mul', [x, b.constFloat([Math.SQRT1_2], [], `${name}.inv_sqrt2`)], {}, `${name}.scaled`);
  const erf = b.op('Erf', [scaled], {}, `${name}.erf`);
  const onePlus = b.op('Add', [erf, b.constFloat([1], [], `${name}.one`)], {}, `${name}.one_plus`);
  const half = b.op('Mul', [x, b.constFloat([0.5], [], `${name}.half`)], {}, `${name}.half_x`);
  return b.op('Mul', [half, onePlus], {}, name);
}

/**
 * The additive attention bias [batch, 1, 1, sequence] from a 0/1 int64 mask: 0 where mask = 1 and
 * `negativeBias` (e.g. −1e4 as in BERT, −1e9 as in USE) where mask = 0.
 */
export function attentionBias(b: OnnxGraphBuilder, attentionMask: string, negativeBias: number, name: string): string {
  const maskFloat = b.op('Cast', [attentionMask], { to: Attr.int(1) }, `${name}.mask_float`);
  const inverted = b.op('Sub', [b.constFloat([1], [], `${name}.one`), maskFloat], {}, `${name}.inverted`);
  const scaled = b.op('Mul', [inverted, b.constFloat([negativeBias], [], `${name}.negative`)], {}, `${name}.scaled`);
  return b.op('Unsqueeze', [scaled, b.constInt64([1, 2], [2], `${name}.axes`)], {}, name);
}

/** [batch, sequence, heads·headSize] → [batch, heads, sequence, headSize]. */
export function splitHeads(b: OnnxGraphBuilder, x: string, heads: number, headSize: number, name: string): string {
  const shape = b.constInt64([0, 0, heads, headSize], [4], `${name}.shape`);
  const reshaped = b.op('Reshape', [x, shape], {}, `${name}.reshaped`);
  return b.op('Transpose', [reshaped], { perm: Attr.ints([0, 2, 1, 3]) }, name);
}

/** [batch, heads, sequence, headSize] → [batch, sequence, heads·headSize]. */
export function combineHeads(b: OnnxGraphBuilder, x: string, hiddenSize: number, name: string): string {
  const transposed = b.op('Transpose', [x], { perm: Attr.ints([0, 2, 1, 3]) }, `${name}.transposed`);
  return b.op('Reshape', [transposed, b.constInt64([0, 0, hiddenSize], [3], `${name}.shape`)], {}, name);
}

/**
 * Scaled dot-product attention over split heads: softmax(q·scale · kᵀ + bias) · v, heads combined.
 * `queryScale` multiplies q before the product (1/√headSize in BERT; USE stores its own constant).
 */
export function scaledDotProductAttention(
  b: OnnxGraphBuilder,
  q: string,
  k: string,
  v: string,
  bias: string,
  queryScale: number,
  hiddenSize: number,
  name: string,
): string {
  const scaledQ = b.op('Mul', [q, b.constFloat([queryScale], [], `${name}.query_scale`)], {}, `${name}.q_scaled`);
  const kT = b.op('Transpose', [k], { perm: Attr.ints([0, 1, 3, 2]) }, `${name}.k_transposed`);
  const scores = b.op('MatMul', [scaledQ, kT], {}, `${name}.scores`);
  const biased = b.op('Add', [scores, bias], {}, `${name}.scores_biased`);
  const weights = b.op('Softmax', [biased], { axis: Attr.int(-1) }, `${name}.weights`);
  const context = b.op('MatMul', [weights, v], {}, `${name}.context`);
  return combineHeads(b, context, hiddenSize, name);
}

/** Mean of `hidden` [batch, sequence, d] over positions where `mask` [batch, sequence] is 1, → [batch, d]. */
export function maskedMeanPool(b: OnnxGraphBuilder, hidden: string, mask: string, name: string): string {
  const maskFloat = b.op('Cast', [mask], { to: Attr.int(1) }, `${name}.mask_float`);
  const maskColumn = b.op('Unsqueeze', [maskFloat, b.constInt64([2], [1], `${name}.axis`)], {}, `${name}.mask_column`);
  const masked = b.op('Mul', [hidden, maskColumn], {}, `${name}.masked`);
  const axis1 = b.constInt64([1], [1], `${name}.sequence_axis`);
  const summed = b.op('ReduceSum', [masked, axis1], { keepdims: Attr.int(0) }, `${name}.sum`);
  const count = b.op('ReduceSum', [maskFloat, axis1], { keepdims: Attr.int(1) }, `${name}.count`);
  const atLeastOne = b.op('Max', [count, b.constFloat([1], [], `${name}.one`)], {}, `${name}.count_at_least_one`);
  return b.op('Div', [summed, atLeastOne], {}, name);
}

/** x / sqrt(max(Σx², floor)) over the last axis (TensorFlow's l2_normalize; floor 1e-12 there). */
export function l2Normalize(b: OnnxGraphBuilder, x: string, squaredNormFloor: number, name: string): string {
  const squared = b.op('Mul', [x, x], {}, `${name}.squared`);
  const sum = b.op('ReduceSum', [squared, b.constInt64([-1], [1], `${name}.axis`)], { keepdims: Attr.int(1) }, `${name}.sum`);
  const floored = b.op('Max', [sum, b.constFloat([squaredNormFloor], [], `${name}.floor`)], {}, `${name}.floored`);
  const inverseNorm = b.op('Reciprocal', [b.op('Sqrt', [floored], {}, `${name}.norm`)], {}, `${name}.inverse_norm`);
  return b.op('Mul', [x, inverseNorm], {}, name);
}
