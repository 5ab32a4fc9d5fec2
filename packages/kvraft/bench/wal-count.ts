/**
 * Entries per fsync of a running kvraft replica, read from its FilePersister's WAL: neither
 * FilePersister nor RaftNode exposes a save counter, and the replicas are other processes, so
 * this follows the WAL file as it grows. Each `save` appends exactly one record and fdatasyncs
 * once (packages/raft/src/persister/file-persister.ts; an empty update writes nothing and does
 * not sync), so records appended = fsyncs of the WAL, and the entries in them = entries
 * written. Not counted: the snapshot file's own fsyncs (none here: the bench runs without
 * --maxraftstate) and a compaction's rewrite (the WAL is replaced; `take` then says so).
 *
 * The format (packages/raft/src/persister/file-wal.ts): an 8-byte header, then records
 * `u32le(n) u32le(crc) u32le(crc of the first 8 bytes) payload[n]`, the payload a msgpack map
 * { s?: {…}, f?: from, e?: bin[], h?: bin }. Only the length words and the array header of
 * `e` are read; checksums are not checked (recovery's job, not a bench's).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const FILE_HEADER_BYTES = 8;
const RECORD_HEADER_BYTES = 12;

/** Records (= fsyncs) and the log entries they held, since the previous `take`. */
export interface WalDelta {
  readonly records: number;
  readonly entries: number;
  /** False when the WAL was replaced (compacted) in between: the counts are then partial. */
  readonly exact: boolean;
}

export class WalCounter {
  readonly #path: string;
  #ino: number | undefined;
  /** Offset of the next record not yet counted. */
  #offset = FILE_HEADER_BYTES;

  constructor(path: string) {
    this.#path = path;
  }

  /** Counts the complete records appended since the last call (the first call: since creation). */
  take(): WalDelta {
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return { records: 0, entries: 0, exact: this.#ino === undefined };
    }
    try {
      const { ino, size } = fstatSync(fd);
      let exact = true;
      if (this.#ino !== undefined && ino !== this.#ino) {
        // Compacted: a new file holding one record of the whole state; start over after it.
        exact = false;
        this.#offset = FILE_HEADER_BYTES;
      }
      this.#ino = ino;
      let records = 0;
      let entries = 0;
      // What was appended since last time, in one read (a few MB at most between two takes).
      const bytes = Buffer.alloc(Math.max(0, size - this.#offset));
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, this.#offset + got);
        if (n === 0) break;
        got += n;
      }
      let pos = 0;
      while (pos + RECORD_HEADER_BYTES <= got) {
        const length = bytes.readUInt32LE(pos);
        const end = pos + RECORD_HEADER_BYTES + length;
        if (length === 0 || end > got) break; // being written: count it next time
        entries += entriesIn(bytes.subarray(pos + RECORD_HEADER_BYTES, end));
        records++;
        pos = end;
      }
      this.#offset += pos;
      return { records, entries, exact };
    } finally {
      closeSync(fd);
    }
  }
}

/** The length of the `e` array of a record's payload (0 when it has none). */
export function entriesIn(payload: Buffer): number {
  const r = new Reader(payload);
  const keys = r.mapHeader();
  for (let k = 0; k < keys; k++) {
    const key = r.str();
    if (key === 'e') return r.arrayHeader();
    r.skip();
  }
  return 0;
}

/** Bytes after the type byte of msgpack's fixed-width numbers: uint8…64, int8…64, float32/64. */
const FIXED_WIDTH: Readonly<Record<number, number>> = {
  204: 1,
  205: 2,
  206: 4,
  207: 8,
  208: 1,
  209: 2,
  210: 4,
  211: 8,
  202: 4,
  203: 8,
};

/** Just enough of msgpack to walk a WAL record's top-level map. */
class Reader {
  readonly #b: Buffer;
  #p = 0;

  constructor(b: Buffer) {
    this.#b = b;
  }

  #byte(): number {
    const x = this.#b[this.#p++];
    if (x === undefined) throw new Error('WAL record: truncated msgpack');
    return x;
  }

  #uint(bytes: 1 | 2 | 4): number {
    const b = this.#b;
    const x =
      bytes === 1
        ? b.readUInt8(this.#p)
        : bytes === 2
          ? b.readUInt16BE(this.#p)
          : b.readUInt32BE(this.#p);
    this.#p += bytes;
    return x;
  }

  mapHeader(): number {
    const t = this.#byte();
    if (t >= 0x80 && t <= 0x8f) return t & 0x0f;
    if (t === 0xde) return this.#uint(2);
    if (t === 0xdf) return this.#uint(4);
    throw new Error(`WAL record: expected a map, got 0x${t.toString(16)}`);
  }

  arrayHeader(): number {
    const t = this.#byte();
    if (t >= 0x90 && t <= 0x9f) return t & 0x0f;
    if (t === 0xdc) return this.#uint(2);
    if (t === 0xdd) return this.#uint(4);
    throw new Error(`WAL record: expected an array, got 0x${t.toString(16)}`);
  }

  str(): string {
    const t = this.#byte();
    let n: number;
    if (t >= 0xa0 && t <= 0xbf) n = t & 0x1f;
    else if (t === 0xd9) n = this.#uint(1);
    else if (t === 0xda) n = this.#uint(2);
    else if (t === 0xdb) n = this.#uint(4);
    else throw new Error(`WAL record: expected a string, got 0x${t.toString(16)}`);
    const s = this.#b.toString('utf8', this.#p, this.#p + n);
    this.#p += n;
    return s;
  }

  /** Skips one value of any type. */
  skip(): void {
    const inside = this.#skipOne();
    for (let i = 0; i < inside; i++) this.skip();
  }

  /** Skips one value's own bytes; returns how many values it contains (a map's keys count). */
  #skipOne(): number {
    const t = this.#byte();
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) return 0;
    if (t >= 0x80 && t <= 0x8f) return (t & 0x0f) * 2; // fixmap
    if (t >= 0x90 && t <= 0x9f) return t & 0x0f; // fixarray
    if (t >= 0xa0 && t <= 0xbf) {
      this.#p += t & 0x1f; // fixstr
      return 0;
    }
    const width = FIXED_WIDTH[t];
    if (width !== undefined) {
      this.#p += width;
      return 0;
    }
    switch (t) {
      case 0xc4: // bin 8, 16, 32; str 8, 16, 32
      case 0xd9:
        this.#p += this.#uint(1);
        return 0;
      case 0xc5:
      case 0xda:
        this.#p += this.#uint(2);
        return 0;
      case 0xc6:
      case 0xdb:
        this.#p += this.#uint(4);
        return 0;
      case 0xdc: // array 16, 32; map 16, 32
        return this.#uint(2);
      case 0xdd:
        return this.#uint(4);
      case 0xde:
        return this.#uint(2) * 2;
      case 0xdf:
        return this.#uint(4) * 2;
      default:
        throw new Error(`WAL record: unexpected msgpack type 0x${t.toString(16)}`);
    }
  }
}
