/**
 * Recovers the Universal Sentence Encoder lite architecture and weights from its TF.js graph by walking
 * the dataflow backwards from the graph's output and checking every op on the way: L2 normalisation ←
 * tanh dense ← mean pooling over the token mask ← N pre-norm transformer layers ← the embedding sum. Sizes,
 * constants (query scales, epsilons, the padding bias, the 128-token clip) and the "embedding counted
 * twice" quirk are read from the nodes, never assumed. What must hold: if the graph deviates from this
 * structure anywhere, extraction fails with a ModelError naming the node, rather than converting a model
 * that would compute something else.
 *
 * The TF graph works on sparse input (indices, values) and scatters the valid tokens into a dense
 * [batch, length] layout; position-wise ops (the FFN, the residual projection) run on gathered valid
 * tokens only. On right-padded dense input this equals running them everywhere and ignoring padded rows,
 * which is what the ONNX rebuild does.
 */
import { ModelError } from '../../errors.js';
import type { DenseWeights } from '../../onnx/transformer-blocks.js';
import type { TfjsConstant, TfjsGraphModel, TfjsNode } from './tfjs-graph-model.js';

/** Parameters of one layer norm: (x − mean) / sqrt(var + epsilon) · scale + bias. */
export interface LayerNormWeights {
  scale: Float32Array;
  bias: Float32Array;
  epsilon: number;
}

/** One pre-norm transformer layer. */
export interface UseLiteLayer {
  /** Layer norm before attention. */
  attentionNorm: LayerNormWeights;
  /** Fused query/key/value projection, [modelSize, q + k + v]. */
  qkv: DenseWeights;
  /** Widths of q, k and v inside the fused projection's output. */
  qkvSizes: [number, number, number];
  heads: number;
  headSize: number;
  /** The stored constant q is multiplied by before q·kᵀ (1/√headSize in this model). */
  queryScale: number;
  /** Attention output projection, [attention width, output width]. */
  attentionOutput: DenseWeights;
  /** Dense projection of the residual when the layer changes width (layer 0: 256 → 512); absent otherwise. */
  residualProjection?: DenseWeights;
  /** Layer norm before the feed-forward block. */
  ffnNorm: LayerNormWeights;
  /** Feed-forward "convolutions" of width 1, i.e. dense layers; ReLU between them. */
  ffnInner: DenseWeights;
  ffnOuter: DenseWeights;
}

/** Everything the ONNX rebuild needs. */
export interface UseLiteArchitecture {
  /** Token embedding table, row-major [vocabSize, embeddingSize]. */
  embeddings: Float32Array;
  vocabSize: number;
  embeddingSize: number;
  /**
   * How many times the token embedding enters the first layer's input. The exported graph adds the
   * embedding to (embedding + timing signal), so this is 2; a faithful rebuild must do the same.
   */
  embeddingCount: number;
  /** Inverse timescales of the sinusoidal timing signal; sin(position · t) then cos(position · t). */
  inverseTimescales: Float32Array;
  /** The ClipToMaxLength limit: only the first `maxTokens` pieces of a text are read. */
  maxTokens: number;
  /** Bias added to attention logits of padded key positions (−1e9). */
  paddingBias: number;
  layers: UseLiteLayer[];
  /** Final tanh dense layer over the mean-pooled states. */
  outputDense: DenseWeights;
  /** Floor under the squared norm in the final L2 normalisation (1e-12). */
  l2SquaredNormFloor: number;
}

/** Checked navigation over the graph: every step names the op it expects. */
class Walker {
  constructor(private readonly graph: TfjsGraphModel) {}

  expect(node: TfjsNode, op: string): TfjsNode {
    if (node.op !== op) {
      throw new ModelError(`USE-lite graph: expected ${op} at ${node.name}, found ${node.op}; this is not the model the converter knows`);
    }
    return node;
  }

  /** Producer of input `index` of `node`, which must be an `op`. */
  in(node: TfjsNode, index: number, op: string): TfjsNode {
    return this.expect(this.graph.input(node, index), op);
  }

  any(node: TfjsNode, index: number): TfjsNode {
    return this.graph.input(node, index);
  }

  constant(node: TfjsNode, index: number): TfjsConstant {
    return this.graph.constant(this.graph.input(node, index));
  }

