/**
 * The one binary container every index file uses: a 48-byte header then a payload.
 *
 *   offset  size  field
 *   0       8     magic "RAREMINE"
 *   8       4     kind, 4 ASCII bytes naming the structure ("DTXT", "POST", ...)
 *   12      2     format version of that kind (u16 LE)
 *   14      2     storage version (u16 LE): 2; files from before build ids have 0 here (storage version 1)
 *   16      8     payload length in bytes (u64 LE)
 *   24      16    build id: the identity of the index build the file belongs to (random, see manifest.ts)
 *   40      4     CRC-32 of the payload (u32 LE)
 *   44      4     CRC-32 of header bytes 0..43 (u32 LE)
 *   48      ...   payload
 *
 * Writers stream the payload and write the header last, so a file cut short by a crash has a zero header and
 * never verifies. Readers check magic, storage version, kind, version, length, build id and both checksums
 * before anything is used; any mismatch is an IndexError that says to rebuild — wrong results are never
 * returned from a damaged file, nor from a file of another build (a valid file copied in from another index).
 */
import { closeSync, fsyncSync, onPath, openSync, readFullSync, writeAllSync, fstatSync } from '../io/fs.js';
import { crc32 } from 'node:zlib';
import { IndexError } from '../errors.js';

export const HEADER_BYTES = 48;
const MAGIC = Buffer.from('RAREMINE', 'latin1');
/** Bytes of a build id (hex: twice as many characters). */
export const BUILD_ID_BYTES = 16;

/**
 * The storage version covers what every part shares: this header and the manifest envelope (manifest.ts).
 * Version 2 added build ids and manifest checksums; version 1 (header byte 14 = 0) is refused with a rebuild hint.
 */
export const STORAGE_VERSIONS = { current: 2, oldestReadable: 2 } as const;

function buildIdBytes(buildId: string): Buffer {
  if (!new RegExp(`^[0-9a-f]{${BUILD_ID_BYTES * 2}}$`).test(buildId)) throw new Error(`build id must be ${BUILD_ID_BYTES * 2} hex digits: ${buildId}`);
  return Buffer.from(buildId, 'hex');
}
const STAGE_BYTES = 1 << 22;

export class ContainerWriter {
  private readonly fd: number;
  private crc = 0;
  private length = 0;
  /** One staging buffer, allocated once: small writes are copied into it; large ones go straight to the file. */
  private readonly stage = Buffer.allocUnsafe(STAGE_BYTES);
  private staged = 0;

  private readonly buildId: Buffer;

  /** `buildId` is the part's (manifest.ts newBuildId), the same for every file of one build. */
  constructor(readonly path: string, readonly kind: string, readonly version: number, buildId: string) {
    if (kind.length !== 4) throw new Error(`container kind must be 4 characters: ${kind}`);
    this.buildId = buildIdBytes(buildId);
    this.fd = openSync(path, 'w');
    try {
      writeAllSync(this.fd, Buffer.alloc(HEADER_BYTES), path, 0);
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /** Append payload bytes. */
  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.length > STAGE_BYTES / 4) {
      this.flush();
      this.crc = crc32(view, this.crc);
      this.writeAt(view, HEADER_BYTES + this.length);
      this.length += view.length;
      return;
    }
    if (this.staged + view.length > STAGE_BYTES) this.flush();
    view.copy(this.stage, this.staged);
    this.staged += view.length;
  }

