import { CorruptStateError } from '../errors.js';
import { crc32 } from './file-crc32.js';
import {
  checkWalHeader,
  decodeRecord,
  RECORD_HEADER_BYTES,
  WAL_HEADER_BYTES,
  type WalRecord,
} from './file-wal.js';

/**
 * Reading a WAL back at open: which damage is a torn tail and which is corruption.
 *
 * Saves are appended one at a time, and each append starts only after the previous one's
 * fdatasync returned. So a crash can damage only the last append, whose save never resolved,
 * and never leaves a valid record after a damaged one. What a crash can leave of that last
 * append: a record cut anywhere (the file ends inside its header or its payload), zero bytes
 * where data was not written yet (a filesystem may extend the file before writing its
 * blocks), or blocks written out of order (a payload or header checksum mismatch). Hence:
 *
 * - the first invalid record, with no valid record anywhere after it, is a **torn tail**: the
 *   file is cut back to where it starts, whatever it looks like;
 * - an invalid record followed by at least one valid record is **corruption**
 *   (`CorruptStateError` at the invalid record's offset): that cannot be a crash, and cutting
 *   there would drop acknowledged saves;
 * - a record whose checksums match but whose payload does not decode is corruption too: it
 *   was written whole.
 *
 * "Valid record after it": a frame whose header checksum and payload checksum both match,
 * starting at any byte after the invalid record's start — or, when the invalid record's
 * header checksum matches (its length can be trusted), at or after its declared end, so that
 * bytes inside its own payload are never mistaken for a later record. The cost of the search
 * is paid only on damage. A payload that itself contains a well-formed frame (a command that
 * is a copy of WAL bytes) could make a torn record with a damaged header read as corruption:
 * the safe direction (open refuses, nothing is lost).
 */

export type TornKind = 'short' | 'zeroed' | 'checksum';

export interface TornTail {
  /** Where the dropped bytes start: the end of the last valid record. */
  readonly offset: number;
  readonly bytes: number;
  /** What the tail looked like: cut short, all zero bytes, or a checksum mismatch. */
  readonly kind: TornKind;
}

export interface WalScan {
  readonly records: readonly { readonly offset: number; readonly record: WalRecord }[];
  /** Where the last valid record ends: the file is cut back to this length. */
  readonly end: number;
  /** What is cut away, if anything. */
  readonly torn: TornTail | undefined;
}

/** One frame at a position, checked without decoding it. */
type Frame =
  | { readonly valid: true; readonly end: number }
  | {
      readonly valid: false;
      /** The first byte where a later valid record could start. */
      readonly resumeAt: number;
      /** The file ends before the frame does (inside its header or its declared payload). */
      readonly short: boolean;
      readonly detail: string;
    };

function frameAt(bytes: Buffer, pos: number): Frame {
  if (bytes.length - pos < RECORD_HEADER_BYTES) {
    return { valid: false, resumeAt: pos + 1, short: true, detail: 'cut inside its header' };
  }
  const length = bytes.readUInt32LE(pos);
  if (crc32(bytes.subarray(pos, pos + 8)) !== bytes.readUInt32LE(pos + 8)) {
    return {
      valid: false,
      resumeAt: pos + 1,
      short: false,
      detail: 'record header checksum mismatch',
    };
  }
  // Never written: every payload is a msgpack map of at least one byte.
  if (length === 0)
    return { valid: false, resumeAt: pos + 1, short: false, detail: 'empty record' };
  // The header is intact, so its length is trusted: no later record starts before `end`.
  const end = pos + RECORD_HEADER_BYTES + length;
  if (end > bytes.length) {
    return { valid: false, resumeAt: end, short: true, detail: 'cut inside its payload' };
  }
  if (crc32(bytes.subarray(pos + RECORD_HEADER_BYTES, end)) !== bytes.readUInt32LE(pos + 4)) {
    return {
      valid: false,
      resumeAt: end,
      short: false,
      detail: 'record payload checksum mismatch',
    };
  }
  return { valid: true, end };
}

/** The offset of the first valid frame at or after `from`, if there is one. */
function nextValidFrame(bytes: Buffer, from: number): number | undefined {
  for (let pos = from; pos + RECORD_HEADER_BYTES < bytes.length; pos++) {
    // Cheap filter first: a valid frame's declared payload is non-empty and fits the file.
    const length = bytes.readUInt32LE(pos);
    if (length === 0 || pos + RECORD_HEADER_BYTES + length > bytes.length) continue;
    if (frameAt(bytes, pos).valid) return pos;
  }
  return undefined;
}

function isZero(bytes: Buffer, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Reads a whole WAL (the rules above). Returns the valid records and the torn tail to cut, or
 * throws `CorruptStateError`.
 */
export function scanWal(bytes: Buffer, path: string): WalScan {
  checkWalHeader(bytes, path);
  const records: { offset: number; record: WalRecord }[] = [];
  let pos = WAL_HEADER_BYTES;
  while (pos < bytes.length) {
    const frame = frameAt(bytes, pos);
    if (frame.valid) {
      const payload = bytes.subarray(pos + RECORD_HEADER_BYTES, frame.end);
      records.push({ offset: pos, record: decodeRecord(payload, path, pos) });
      pos = frame.end;
      continue;
    }
    const later = nextValidFrame(bytes, frame.resumeAt);
    if (later !== undefined) {
      throw new CorruptStateError(
        path,
        pos,
        frame.detail === 'empty record' ? 'malformed' : 'checksum',
        `${frame.detail}, and a valid record follows at byte ${later}`,
      );
    }
    const kind: TornKind = isZero(bytes, pos) ? 'zeroed' : frame.short ? 'short' : 'checksum';
    return { records, end: pos, torn: { offset: pos, bytes: bytes.length - pos, kind } };
  }
  return { records, end: pos, torn: undefined };
}