  float(node: TfjsNode, index: number, shape: number[]): Float32Array {
    const value = this.constant(node, index);
    if (!(value.data instanceof Float32Array) || value.shape.join(',') !== shape.join(',')) {
      throw new ModelError(
        `USE-lite graph: ${value.name} is ${value.data instanceof Float32Array ? 'float32' : 'int32'} [${value.shape.join(', ')}], expected float32 [${shape.join(', ')}]`,
      );
    }
    return value.data;
  }

  scalar(node: TfjsNode, index: number): number {
    const value = this.constant(node, index);
    if (value.data.length !== 1) throw new ModelError(`USE-lite graph: ${value.name} is not a scalar`);
    return value.data[0]!;
  }

  ints(node: TfjsNode, index: number): number[] {
    return Array.from(this.constant(node, index).data);
  }

  same(a: TfjsNode, b: TfjsNode, what: string): void {
    if (a !== b) throw new ModelError(`USE-lite graph: ${what} (${a.name} is not ${b.name})`);
  }

  flag(node: TfjsNode, name: string): boolean {
    return node.attr[name]?.b === true;
  }

  text(node: TfjsNode, name: string): string {
    const s = node.attr[name]?.s as unknown;
    if (Array.isArray(s)) return String.fromCharCode(...(s as number[]));
    if (typeof s === 'string') return Buffer.from(s, 'base64').toString('latin1');
    return '';
  }

  /** Output index an input edge selects ("name:2" → 2). */
  outputIndex(node: TfjsNode, index: number): number {
    const edge = node.inputs[index] ?? '';
    const match = /:(\d+)$/.exec(edge);
    return match === null ? 0 : Number(match[1]);
  }
}

/** Layer norm ending at `out` (the final Add); returns its weights and its input. */
function readLayerNorm(w: Walker, out: TfjsNode): { weights: LayerNormWeights; input: TfjsNode } {
  w.expect(out, 'Add');
  const scaled = w.in(out, 0, 'Mul');
  const scaleTimesInverse = w.in(scaled, 0, 'Mul');
  const centered = w.in(scaled, 1, 'Sub');
  const inverse = w.in(scaleTimesInverse, 1, 'Rsqrt');
  const varianceEps = w.in(inverse, 0, 'Add');
  const variance = w.in(varianceEps, 0, 'Mean');
  const square = w.in(variance, 0, 'Square');
  w.same(w.any(square, 0), centered, 'layer norm variance is not over the centred input');
  const mean = w.in(centered, 1, 'Mean');
  const input = w.any(centered, 0);
  w.same(w.any(mean, 0), input, 'layer norm mean is not over its input');
  for (const reduce of [mean, variance]) {
    if (w.ints(reduce, 1).join(',') !== '-1') throw new ModelError(`USE-lite graph: ${reduce.name} does not reduce the last axis`);
  }
  const width = w.constant(scaleTimesInverse, 0).shape[0]!;
  return {
    weights: { scale: w.float(scaleTimesInverse, 0, [width]), bias: w.float(out, 1, [width]), epsilon: w.scalar(varianceEps, 1) },
    input,
  };
}

/** A 1×1 Conv2D (NHWC, stride 1, VALID) followed by BiasAdd, i.e. a dense layer; `biasAdd` is the BiasAdd. */
function readPointwiseConv(w: Walker, biasAdd: TfjsNode): { weights: DenseWeights; input: TfjsNode } {
  w.expect(biasAdd, 'BiasAdd');
  const conv = w.in(biasAdd, 0, 'Conv2D');
  const kernel = w.constant(conv, 1);
  const [height, width, inputSize, outputSize] = kernel.shape;
  const strides = conv.attr.strides?.list?.i?.map(Number) ?? [];
  if (height !== 1 || width !== 1 || w.text(conv, 'padding') !== 'VALID' || w.text(conv, 'data_format') !== 'NHWC' || strides.some((s) => s !== 1)) {
    throw new ModelError(`USE-lite graph: ${conv.name} is not a pointwise (1×1, stride 1, VALID, NHWC) convolution`);
  }
  return {
    weights: {
      weight: w.float(conv, 1, [1, 1, inputSize!, outputSize!]),
      bias: w.float(biasAdd, 1, [outputSize!]),
      inputSize: inputSize!,
      outputSize: outputSize!,
    },
    input: w.any(conv, 0),
  };
}

