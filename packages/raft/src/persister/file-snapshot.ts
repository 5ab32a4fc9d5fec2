import { CorruptStateError } from '../errors.js';
import { crc32 } from './file-crc32.js';

/**
 * A snapshot file's byte format:
 *
 *   0  "FLSN"            4  u32le version = 1     8  u64le seq      16 u64le index
 *   24 u64le term        32 u64le data size       40 u32le crc32(data)
 *   44 u32le crc32(bytes 0..44)                   48 data
 *
 * The file is complete when its name is final (it is written as `<name>.tmp` and renamed),
 * and it only counts once a WAL record refers to it by `seq`, so a file that no record
 * refers to is a leftover of a save that never committed.
 */
export const SNAPSHOT_HEADER_BYTES = 48;
export const SNAPSHOT_VERSION = 1;
const SNAPSHOT_MAGIC = Buffer.from('FLSN', 'latin1');
const NAME = /^snapshot-(\d{16})\.snap$/;

export function snapshotFileName(seq: number): string {
  return `snapshot-${String(seq).padStart(16, '0')}.snap`;
}

/** The sequence number in a snapshot file's name, or undefined for any other name. */
export function snapshotFileSeq(name: string): number | undefined {
  const match = NAME.exec(name);
  return match === null ? undefined : Number(match[1]);
}

export interface SnapshotFileMeta {
  readonly seq: number;
  readonly index: number;
  readonly term: number;
  readonly size: number;
  readonly crc: number;
}

export function snapshotHeader(meta: SnapshotFileMeta): Buffer {
  const header = Buffer.alloc(SNAPSHOT_HEADER_BYTES);
  SNAPSHOT_MAGIC.copy(header, 0);
  header.writeUInt32LE(SNAPSHOT_VERSION, 4);
  header.writeBigUInt64LE(BigInt(meta.seq), 8);
  header.writeBigUInt64LE(BigInt(meta.index), 16);
  header.writeBigUInt64LE(BigInt(meta.term), 24);
  header.writeBigUInt64LE(BigInt(meta.size), 32);
  header.writeUInt32LE(meta.crc, 40);
  header.writeUInt32LE(crc32(header.subarray(0, 44)), 44);
  return header;
}

/** Parses and checks a whole snapshot file; any damage throws `CorruptStateError`. */
export function parseSnapshotFile(
  bytes: Buffer,
  path: string,
): SnapshotFileMeta & { readonly data: Buffer } {
  if (bytes.length < SNAPSHOT_HEADER_BYTES) {
    throw new CorruptStateError(
      path,
      bytes.length,
      'truncated',
      'the snapshot file is shorter than its header',
    );
  }
  if (!bytes.subarray(0, 4).equals(SNAPSHOT_MAGIC)) {
    throw new CorruptStateError(path, 0, 'bad-magic', 'not a flotilla raft snapshot file');
  }
  const version = bytes.readUInt32LE(4);
  if (version !== SNAPSHOT_VERSION) {
    throw new CorruptStateError(
      path,
      4,
      'unknown-version',
      `unknown snapshot format version ${version}`,
    );
  }
  if (crc32(bytes.subarray(0, 44)) !== bytes.readUInt32LE(44)) {
    throw new CorruptStateError(path, 0, 'checksum', 'snapshot header checksum mismatch');
  }
  const u64 = (offset: number): number => {
    const value = bytes.readBigUInt64LE(offset);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new CorruptStateError(path, offset, 'malformed', 'snapshot header field out of range');
    }
    return Number(value);
  };
  const meta = {
    seq: u64(8),
    index: u64(16),
    term: u64(24),
    size: u64(32),
    crc: bytes.readUInt32LE(40),
  };
  if (bytes.length !== SNAPSHOT_HEADER_BYTES + meta.size) {
    throw new CorruptStateError(
      path,
      Math.min(bytes.length, SNAPSHOT_HEADER_BYTES + meta.size),
      'truncated',
      `the snapshot file holds ${bytes.length - SNAPSHOT_HEADER_BYTES} data bytes, its header says ${meta.size}`,
    );
  }
  const data = bytes.subarray(SNAPSHOT_HEADER_BYTES);
  if (crc32(data) !== meta.crc) {
    throw new CorruptStateError(
      path,
      SNAPSHOT_HEADER_BYTES,
      'checksum',
      'snapshot data checksum mismatch',
    );
  }
  return { ...meta, data };
}
