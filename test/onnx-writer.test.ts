import '../src/onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry files in /tmp
import { test } from 'node:test';
import assert from 'node:assert/strict';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../src/errors.js';
import { Attr, OnnxGraphBuilder } from '../src/onnx/graph-builder.js';
import { attentionBias, l2Normalize, layerNorm, maskedMeanPool } from '../src/onnx/transformer-blocks.js';

const { onnx } = onnxProto;

/** A graph touching every feature: symbolic dims, int64 and float initializers, typed attributes. */
function smallGraph(): OnnxGraphBuilder {
  const b = new OnnxGraphBuilder('small');
  const ids = b.input('ids', 'int64', ['batch', 'sequence']);
  const table = b.initializer('table', Float32Array.from([0, 0, 1, 2, 3, 4, -1, 5]), [4, 2]);
  const rows = b.op('Gather', [table, ids], { axis: Attr.int(0) }, 'rows'); // [batch, sequence, 2]
  const summed = b.op('ReduceSum', [rows, b.constInt64([1])], { keepdims: Attr.int(0) }, 'summed'); // [batch, 2]
  const scaled = b.op('Mul', [summed, b.constFloat([0.5], [])], {}, 'scaled');
  const activated = b.op('LeakyRelu', [scaled], { alpha: Attr.float(0.25) }, 'activated');
  const transposed = b.op('Transpose', [activated], { perm: Attr.ints([1, 0]) }, 'transposed');
  b.output(transposed, 'float32', [2, 'batch']);
  return b;
}

test('a built model runs in onnxruntime and computes what the graph says', async () => {
  const session = await ort.InferenceSession.create(smallGraph().serialize());
  assert.deepEqual(session.inputNames, ['ids']);
  assert.deepEqual(session.outputNames, ['transposed']);
  const ids = new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 0n, 3n, 3n]), [2, 3]);
  const { transposed } = await session.run({ ids });
  assert.ok(transposed !== undefined);
  assert.deepEqual(transposed.dims, [2, 2]);
  // row sums: batch 0 = (1,2)+(3,4)+(-1,5) = (3,11); batch 1 = (0,0)+(-1,5)+(-1,5) = (-2,10); × 0.5; leaky
  const expected = [1.5, -1 * 0.25, 5.5, 5];
  assert.deepEqual(Array.from(transposed.data as Float32Array), expected);
});

test('the bytes decode with the independent onnx-proto schema to the same model', () => {
  const bytes = smallGraph().serialize({ producerName: 'rare-mine-test', docString: 'doc', metadata: { source: 'unit' } });
  // toObject gives plain arrays and numbers; `any` is the honest type of a decoded protobuf object.
  const model: any = onnx.ModelProto.toObject(onnx.ModelProto.decode(bytes), { longs: Number, arrays: true });
  assert.equal(model.irVersion, 8);
  assert.deepEqual(model.opsetImport, [{ domain: '', version: 17 }]);
  assert.equal(model.producerName, 'rare-mine-test');
  assert.deepEqual(model.metadataProps, [{ key: 'source', value: 'unit' }]);
  const graph = model.graph;
  assert.equal(graph.name, 'small');
  assert.equal(graph.input[0].name, 'ids');
  assert.equal(graph.input[0].type.tensorType.elemType, onnx.TensorProto.DataType.INT64);
  assert.deepEqual(
    graph.input[0].type.tensorType.shape.dim.map((dim: { dimParam: string }) => dim.dimParam),
    ['batch', 'sequence'],
  );
  assert.equal(graph.output[0].type.tensorType.shape.dim[0].dimValue, 2);
  const table = graph.initializer.find((tensor: { name: string }) => tensor.name === 'table');
  assert.deepEqual(table.dims, [4, 2]);
  assert.equal(table.dataType, onnx.TensorProto.DataType.FLOAT);
  const raw: Uint8Array = table.rawData;
  const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  assert.deepEqual(Array.from(floats), [0, 0, 1, 2, 3, 4, -1, 5]);
  const leaky = graph.node.find((node: { opType: string }) => node.opType === 'LeakyRelu');
  assert.equal(leaky.attribute[0].type, onnx.AttributeProto.AttributeType.FLOAT);
  assert.equal(leaky.attribute[0].f, 0.25);
  const transpose = graph.node.find((node: { opType: string }) => node.opType === 'Transpose');
  assert.equal(transpose.attribute[0].type, onnx.AttributeProto.AttributeType.INTS);
  assert.deepEqual(transpose.attribute[0].ints, [1, 0]);
});

test('the builder refuses graphs that are not well formed', () => {
  const b = new OnnxGraphBuilder('bad');
  const x = b.input('x', 'float32', [2]);
  assert.throws(() => b.op('Relu', ['missing']), ModelError);
  assert.throws(() => b.input('x', 'float32', [2]), ModelError);
  assert.throws(() => b.initializer('w', new Float32Array(3), [2, 2]), ModelError);
  assert.throws(() => b.output('nowhere', 'float32', [2]), ModelError);
  assert.throws(() => b.serialize(), ModelError); // no outputs yet
  b.output(b.op('Relu', [x]), 'float32', [2]);
  assert.ok(b.serialize().length > 0);
  // Names are made unique rather than clashing.
  assert.notEqual(b.constFloat([1]), b.constFloat([1]));
});

test('transformer blocks match a direct computation, and padding does not leak into pooling', async () => {
  const width = 3;
  const scale = Float32Array.from([1, 2, 0.5]);
  const bias = Float32Array.from([0, 1, -1]);
  const b = new OnnxGraphBuilder('blocks');
  const x = b.input('x', 'float32', ['batch', 'sequence', width]);
  const mask = b.input('mask', 'int64', ['batch', 'sequence']);
  const normed = layerNorm(b, x, scale, bias, 1e-6, 'ln');
  const pooled = maskedMeanPool(b, normed, mask, 'pool');
  b.output(l2Normalize(b, pooled, 1e-12, 'unit'), 'float32', ['batch', width]);
  b.output(attentionBias(b, mask, -1e9, 'bias'), 'float32', ['batch', 1, 1, 'sequence']);
  const session = await ort.InferenceSession.create(b.serialize());

  const values = [
    [1, 2, 3],
    [0, -1, 4],
    [9, 9, 9], // padding: must not count
  ];
  const result = await session.run({
    x: new ort.Tensor('float32', Float32Array.from(values.flat()), [1, 3, width]),
    mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 0n]), [1, 3]),
  });

  const norm = (row: number[]) => {
    const mean = row.reduce((s, v) => s + v, 0) / row.length;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-6)) * scale[i]! + bias[i]!);
  };
  const rows = values.slice(0, 2).map(norm);
  const mean = [0, 1, 2].map((i) => (rows[0]![i]! + rows[1]![i]!) / 2);
  const length = Math.hypot(...mean);
  const expected = mean.map((v) => v / length);
  const unit = Array.from(result.unit!.data as Float32Array);
  unit.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-5, `component ${i}: ${v} vs ${expected[i]}`));
  assert.deepEqual(Array.from(result.bias!.data as Float32Array, (v) => v + 0), [0, 0, -1e9]); // + 0: -0 → 0
});
