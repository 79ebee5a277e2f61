/**
 * Reads a TensorFlow.js graph model (model.json + binary weight shards) into nodes and named constant
 * tensors, and offers the navigation a converter needs: a node's producers, its constant inputs, the
 * graph's sink. What must hold: every weight in the manifest is decoded from the concatenated shards at its
 * manifest offset with its manifest shape, and the shards hold exactly the bytes the manifest describes
 * (a truncated or padded download is refused, not misread).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelError } from '../../errors.js';

/** One node of the TF GraphDef as model.json stores it. */
export interface TfjsNode {
  name: string;
  op: string;
  /** Producer names; a ":k" suffix selects output k, a "^" prefix marks a control dependency. */
  inputs: string[];
  attr: Record<string, TfjsAttrValue>;
}

/** A GraphDef AttrValue in its JSON form (only the fields read here are typed). */
export interface TfjsAttrValue {
  i?: string;
  f?: number;
  b?: boolean;
  s?: string;
  type?: number | string;
  list?: { i?: string[] };
}

/** A decoded constant. */
export interface TfjsConstant {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  format?: string;
  modelTopology?: { node?: Array<{ name: string; op: string; input?: string[]; attr?: Record<string, TfjsAttrValue> }> };
  weightsManifest?: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4 };

/** A loaded TF.js graph model. */
export class TfjsGraphModel {
  private readonly byName = new Map<string, TfjsNode>();
  private readonly consumerNames = new Map<string, string[]>();

  private constructor(
    /** Directory the model was read from. */
    readonly dir: string,
    /** All nodes in model.json order. */
    readonly nodes: TfjsNode[],
    private readonly constants: Map<string, TfjsConstant>,
    /** model.json and the shard files, relative to `dir`, in manifest order. */
    readonly sourceFiles: string[],
  ) {
    for (const node of nodes) this.byName.set(node.name, node);
    for (const node of nodes) {
      for (const input of node.inputs) {
        if (input.startsWith('^')) continue;
        const producer = producerName(input);
        this.consumerNames.set(producer, [...(this.consumerNames.get(producer) ?? []), node.name]);
      }
    }
  }

  /** Read `<dir>/<modelFile>` and every shard its weightsManifest names. */
  static async read(dir: string, modelFile = 'model.json'): Promise<TfjsGraphModel> {
    const modelPath = join(dir, modelFile);
    let json: ModelJson;
    try {
      json = JSON.parse(await readFile(modelPath, 'utf8')) as ModelJson;
    } catch (cause) {
      throw new ModelError(`cannot read the TF.js graph model ${modelPath}`, { cause });
    }
    const rawNodes = json.modelTopology?.node;
    if (!Array.isArray(rawNodes) || json.weightsManifest === undefined) {
      throw new ModelError(`${modelPath} is not a TF.js graph model (no modelTopology.node or weightsManifest)`);
    }
    const nodes = rawNodes.map((n) => ({ name: n.name, op: n.op, inputs: n.input ?? [], attr: n.attr ?? {} }));
    const constants = new Map<string, TfjsConstant>();
    const sourceFiles = [modelFile];
    for (const group of json.weightsManifest) {
      const shards = await Promise.all(group.paths.map((path) => readFile(join(dir, path))));
      sourceFiles.push(...group.paths);
      const bytes = Buffer.concat(shards);
      let offset = 0;
      for (const spec of group.weights) {
        const width = BYTES_PER_ELEMENT[spec.dtype];
        if (width === undefined || spec.quantization !== undefined) {
          throw new ModelError(`${modelPath}: weight ${spec.name} has dtype ${spec.dtype}${spec.quantization ? ' (quantized)' : ''}, which this reader does not decode`);
        }
        const count = spec.shape.reduce((product, size) => product * size, 1);
        const end = offset + count * width;
        if (end > bytes.length) throw new ModelError(`${modelPath}: weight shards end before weight ${spec.name}`);
        // Copy into an aligned buffer: a view at an odd shard offset cannot back a Float32Array.
        const aligned = new ArrayBuffer(count * width);
        new Uint8Array(aligned).set(bytes.subarray(offset, end));
        const data = spec.dtype === 'float32' ? new Float32Array(aligned) : new Int32Array(aligned);
        constants.set(spec.name, { name: spec.name, shape: spec.shape, data });
        offset = end;
      }
      if (offset !== bytes.length) {
        throw new ModelError(`${modelPath}: the shards hold ${bytes.length} bytes but the manifest describes ${offset}`);
      }
    }
    return new TfjsGraphModel(dir, nodes, constants, sourceFiles);
  }

  /** The node called `name` (a ":k" output suffix is ignored). */
  node(name: string): TfjsNode {
    const node = this.byName.get(producerName(name));
    if (node === undefined) throw new ModelError(`TF.js graph in ${this.dir} has no node ${name}`);
    return node;
  }

  /** The node producing input `index` of `node`. */
  input(node: TfjsNode, index: number): TfjsNode {
    const name = node.inputs[index];
    if (name === undefined) throw new ModelError(`TF.js node ${node.name} (${node.op}) has no input ${index}`);
    return this.node(name);
  }

  /** Nodes that read an output of `node`. */
  consumers(node: TfjsNode): TfjsNode[] {
    return (this.consumerNames.get(node.name) ?? []).map((name) => this.node(name));
  }

  /** The constant tensor held by Const node `node`. */
  constant(node: TfjsNode): TfjsConstant {
    const value = this.constants.get(node.name);
    if (node.op !== 'Const' || value === undefined) {
      throw new ModelError(`TF.js node ${node.name} is a ${node.op}, expected a Const with stored weights`);
    }
    return value;
  }

  /** The one non-constant node nothing consumes: the graph's output. */
  sink(): TfjsNode {
    const sinks = this.nodes.filter((node) => node.op !== 'Const' && !this.consumerNames.has(node.name));
    if (sinks.length !== 1) {
      throw new ModelError(`TF.js graph in ${this.dir} has ${sinks.length} outputs (${sinks.map((n) => n.name).join(', ')}); expected one`);
    }
    return sinks[0]!;
  }
}

/** "name:1" → "name"; "^name" → "name". */
export function producerName(input: string): string {
  const bare = input.startsWith('^') ? input.slice(1) : input;
  const colon = bare.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(bare.slice(colon + 1)) ? bare.slice(0, colon) : bare;
}