/** MatMul(x, W) + BiasAdd(b) with a stored W; `biasAdd` is the BiasAdd. Tensordot reshapes are stepped over. */
function readDense(w: Walker, biasAdd: TfjsNode): { weights: DenseWeights; matmul: TfjsNode } {
  w.expect(biasAdd, 'BiasAdd');
  let product = w.any(biasAdd, 0);
  if (product.op === 'Reshape') product = w.any(product, 0); // Tensordot: reshape back to [.., out]
  const matmul = w.expect(product, 'MatMul');
  if (w.flag(matmul, 'transpose_a') || w.flag(matmul, 'transpose_b')) {
    throw new ModelError(`USE-lite graph: ${matmul.name} transposes an operand`);
  }
  const [inputSize, outputSize] = w.constant(matmul, 1).shape;
  return {
    weights: {
      weight: w.float(matmul, 1, [inputSize!, outputSize!]),
      bias: w.float(biasAdd, 1, [outputSize!]),
      inputSize: inputSize!,
      outputSize: outputSize!,
    },
    matmul,
  };
}

/** One head-split branch: Transpose(Reshape(split:k, [b, l, heads, size]), perm [0, 2, 1, 3]). */
function readHeads(w: Walker, transpose: TfjsNode): { split: TfjsNode; output: number; heads: number; headSize: number } {
  w.expect(transpose, 'Transpose');
  if (w.ints(transpose, 1).join(',') !== '0,2,1,3') throw new ModelError(`USE-lite graph: ${transpose.name} is not a head split`);
  const reshape = w.in(transpose, 0, 'Reshape');
  const shape = w.in(reshape, 1, 'Pack');
  return { split: w.in(reshape, 0, 'SplitV'), output: w.outputIndex(reshape, 0), heads: w.scalar(shape, 2), headSize: w.scalar(shape, 3) };
}

/** The additive padding bias constant, from the node the attention logits add. */
function readPaddingBias(w: Walker, biasNode: TfjsNode): number {
  const outer = w.expect(biasNode, 'ExpandDims');
  const inner = w.in(outer, 0, 'ExpandDims');
  const scaled = w.in(inner, 0, 'Mul');
  const notMask = w.in(w.in(scaled, 0, 'Cast'), 0, 'LogicalNot');
  w.expect(w.any(notMask, 0), 'Greater');
  return w.scalar(scaled, 1);
}

