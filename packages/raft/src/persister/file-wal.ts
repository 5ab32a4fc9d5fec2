import { isNonNegativeInteger, isRecord } from '@flotilla/transport/shape';
import { Packr } from 'msgpackr';
import { CorruptStateError } from '../errors.js';
import { crc32 } from './file-crc32.js';

/**
 * The write-ahead log's byte format (see the header comment of file-persister.ts for why it
 * looks like this, and file-wal-scan.ts for how recovery reads it).
 *
 *   file   := header record*
 *   header := "FLWL" u32le(version = 1)                                   (8 bytes)
 *   record := u32le(n) u32le(crc32(payload)) u32le(crc32(first 8 bytes)) payload[n]
 *   payload := msgpack map { s?: {i, t, q, n, c}, f?: from, e?: bin[], h?: bin }
 *
 * `e` holds each entry as its own msgpack encoding (exactly the bytes MemoryPersister keeps),
 * `h` the encoded hard state, `s` a reference to a snapshot file: index, term, the file's
 * sequence number, the data's size and CRC.
 */
export const WAL_FILE = 'raft.wal';
export const WAL_VERSION = 1;
export const WAL_HEADER_BYTES = 8;
export const RECORD_HEADER_BYTES = 12;
const WAL_MAGIC = Buffer.from('FLWL', 'latin1');
const MAX_PAYLOAD_BYTES = 0xffff_ffff;

/** Where the snapshot lives and what it must hold. */
export interface SnapshotRef {
  readonly index: number;
  readonly term: number;
  /** Sequence number of its file, `snapshot-<seq>.snap`. */
  readonly seq: number;
  readonly size: number;
  readonly crc: number;
}

/** One persisted update, already encoded: the unit of the WAL. */
export interface WalRecord {
  readonly snapshot?: SnapshotRef | undefined;
  readonly entries?: { readonly from: number; readonly entries: readonly Uint8Array[] } | undefined;
  readonly hardState?: Uint8Array | undefined;
}

/** `copyBuffers`: decoded entries must not pin the whole WAL file buffer read at recovery. */
const packr = new Packr({ useRecords: false, copyBuffers: true });

export function walHeader(): Buffer {
  const header = Buffer.alloc(WAL_HEADER_BYTES);
  WAL_MAGIC.copy(header, 0);
  header.writeUInt32LE(WAL_VERSION, 4);
  return header;
}

/**
 * Checks the file header. A WAL is only ever created whole (written, fsynced, renamed), so a
 * short or foreign header is damage, never a torn write.
 */
export function checkWalHeader(bytes: Buffer, path: string): void {
  if (bytes.length < WAL_HEADER_BYTES) {
    throw new CorruptStateError(path, 0, 'truncated', 'the log file is shorter than its header');
  }
  if (!bytes.subarray(0, 4).equals(WAL_MAGIC)) {
    throw new CorruptStateError(path, 0, 'bad-magic', 'not a flotilla raft log file');
  }
  const version = bytes.readUInt32LE(4);
  if (version !== WAL_VERSION) {
    throw new CorruptStateError(
      path,
      4,
      'unknown-version',
      `unknown log format version ${version}`,
    );
  }
}

/** The bytes of one record, header included: what one `save` appends with one write. */
export function frameRecord(record: WalRecord): Buffer {
  const wire: Record<string, unknown> = {};
  const { snapshot, entries, hardState } = record;
  if (snapshot !== undefined) {
    wire.s = {
      i: snapshot.index,
      t: snapshot.term,
      q: snapshot.seq,
      n: snapshot.size,
      c: snapshot.crc,
    };
  }
  if (entries !== undefined) {
    wire.f = entries.from;
    wire.e = entries.entries;
  }
  if (hardState !== undefined) wire.h = hardState;
  const payload = packr.pack(wire);
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(
      `a persisted update of ${payload.length} bytes exceeds the 4 GiB record limit`,
    );
  }
  const framed = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  framed.writeUInt32LE(payload.length, 0);
  framed.writeUInt32LE(crc32(payload), 4);
  framed.writeUInt32LE(crc32(framed.subarray(0, 8)), 8);
  payload.copy(framed, RECORD_HEADER_BYTES);
  return framed;
}

/**
 * Decodes a record's payload (its checksums already matched). A payload that is not a record
 * is `CorruptStateError` ('malformed'): a write that passed both checksums was written whole,
 * so this is not a torn append.
 */
export function decodeRecord(payload: Uint8Array, path: string, offset: number): WalRecord {
  const malformed = (detail: string, cause?: unknown): CorruptStateError =>
    new CorruptStateError(
      path,
      offset,
      'malformed',
      detail,
      cause === undefined ? undefined : { cause },
    );
  let wire: unknown;
  try {
    wire = packr.unpack(payload);
  } catch (error) {
    throw malformed('undecodable record payload', error);
  }
  if (!isRecord(wire)) throw malformed('a record is not a map');
  for (const key of Object.keys(wire)) {
    if (key !== 's' && key !== 'f' && key !== 'e' && key !== 'h')
      throw malformed(`unknown field ${key}`);
  }
  let snapshot: SnapshotRef | undefined;
  if (wire.s !== undefined) {
    const s = wire.s;
    if (!isRecord(s) || ![s.i, s.t, s.q, s.n, s.c].every(isNonNegativeInteger)) {
      throw malformed('bad snapshot reference');
    }
    snapshot = {
      index: s.i as number,
      term: s.t as number,
      seq: s.q as number,
      size: s.n as number,
      crc: s.c as number,
    };
  }
  let entries: WalRecord['entries'];
  if (wire.f !== undefined || wire.e !== undefined) {
    const { f, e } = wire;
    if (!Number.isSafeInteger(f) || !Array.isArray(e) || !e.every((x) => x instanceof Uint8Array)) {
      throw malformed('bad entries');
    }
    entries = { from: f as number, entries: e as Uint8Array[] };
  }
  let hardState: Uint8Array | undefined;
  if (wire.h !== undefined) {
    if (!(wire.h instanceof Uint8Array)) throw malformed('bad hard state');
    hardState = wire.h;
  }
  return { snapshot, entries, hardState };
}