  /** Append a string as UTF-8, encoded straight into the staging buffer when it fits. Returns its byte length. */
  writeString(text: string): number {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > STAGE_BYTES / 4) {
      this.write(Buffer.from(text, 'utf8'));
      return bytes;
    }
    if (this.staged + bytes > STAGE_BYTES) this.flush();
    this.stage.write(text, this.staged, 'utf8');
    this.staged += bytes;
    return bytes;
  }

  /** Payload bytes written so far (staged included). */
  get payloadBytes(): number {
    return this.length + this.staged;
  }

  private writeAt(bytes: Buffer, position: number): void {
    writeAllSync(this.fd, bytes, this.path, position);
  }

  private flush(): void {
    if (this.staged === 0) return;
    const chunk = this.stage.subarray(0, this.staged);
    this.crc = crc32(chunk, this.crc);
    this.writeAt(chunk, HEADER_BYTES + this.length);
    this.length += this.staged;
    this.staged = 0;
  }

  private closed = false;

  /** Close the file once (finish and abort may both be called: a build that fails after this file was finished). */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    onPath(this.path, () => closeSync(this.fd));
  }

  /**
   * Close without writing the header (a build that failed): the file never verifies. Called while another error is
   * on its way out, so it throws nothing itself; after finish() it does nothing.
   */
  abort(): void {
    try {
      this.close();
    } catch {
      // the build's own error is the one to report; the file, headerless, never verifies
    }
  }

  /** Flush the payload, write the header, fsync and close. */
  finish(): void {
    this.flush();
    const header = Buffer.alloc(HEADER_BYTES);
    MAGIC.copy(header, 0);
    header.write(this.kind, 8, 'latin1');
    header.writeUInt16LE(this.version, 12);
    header.writeUInt16LE(STORAGE_VERSIONS.current, 14);
    header.writeBigUInt64LE(BigInt(this.length), 16);
    this.buildId.copy(header, 24);
    header.writeUInt32LE(this.crc >>> 0, 40);
    header.writeUInt32LE(crc32(header.subarray(0, 44)) >>> 0, 44);
    try {
      writeAllSync(this.fd, header, this.path, 0);
      onPath(this.path, () => fsyncSync(this.fd));
    } finally {
      this.close();
    }
  }
}

export interface ContainerVersions {
  /** Version this build writes. */
  current: number;
  /** Oldest version this build still reads. */
  oldestReadable: number;
}

/** An opened, verified container: random access to the payload by pread. */
export class ContainerReader {
  readonly payloadBytes: number;
  readonly version: number;
  private fd: number;

  /**
   * Open and verify. `rebuildHint` is the command that rebuilds this index, quoted in errors; `buildId` is the
   * one the part's manifest records: a file of another build is refused even when its checksums hold.
   */
  /** The payload's CRC-32 from the header, when the caller verifies it while reading (readWholePayload). */
  private readonly deferredCrc?: number;
  private readonly hint: string;