/** One transformer layer ending at `end`; returns it, its input, and the padding bias its attention adds. */
function readLayer(w: Walker, end: TfjsNode): { layer: UseLiteLayer; input: TfjsNode; paddingBias: number } {
  // end = FFN output (scattered back to all positions) + attention block output
  w.expect(end, 'Add');
  const ffnScatter = w.in(end, 0, 'ScatterNd');
  const attentionBlock = w.in(end, 1, 'Add');
  const ffnOut = w.in(ffnScatter, 1, 'Squeeze');
  const outer = readDense(w, w.in(ffnOut, 0, 'BiasAdd'));
  const relu = w.in(w.in(outer.matmul, 0, 'Reshape'), 0, 'Relu');
  const inner = readDense(w, w.in(relu, 0, 'BiasAdd'));
  const gathered = w.in(w.in(w.in(inner.matmul, 0, 'Reshape'), 0, 'ExpandDims'), 0, 'GatherNd');
  const ffnNorm = readLayerNorm(w, w.any(gathered, 0));
  w.same(ffnNorm.input, attentionBlock, 'the FFN does not normalise the attention block output');

  // attention block = output projection(attention) + residual
  const attentionOutput = readPointwiseConv(w, w.in(w.in(attentionBlock, 0, 'Squeeze'), 0, 'BiasAdd'));
  const residual = w.any(attentionBlock, 1);
  const combined = w.in(w.expect(attentionOutput.input, 'ExpandDims'), 0, 'Reshape');
  const combineTranspose = w.in(combined, 0, 'Transpose');
  if (w.ints(combineTranspose, 1).join(',') !== '0,2,1,3') throw new ModelError(`USE-lite graph: ${combineTranspose.name} does not combine heads`);
  const context = w.in(combineTranspose, 0, 'BatchMatMul');
  const softmax = w.in(w.in(context, 0, 'Reshape'), 0, 'Softmax');
  const logits = w.in(w.in(softmax, 0, 'Reshape'), 0, 'Add');
  const scores = w.in(logits, 0, 'BatchMatMul');
  if (w.flag(scores, 'adj_x') || !w.flag(scores, 'adj_y') || w.flag(context, 'adj_x') || w.flag(context, 'adj_y')) {
    throw new ModelError(`USE-lite graph: ${scores.name} / ${context.name} are not q·kᵀ and weights·v`);
  }
  const paddingBias = readPaddingBias(w, w.any(logits, 1));
  const scaledQuery = w.in(scores, 0, 'Mul');
  const queryScale = w.scalar(scaledQuery, 1);
  const q = readHeads(w, w.any(scaledQuery, 0));
  const k = readHeads(w, w.any(scores, 1));
  const v = readHeads(w, w.any(context, 1));
  w.same(k.split, q.split, 'q and k come from different projections');
  w.same(v.split, q.split, 'q and v come from different projections');
  if (q.output !== 0 || k.output !== 1 || v.output !== 2) throw new ModelError(`USE-lite graph: ${q.split.name} outputs are not q, k, v in order`);
  if (k.heads !== q.heads || v.heads !== q.heads || k.headSize !== q.headSize || v.headSize !== q.headSize) {
    throw new ModelError(`USE-lite graph: q, k and v of ${q.split.name} are split into different heads`);
  }
  const sizes = w.ints(q.split, 1);
  if (sizes.length !== 3 || ![2, -1].includes(w.scalar(q.split, 2))) throw new ModelError(`USE-lite graph: ${q.split.name} is not a 3-way split of the last axis`);
  const qkv = readPointwiseConv(w, w.in(w.in(q.split, 0, 'Squeeze'), 0, 'BiasAdd'));
  const attentionNorm = readLayerNorm(w, w.any(w.expect(qkv.input, 'ExpandDims'), 0));
  const input = attentionNorm.input;

  let residualProjection: DenseWeights | undefined;
  if (residual !== input) {
    // AdjustResidualInput: the residual is the layer input projected to the new width (on valid tokens).
    w.expect(residual, 'ScatterNd');
    const projection = readDense(w, w.in(residual, 1, 'BiasAdd'));
    w.same(w.any(w.in(projection.matmul, 0, 'GatherNd'), 0), input, 'the residual projection does not read the layer input');
    residualProjection = projection.weights;
  }
  return {
    layer: {
      attentionNorm: attentionNorm.weights,
      qkv: qkv.weights,
      qkvSizes: [sizes[0]!, sizes[1]!, sizes[2]!],
      heads: q.heads,
      headSize: q.headSize,
      queryScale,
      attentionOutput: attentionOutput.weights,
      residualProjection,
      ffnNorm: ffnNorm.weights,
      ffnInner: inner.weights,
      ffnOuter: outer.weights,
    },
    input,
    paddingBias,
  };
}

/** Is `node` the first layer's input: Add(scatter(embeddings), scatter(... + timing))? */
function isEmbeddingSum(w: Walker, node: TfjsNode): boolean {
  if (node.op !== 'Add') return false;
  const first = w.any(node, 0);
  const second = w.any(node, 1);
  return first.op === 'ScatterNd' && second.op === 'ScatterNd' && w.any(first, 1).op === 'GatherV2';
}

