/**
 * The dot-product kernel of exact and IVF search: one ONNX Gemm node (A · Bᵀ, transB = 1, both inputs of
 * dynamic shape) built with our own graph writer (src/onnx/graph-builder.ts) and run by onnxruntime-node's
 * CPU provider (MLAS sgemm) with `threads` intra-op threads. One idea: many queries × many rows is one matrix
 * product, which a tuned sgemm does an order of magnitude faster than per-pair dot products.
 * What must hold: scores[i × rows + j] is the float32 dot product of query row i and row j; the products are
 * only ever used to choose candidates, never reported (callers rescore with cosineSimilarity), so its
 * rounding (bounded by dotProductErrorBound) can never change a reported score.
 * vector/ importing onnx/ makes no folder cycle: onnx/ imports only errors.ts (test/architecture.test.ts).
 */
import '../onnx/runtime-environment.js'; // before onnxruntime-node loads: no telemetry
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { OnnxGraphBuilder } from '../onnx/graph-builder.js';

/** The serialized graph: scores[q, n] = Gemm(queries[q, d], rows[n, d], transB = 1). Built once per process. */
let gemmModel: Uint8Array | undefined;

function gemmModelBytes(): Uint8Array {
  if (!gemmModel) {
    const b = new OnnxGraphBuilder('rare-mine-dot-products');
    const queries = b.input('queries', 'float32', ['queryCount', 'dims']);
    const rows = b.input('rows', 'float32', ['rowCount', 'dims']);
    const scores = b.node('Gemm', [queries, rows], { transB: { kind: 'int', value: 1 } }, { name: 'scores' })[0]!;
    b.output(scores, 'float32', ['queryCount', 'rowCount']);
    gemmModel = b.serialize({ docString: 'dot products of every query with every row (A · Bᵀ)' });
  }
  return gemmModel;
}

/**
 * An upper bound on |float32 dot product − exact dot product| of two vectors of `dims` components whose
 * norms multiply to 1 (unit vectors): dims · u with u = 2⁻²⁴ is the classic bound for recursive summation
 * (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); doubled for the rounding of the inputs'
 * normalisation and the per-row scale the callers apply.
 */
export function dotProductErrorBound(dims: number): number {
  return 2 * (dims + 4) * 2 ** -24;
}

/** A float32 matrix product on onnxruntime (see the module header). Open with GemmKernel.open; close when done. */
export class GemmKernel {
  private constructor(private readonly session: InferenceSession, readonly threads: number) {}

  /** @param threads onnxruntime intra-op threads, ≥ 1 */
  static async open(threads = 1): Promise<GemmKernel> {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`GEMM threads must be an integer ≥ 1, got ${threads}`);
    const session = await InferenceSession.create(gemmModelBytes(), {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new GemmKernel(session, threads);
  }

  /**
   * Dot products of `queryCount` query rows with `rowCount` rows, both row-major `dims` wide (subarrays are
   * fine): a fresh Float32Array, queryCount × rowCount, row-major by query.
   */
  async dotProducts(queries: Float32Array, queryCount: number, rows: Float32Array, rowCount: number, dims: number): Promise<Float32Array> {
    if (queries.length < queryCount * dims || rows.length < rowCount * dims) {
      throw new RangeError(`GEMM inputs too short: ${queries.length} < ${queryCount} × ${dims} or ${rows.length} < ${rowCount} × ${dims}`);
    }
    if (queryCount === 0 || rowCount === 0) return new Float32Array(queryCount * rowCount);
    const feeds = {
      queries: new Tensor('float32', queries.subarray(0, queryCount * dims), [queryCount, dims]),
      rows: new Tensor('float32', rows.subarray(0, rowCount * dims), [rowCount, dims]),
    };
    const out = await this.session.run(feeds);
    const scores = out.scores!;
    const data = scores.data as Float32Array;
    scores.dispose?.();
    return data;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
