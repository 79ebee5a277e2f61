/**
 * A structural check of a USearch file (`Index.save` of index_dense, usearch 2.x) before native code maps it:
 * usearch trusts the file, and a garbage or cut file whose manifest was made to match crashed the process
 * (SIGSEGV). Layout read here (include/usearch/index_dense.hpp, index.hpp):
 *
 *   u32 rows | u32 bytesPerVector | rows × bytesPerVector vector bytes
 *   64-byte head: "usearch" | u16 major minor patch | u8 metric scalar key slot | u64 present deleted dims | u8 multi
 *   graph header: u64 size connectivity connectivityBase maxLevel entrySlot
 *   i16 level[size] | node[size], node = u64 key | i16 level | base list | level × upper list,
 *                     a neighbor list = u32 count + u32 slot × (connectivityBase for the base list, else connectivity)
 *
 * What must hold: a file passes only when every field agrees with the manifest and the byte size these fields
 * imply is exactly the file's size, so usearch never reads past the end or follows a count it cannot hold.
 */
import { closeSync, fstatSync, openSync, readSync } from '../io/fs.js';
import { PRECISIONS, type Precision } from './precision.js';

const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const MAGIC = 'usearch';
/** u64 key + i16 level. */
const NODE_HEAD_BYTES = 10;
/** Neighbor slots and the per-list count are u32. */
const SLOT_BYTES = 4;

/** What the manifest says the graph holds. */
export interface UsearchExpectations {
  count: number;
  dims: number;
  precision: Precision;
  connectivity: number;
}

function readAt(fd: number, length: number, position: number): Buffer {
  const out = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** Why the USearch file at `path` cannot be the graph the manifest describes, or undefined when it can. */
export function usearchFileProblem(path: string, expect: UsearchExpectations): string | undefined {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const matrix = readAt(fd, 8, 0);
    if (matrix.length < 8) return 'not a USearch file (shorter than its header)';
    const rows = matrix.readUInt32LE(0);
    const bytesPerVector = matrix.readUInt32LE(4);
    const wantBytesPerVector = expect.dims * PRECISIONS[expect.precision].bytesPerDimension;
    if (rows !== expect.count || bytesPerVector !== wantBytesPerVector) {
      return `not the USearch graph of this index (vector matrix ${rows} × ${bytesPerVector} bytes, expected ${expect.count} × ${wantBytesPerVector})`;
    }
    const headAt = 8 + rows * bytesPerVector;
    const head = readAt(fd, HEAD_BYTES + GRAPH_HEADER_BYTES, headAt);
    if (head.length < HEAD_BYTES + GRAPH_HEADER_BYTES) return 'truncated USearch file (ends inside its header)';
    if (head.toString('latin1', 0, 7) !== MAGIC) return 'not a USearch file (bad magic)';
    const present = Number(head.readBigUInt64LE(17));
    const deleted = Number(head.readBigUInt64LE(25));
    const dims = Number(head.readBigUInt64LE(33));
    if (present !== expect.count || deleted !== 0 || dims !== expect.dims) {
      return `USearch head says ${present} vectors (${deleted} deleted) of ${dims} dims, the manifest ${expect.count} of ${expect.dims}`;
    }
    const graph = head.subarray(HEAD_BYTES);
    const nodes = Number(graph.readBigUInt64LE(0));
    const connectivity = Number(graph.readBigUInt64LE(8));
    const connectivityBase = Number(graph.readBigUInt64LE(16));
    // -1 in an empty graph.
    const maxLevel = Number(graph.readBigInt64LE(24));
    const entrySlot = Number(graph.readBigUInt64LE(32));
    if (nodes !== expect.count || connectivity !== expect.connectivity || connectivityBase < connectivity || connectivityBase > 4 * connectivity || maxLevel > 64 || maxLevel < (nodes > 0 ? 0 : -1) || (nodes > 0 && entrySlot >= nodes)) {
      return `USearch graph header is inconsistent (${nodes} nodes, connectivity ${connectivity}/${connectivityBase}, max level ${maxLevel}, entry ${entrySlot}; the manifest says ${expect.count} nodes, connectivity ${expect.connectivity})`;
    }
    const levelsAt = headAt + HEAD_BYTES + GRAPH_HEADER_BYTES;
    const levels = readAt(fd, nodes * 2, levelsAt);
    if (levels.length < nodes * 2) return 'truncated USearch file (ends inside the node levels)';
    const baseBytes = SLOT_BYTES + connectivityBase * SLOT_BYTES;
    const upperBytes = SLOT_BYTES + connectivity * SLOT_BYTES;
    let nodeBytes = 0;
    for (let i = 0; i < nodes; i++) {
      const level = levels.readInt16LE(i * 2);
      if (level < 0 || level > maxLevel) return `USearch node ${i} has level ${level}, outside 0..${maxLevel}`;
      nodeBytes += NODE_HEAD_BYTES + baseBytes + level * upperBytes;
    }
    const expectedSize = levelsAt + nodes * 2 + nodeBytes;
    if (size !== expectedSize) return `USearch file is ${size} bytes where its own header implies ${expectedSize} (truncated or garbage)`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}
