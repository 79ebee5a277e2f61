/**
 * Builds an ONNX model (a ModelProto) in memory and serializes it: typed graph inputs and outputs with
 * symbolic dimensions, initializers from typed arrays, nodes with typed attributes, default opset 17.
 * What must hold: nodes are appended in topological order (every input a node names is already a graph
 * input, an initializer or an earlier node's output) and every tensor name is defined exactly once; the
 * builder checks both as it goes, so a graph that serializes is structurally valid. Tensor payloads are
 * written as little-endian `raw_data`, as onnxruntime expects.
 */
import { endianness } from 'node:os';
import { ModelError } from '../errors.js';
import { ModelProtoType, OnnxAttributeType, OnnxDataType } from './onnx-schema.js';

/** Element types a graph input, output or initializer may carry. */
export type OnnxElementType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8';

/** A dimension: a fixed size, or a name ("batch", "sequence") that onnxruntime binds at run time. */
export type OnnxDim = number | string;

/** Typed payloads an initializer can be made from; the element type follows from the array type. */
export type OnnxTensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A tensor value for a `value` attribute (Constant) or an initializer. */
export interface OnnxTensorValue {
  elementType: OnnxElementType;
  dims: number[];
  data: OnnxTensorData;
}

/**
 * A node attribute. The kind is explicit because ONNX types attributes strictly (an `alpha` of 1 must be
 * a FLOAT, an `axis` of 1 an INT) and a JavaScript number cannot say which it is; build them with {@link Attr}.
 */
export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'tensor'; value: OnnxTensorValue };

/** Constructors for {@link OnnxAttribute}: `Attr.int(1)`, `Attr.float(1e-6)`, `Attr.ints([0, 2, 1, 3])`. */
export const Attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
  ints: (value: readonly number[]): OnnxAttribute => ({ kind: 'ints', value }),
  floats: (value: readonly number[]): OnnxAttribute => ({ kind: 'floats', value }),
  tensor: (value: OnnxTensorValue): OnnxAttribute => ({ kind: 'tensor', value }),
};

/** Options for {@link OnnxGraphBuilder.serialize}. */
export interface OnnxModelOptions {
  /** ModelProto.producer_name; default "rare-mine". */
  producerName?: string;
  /** ModelProto.producer_version; default "". */
  producerVersion?: string;
  /** ModelProto.doc_string: what the model is and where it came from. */
  docString?: string;
  /** ModelProto.metadata_props: free key/value pairs (onnxruntime exposes them as custom metadata). */
  metadata?: Record<string, string>;
}

/** The ONNX IR version written: 8 is the one that goes with opset 17 (ONNX 1.12/1.13). */
export const ONNX_IR_VERSION = 8;
/** The default ai.onnx opset. */
export const DEFAULT_OPSET_VERSION = 17;

interface ValueInfo {
  name: string;
  elementType: OnnxElementType;
  dims: OnnxDim[];
}

interface NodeRecord {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes: Record<string, OnnxAttribute>;
}

/** Element type of a typed array, and how many bytes one element takes. */
function elementTypeOf(data: OnnxTensorData, declared?: OnnxElementType): OnnxElementType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  return declared === 'bool' ? 'bool' : 'uint8';
}

/** The payload as little-endian bytes (a view, not a copy, on little-endian machines). */
function littleEndianBytes(data: OnnxTensorData): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (endianness() === 'LE' || data.BYTES_PER_ELEMENT === 1) return bytes;
  const swapped = new Uint8Array(bytes.length);
  const width = data.BYTES_PER_ELEMENT;
  for (let at = 0; at < bytes.length; at += width) {
    for (let k = 0; k < width; k++) swapped[at + k] = bytes[at + width - 1 - k]!;
  }
  return swapped;
}

function tensorMessage(name: string, tensor: OnnxTensorValue): Record<string, unknown> {
  return {
    name,
    dims: tensor.dims,
    data_type: OnnxDataType[tensor.elementType],
    raw_data: littleEndianBytes(tensor.data),
  };
}

function attributeMessage(name: string, attribute: OnnxAttribute): Record<string, unknown> {
  switch (attribute.kind) {
    case 'int':
      return { name, type: OnnxAttributeType.int, i: attribute.value };
    case 'float':
      return { name, type: OnnxAttributeType.float, f: attribute.value };
    case 'string':
      return { name, type: OnnxAttributeType.string, s: Buffer.from(attribute.value, 'utf8') };
    case 'ints':
      return { name, type: OnnxAttributeType.ints, ints: [...attribute.value] };
    case 'floats':
      return { name, type: OnnxAttributeType.floats, floats: [...attribute.value] };
    case 'tensor':
      return { name, type: OnnxAttributeType.tensor, t: tensorMessage(name, attribute.value) };
  }
}

function valueInfoMessage(info: ValueInfo): Record<string, unknown> {
  return {
    name: info.name,
    type: {
      tensor_type: {
        elem_type: OnnxDataType[info.elementType],
        shape: { dim: info.dims.map((dim) => (typeof dim === 'number' ? { dim_value: dim } : { dim_param: dim })) },
      },
    },
  };
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((product, size) => product * size, 1);
}

/**
 * An ONNX graph under construction. Typical use:
 * ```ts
 * const b = new OnnxGraphBuilder('tiny');
 * const x = b.input('x', 'float32', ['batch', 4]);
 * const w = b.initializer('w', new Float32Array(8), [4, 2]);
 * b.output(b.op('MatMul', [x, w], {}, 'y'), 'float32', ['batch', 2]);
 * const bytes = b.serialize();
 * ```
 */