/** The embedding sum: table, how often the embedding is added, timing signal, and the token clip. */
function readEmbeddingSum(w: Walker, sum: TfjsNode) {
  const scattered = w.in(sum, 0, 'ScatterNd');
  const lookup = w.in(scattered, 1, 'GatherV2');
  const tableShape = w.constant(lookup, 0).shape;
  if (tableShape.length !== 2) throw new ModelError(`USE-lite graph: ${lookup.name} does not read a 2-D embedding table`);
  const embeddings = w.float(lookup, 0, tableShape);

  // The token mask: a position holds a token when the densified ids exceed the fill value.
  const validPositions = w.in(w.in(scattered, 0, 'Cast'), 0, 'Where');
  const holdsToken = w.in(validPositions, 0, 'Greater');
  const dense = w.in(holdsToken, 0, 'SparseToDense');
  const fill = w.scalar(holdsToken, 1);
  if (fill >= 0 || w.scalar(dense, 3) !== fill) {
    throw new ModelError(`USE-lite graph: padding fill value ${fill} could be a token id; the token mask would drop real tokens`);
  }

  // ClipToMaxLength: values whose position index is < the limit are kept.
  const clippedValues = w.in(lookup, 1, 'GatherV2');
  const keep = w.in(w.in(w.in(clippedValues, 1, 'Reshape'), 0, 'Where'), 0, 'Less');
  w.expect(w.any(w.in(keep, 0, 'StridedSlice'), 0), 'Placeholder');
  const maxTokens = w.scalar(keep, 1);

  // Second term: (embedding gathered again at valid positions) + timing signal, scattered back.
  const timed = w.in(w.in(sum, 1, 'ScatterNd'), 1, 'Add');
  const regathered = w.in(timed, 0, 'GatherNd');
  let embeddingCount = 1;
  if (w.any(regathered, 0) === scattered) embeddingCount = 2;
  else throw new ModelError(`USE-lite graph: ${regathered.name} does not re-read the embeddings; unknown embedding sum`);
  const signal = w.in(timed, 1, 'ConcatV2');
  const sin = w.in(signal, 0, 'Sin');
  const cos = w.in(signal, 1, 'Cos');
  const angles = w.in(sin, 0, 'Mul');
  w.same(w.any(cos, 0), angles, 'sin and cos of the timing signal use different angles');
  const positions = w.in(w.in(w.in(angles, 0, 'ExpandDims'), 0, 'Cast'), 0, 'StridedSlice');
  w.same(w.any(positions, 0), validPositions, 'timing positions are not the token positions');
  const timescaleShape = w.constant(angles, 1).shape;
  const inverseTimescales = w.float(angles, 1, timescaleShape);
  if (2 * inverseTimescales.length !== tableShape[1]) {
    throw new ModelError(`USE-lite graph: timing signal width ${2 * inverseTimescales.length} ≠ embedding width ${tableShape[1]}`);
  }
  return { embeddings, vocabSize: tableShape[0]!, embeddingSize: tableShape[1]!, embeddingCount, inverseTimescales, maxTokens };
}

/** Read the architecture and weights of the USE-lite TF.js graph. */
export function readUseLiteArchitecture(graph: TfjsGraphModel): UseLiteArchitecture {
  const w = new Walker(graph);
  const normalized = w.expect(graph.sink(), 'Mul');
  const tanh = w.in(normalized, 0, 'Tanh');
  const floorNode = w.in(w.in(normalized, 1, 'Rsqrt'), 0, 'Maximum');
  w.same(w.any(w.in(w.in(floorNode, 0, 'Sum'), 0, 'Square'), 0), tanh, 'the L2 norm is not of the tanh output');
  const outputDense = readDense(w, w.in(tanh, 0, 'BiasAdd'));

  // Mean pooling: Σ(states · mask) / max(Σ mask, 1).
  const mean = w.in(outputDense.matmul, 0, 'RealDiv');
  const maskedSum = w.in(w.in(mean, 0, 'Sum'), 0, 'Mul');
  w.in(w.in(w.in(maskedSum, 1, 'ExpandDims'), 0, 'Cast'), 0, 'Less');
  const count = w.in(w.in(w.in(mean, 1, 'ExpandDims'), 0, 'Cast'), 0, 'Maximum');
  if (w.scalar(count, 1) !== 1) throw new ModelError(`USE-lite graph: ${count.name} does not floor the token count at 1`);

  const layers: UseLiteLayer[] = [];
  const biases = new Set<number>();
  let node = w.any(maskedSum, 0);
  while (!isEmbeddingSum(w, node)) {
    if (layers.length >= 64) throw new ModelError('USE-lite graph: no embedding sum found below 64 layers');
    const read = readLayer(w, node);
    layers.unshift(read.layer);
    biases.add(read.paddingBias);
    node = read.input;
  }
  if (layers.length === 0 || biases.size !== 1) throw new ModelError('USE-lite graph: no transformer layers, or layers with different padding biases');
  const embedding = readEmbeddingSum(w, node);
  return {
    ...embedding,
    paddingBias: [...biases][0]!,
    layers,
    outputDense: outputDense.weights,
    l2SquaredNormFloor: w.scalar(floorNode, 1),
  };
}