  constructor(readonly path: string, readonly kind: string, versions: ContainerVersions, rebuildHint: string, buildId: string, { deferChecksum = false }: { deferChecksum?: boolean } = {}) {
    const hint = `rebuild the index: ${rebuildHint} --rebuild`;
    this.hint = hint;
    const fail = (what: string): never => {
      throw new IndexError(`${path}: ${what}`, { hint });
    };
    try {
      this.fd = openSync(path, 'r');
    } catch (cause) {
      throw new IndexError(`${path}: cannot open (${(cause as Error).message})`, { cause, hint });
    }
    try {
      const stat = fstatSync(this.fd);
      if (!stat.isFile()) fail('not a regular file');
      const size = stat.size;
      const header = Buffer.alloc(HEADER_BYTES);
      readFullSync(this.fd, header, 0, Math.min(HEADER_BYTES, size), 0, path);
      if (size < 16) fail('file is truncated (shorter than its header)');
      if (!header.subarray(0, 8).equals(MAGIC)) fail('not a rare-mine index file (bad magic); it may be from an interrupted build');
      const storage = header.readUInt16LE(14) === 0 ? 1 : header.readUInt16LE(14);
      if (storage < STORAGE_VERSIONS.oldestReadable) {
        fail(`written by an older rare-mine (storage version ${storage}, without build ids; this one reads ${STORAGE_VERSIONS.oldestReadable}..${STORAGE_VERSIONS.current})`);
      }
      if (size < HEADER_BYTES) fail('file is truncated (shorter than its header)');
      if ((crc32(header.subarray(0, 44)) >>> 0) !== header.readUInt32LE(44)) fail('header checksum mismatch (file is corrupted)');
      if (storage > STORAGE_VERSIONS.current) fail(`storage version ${storage} is newer than this rare-mine reads (${STORAGE_VERSIONS.current}); upgrade rare-mine or rebuild`);
      const storedKind = header.toString('latin1', 8, 12);
      if (storedKind !== this.kind) fail(`holds a "${storedKind}" structure where "${this.kind}" was expected`);
      this.version = header.readUInt16LE(12);
      if (this.version > versions.current) fail(`format version ${this.version} is newer than this rare-mine reads (${versions.current}); upgrade rare-mine or rebuild`);
      if (this.version < versions.oldestReadable) fail(`format version ${this.version} is older than this rare-mine reads (oldest ${versions.oldestReadable})`);
      const storedBuild = header.toString('hex', 24, 24 + BUILD_ID_BYTES);
      if (storedBuild !== buildId) fail(`belongs to another index build (build id ${storedBuild}, where the manifest says ${buildId}): a file copied in from another index?`);
      this.payloadBytes = Number(header.readBigUInt64LE(16));
      if (size !== HEADER_BYTES + this.payloadBytes) fail(`file is ${size} bytes where its header says ${HEADER_BYTES + this.payloadBytes} (truncated or appended to)`);
      const expectedCrc = header.readUInt32LE(40);
      if (deferChecksum) {
        // The caller reads the whole payload through readWholePayload, which checks it on the way: one pass
        // over a large file (postings.bin: 1.8 GB at 8.8M passages) instead of two.
        this.deferredCrc = expectedCrc;
        return;
      }
      let crc = 0;
      const chunk = Buffer.allocUnsafe(1 << 22);
      for (let at = 0; at < this.payloadBytes; ) {
        const n = readFullSync(this.fd, chunk, 0, Math.min(chunk.length, this.payloadBytes - at), HEADER_BYTES + at, path);
        if (n <= 0) fail('unexpected end of file');
        crc = crc32(chunk.subarray(0, n), crc);
        at += n;
      }
      if ((crc >>> 0) !== expectedCrc) fail('payload checksum mismatch (file is corrupted)');
    } catch (error) {
      closeSync(this.fd);
      throw error;
    }
  }

  /** Read `length` payload bytes at payload offset `offset`. */
  read(offset: number, length: number, into?: Buffer): Buffer {
    const out = into ?? Buffer.allocUnsafe(length);
    const done = readFullSync(this.fd, out, 0, length, HEADER_BYTES + offset, this.path);
    if (done < length) throw new IndexError(`${this.path}: unexpected end of file at ${offset + done}`);
    return out;
  }

  /**
   * Read the whole payload, in order, into `targets` (their lengths add up to the payload's), checking the payload
   * checksum as it goes: for a reader opened with `deferChecksum`, whose bytes must not be used before this returns.
   * @throws IndexError when the checksum does not match (the targets then hold unverified bytes)
   */
  readWholePayload(targets: readonly Buffer[]): void {
    const expected = this.deferredCrc; // undefined: verified when opened, nothing to check again
    let at = 0;
    let crc = 0;
    for (const target of targets) {
      this.read(at, target.length, target);
      if (expected !== undefined) crc = crc32(target, crc);
      at += target.length;
    }
    if (at !== this.payloadBytes) throw new IndexError(`${this.path}: ${at} bytes read of a ${this.payloadBytes}-byte payload`, { hint: this.hint });
    if (expected !== undefined && (crc >>> 0) !== expected) throw new IndexError(`${this.path}: payload checksum mismatch (file is corrupted)`, { hint: this.hint });
  }

  /** The whole payload in memory (for small structures: tables, dictionaries). */
  readAll(): Buffer {
    return this.read(0, this.payloadBytes);
  }

  close(): void {
    if (this.fd >= 0) onPath(this.path, () => closeSync(this.fd));
    this.fd = -1;
  }
}