export class OnnxGraphBuilder {
  private readonly defined = new Set<string>();
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Array<{ name: string; tensor: OnnxTensorValue }> = [];
  private readonly nodes: NodeRecord[] = [];
  private readonly nameCounts = new Map<string, number>();

  /**
   * @param graphName GraphProto.name.
   * @param opsetVersion the ai.onnx opset the nodes are written against (default 17).
   */
  constructor(
    readonly graphName: string,
    readonly opsetVersion: number = DEFAULT_OPSET_VERSION,
  ) {}

  /** Number of nodes so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A fresh tensor name starting with `base` ("h", then "h_1", "h_2", ...). */
  uniqueName(base: string): string {
    if (!this.defined.has(base)) return base;
    let count = this.nameCounts.get(base) ?? 0;
    let candidate: string;
    do {
      count += 1;
      candidate = `${base}_${count}`;
    } while (this.defined.has(candidate));
    this.nameCounts.set(base, count);
    return candidate;
  }

  private define(name: string): void {
    if (this.defined.has(name)) throw new ModelError(`ONNX graph ${this.graphName}: tensor "${name}" is defined twice`);
    this.defined.add(name);
  }

  /** Declare a graph input; returns its name. */
  input(name: string, elementType: OnnxElementType, dims: OnnxDim[]): string {
    this.define(name);
    this.inputs.push({ name, elementType, dims });
    return name;
  }

  /** Declare `name` (an existing tensor) as a graph output with the given type and shape. */
  output(name: string, elementType: OnnxElementType, dims: OnnxDim[]): string {
    if (!this.defined.has(name)) throw new ModelError(`ONNX graph ${this.graphName}: output "${name}" is never computed`);
    this.outputs.push({ name, elementType, dims });
    return name;
  }

  /**
   * Add a constant tensor (weights) under `name` (made unique if taken); returns the name used.
   * `elementType` is only needed to mark a Uint8Array as bool.
   */
  initializer(name: string, data: OnnxTensorData, dims: number[], elementType?: OnnxElementType): string {
    if (elementCount(dims) !== data.length) {
      throw new ModelError(
        `ONNX graph ${this.graphName}: initializer "${name}" has ${data.length} values but dims [${dims.join(', ')}]`,
      );
    }
    const unique = this.uniqueName(name);
    this.define(unique);
    this.initializers.push({ name: unique, tensor: { elementType: elementTypeOf(data, elementType), dims, data } });
    return unique;
  }

  /** An int64 constant (shapes, axes, indices); a scalar when `dims` is []. */
  constInt64(values: readonly number[], dims: number[] = [values.length], name = 'const_i64'): string {
    return this.initializer(name, BigInt64Array.from(values, (v) => BigInt(v)), dims);
  }

  /** A float32 constant; a scalar when `dims` is []. */
  constFloat(values: readonly number[], dims: number[] = [values.length], name = 'const_f32'): string {
    return this.initializer(name, Float32Array.from(values), dims);
  }

  /**
   * Append a node; returns the names of its outputs (`outputCount` fresh names derived from `name`,
   * or `opType` lower-cased when no name is given).
   */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, OnnxAttribute> = {},
    options: { name?: string; outputCount?: number } = {},
  ): string[] {
    for (const input of inputs) {
      // ONNX marks an omitted optional input with the empty name.
      if (input !== '' && !this.defined.has(input)) {
        throw new ModelError(`ONNX graph ${this.graphName}: ${opType} reads "${input}" before it is defined`);
      }
    }
    const base = options.name ?? opType.toLowerCase();
    const outputCount = options.outputCount ?? 1;
    const outputs: string[] = [];
    for (let k = 0; k < outputCount; k++) {
      const out = this.uniqueName(outputCount === 1 ? base : `${base}_out${k}`);
      this.define(out);
      outputs.push(out);
    }
    this.nodes.push({ opType, inputs: [...inputs], outputs, name: `${outputs[0]!}_node`, attributes });
    return outputs;
  }

  /** Append a single-output node and return that output's name. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, OnnxAttribute> = {}, name?: string): string {
    return this.node(opType, inputs, attributes, name === undefined ? {} : { name })[0]!;
  }

  /** The model as a protobufjs-ready plain object (ModelProto field names). */
  toModelMessage(options: OnnxModelOptions = {}): Record<string, unknown> {
    if (this.outputs.length === 0) throw new ModelError(`ONNX graph ${this.graphName} has no outputs`);
    return {
      ir_version: ONNX_IR_VERSION,
      opset_import: [{ domain: '', version: this.opsetVersion }],
      producer_name: options.producerName ?? 'rare-mine',
      producer_version: options.producerVersion ?? '',
      doc_string: options.docString ?? '',
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.graphName,
        node: this.nodes.map((node) => ({
          input: node.inputs,
          output: node.outputs,
          name: node.name,
          op_type: node.opType,
          domain: '',
          attribute: Object.entries(node.attributes).map(([name, value]) => attributeMessage(name, value)),
        })),
        initializer: this.initializers.map(({ name, tensor }) => tensorMessage(name, tensor)),
        input: this.inputs.map(valueInfoMessage),
        output: this.outputs.map(valueInfoMessage),
      },
    };
  }

  /** The bytes of a .onnx file holding this graph. */
  serialize(options: OnnxModelOptions = {}): Uint8Array {
    const message = this.toModelMessage(options);
    const problem = ModelProtoType.verify(message);
    if (problem !== null) throw new ModelError(`ONNX graph ${this.graphName} does not fit onnx.ModelProto: ${problem}`);
    return ModelProtoType.encode(ModelProtoType.fromObject(message)).finish();
  }
}
