/**
 * FilePersister: Raft's durable state in one directory.
 *
 * ## Layout
 *
 *   raft.wal                    the write-ahead log: every save appends one record
 *   snapshot-<seq>.snap         the current snapshot (exactly one once a snapshot was saved)
 *   raft.lock/                  the lock: which process has the directory open (file-lock.ts)
 *   raft.wal.tmp, *.snap.tmp    leftovers of a compaction or snapshot write cut by a crash
 *
 * ## Why a log of updates
 *
 * Raft's state changes by small deltas (a vote, a few appended entries, a truncated tail),
 * and `save` must be durable before the node acknowledges anything, so the cost that matters
 * is the fsync on every save. Appending one record and fdatasync-ing it costs about 150 µs on
 * this disk and is proportional to the update; rewriting the whole state atomically (write
 * tmp + fsync + rename + fsync the directory) costs about 360 µs plus the size of the whole
 * log, every time. So each `save(update)` appends ONE record holding the whole update and
 * fdatasyncs once: the caller batches many entries into one update (group commit), and the
 * update is atomic because the record is — on recovery a record is either complete and
 * checksummed, or it is the torn tail of an append whose save never resolved. fdatasync is
 * enough: an append changes the file size, and fdatasync flushes the metadata needed to read
 * the data back.
 *
 * A record is `u32 length | u32 crc32(payload) | u32 crc32(length, payload crc) | payload`
 * (all little-endian; format in file-wal.ts). The payload is msgpack of the update with each
 * entry kept as its own msgpack bytes, exactly the bytes MemoryPersister keeps, so replay
 * needs no re-encoding and `raftStateSize()` is byte-for-byte MemoryPersister's. The third
 * word, a checksum of the header, makes a record's length trustworthy: a record cut inside
 * its payload is known to be cut there, and bytes of its payload are never taken for a later
 * record when recovery looks for one (file-wal-scan.ts: an invalid record with a valid one
 * after it is corruption; with none after it, a torn tail). The checksum is CRC-32 (the zlib
 * polynomial): Node computes it natively, and it catches every error burst up to 32 bits,
 * which is the job here (torn writes, bit rot, not an adversary); a CRC-32C would have to be
 * computed in JavaScript, about ten times the CPU (≈ 20 µs against 2 µs for a 64-entry record).
 *
 * ## Snapshots
 *
 * A snapshot can be large and changes rarely, so it gets its own file rather than a place in
 * the log: `snapshot-<seq>.snap`, with a checksummed header (seq, index, term, size, data
 * CRC) and written atomically (write `.tmp`, fsync, rename, fsync the directory). The save
 * then appends its WAL record, which references the file by seq, size and CRC. That record is
 * the commit point: a file no record refers to is a leftover of a save that never resolved,
 * and is deleted at open. The previous snapshot file is deleted only after the record is
 * durable, so a crash at any step leaves either the old state or the new one.
 *
 * ## Compaction
 *
 * When the WAL is larger than `compactRatio` (4) × the live state and than `compactMinBytes`
 * (4 MiB), the persister writes the live state (snapshot reference, entries after it, hard
 * state) as a single record into `raft.wal.tmp`, fsyncs it, renames it over `raft.wal` and
 * fsyncs the directory. Rewriting costs the live size once per ~3× that much appended, so
 * appends stay O(update) amortized, the file stays within a few times the live state, and
 * replay at open stays short. A crash before the rename leaves the old WAL (the tmp file is
 * deleted at open); after it, the new WAL, which holds the same state. Compaction runs on the
 * write queue after the save that triggered it has resolved. A compaction that fails before
 * or at the rename (ENOSPC writing the tmp file, EIO on its fsync) changes nothing the WAL
 * depends on: the tmp file is removed, the persister goes on appending to the old WAL, an
 * automatic compaction backs off until the WAL doubles and `compact()` rejects with
 * `PersisterIoError`. Only a failed fsync of the directory after the rename stops the
 * persister (`PersisterFailedError`), since the rename's durability is then unknown.
 *
 * ## Recovery (at `open`)
 *
 * The options are checked first (file-options.ts), then the directory is created if needed
 * and locked against every other FilePersister, in this process or another (file-lock.ts),
 * then its state is read back (file-recovery.ts): a torn final write is cut away and
 * reported through the logger, any other damage throws `CorruptStateError` and changes
 * nothing. A file operation that fails (EIO reading the WAL or a snapshot file, ENOSPC
 * creating the WAL) throws `PersisterIoError` naming the file. Either way the lock is
 * released and nothing is left open. Damaged or unreadable state is never read as empty state.
 *
 * ## Fault injection
 *
 * The option `io` (file-io.ts `FilePersisterIo`, for fault-injection tests and chaos runs)
 * replaces the file operations on the directory: `open` (whose handles `write`, `sync`,
 * `datasync`, `truncate` and `close`), `readFile`, `readdir`, `rename`, `unlink`. Every data
 * file and fsync goes through it; creating the directory and the lock do not. Unset, it is
 * node:fs/promises itself, called directly.
 *
 * ## Running
 *
 * The live state is kept in memory, already encoded, as MemoryPersister keeps it, so `load()`
 * costs only decoding and the sizes are exact. Saves go through one queue and are written in
 * call order; a save resolves once its record is fsynced. The update is encoded when `save` is
 * called, so the caller may reuse its objects at once. If a write or fsync fails (of the WAL
 * or of a new snapshot file), the persister stops: that save and every later one reject with
 * `PersisterFailedError`, whose `cause` is a `PersisterIoError` naming the file and the step
 * (after a failed fsync the kernel may have dropped the dirty pages, so retrying is not safe);
 * nothing is acknowledged after the failure, and the failed save's record is on disk whole,
 * in part (a torn tail, cut at the next open) or not at all. Open the directory again to
 * recover from what reached the disk: every save that resolved is there. After `close()`,
 * saves reject with `PersisterClosedError`. One persister per directory: a second `open` of a
 * directory that is open, in this process or in another live one, throws
 * `PersisterLockedError`; `close()` removes the lock.
 */
import { mkdir, realpath } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isNonNegativeInteger } from '@flotilla/transport/shape';
import { decode, encode } from '../codec.js';
import type { LogEntry } from '../core/messages.js';
import { InvalidUpdateError, PersisterClosedError, PersisterFailedError } from '../errors.js';
import { crc32 } from './file-crc32.js';
import {
  type FilePersisterFile,
  type FilePersisterIo,
  fsyncCreatedDirs,
  fsyncDir,
  ioStep,
  removeQuietly,
  writeAll,
  writeDurableTmp,
} from './file-io.js';
import { type DirLock, lockDir } from './file-lock.js';
import {
  checkOptions,
  type FilePersisterConfig,
  type FilePersisterOptions,
} from './file-options.js';
import { type Recovered, recoverDir, WAL_TMP } from './file-recovery.js';
import { snapshotFileName, snapshotHeader } from './file-snapshot.js';
import {
  applyRecord,
  baseRecord,
  isEmptyState,
  type LiveState,
  liveStateBytes,
} from './file-state.js';
import { frameRecord, type SnapshotRef, WAL_FILE, type WalRecord, walHeader } from './file-wal.js';
import type { HardState, PersistedState, Persister, PersistUpdate } from './persister.js';

export type { FilePersisterFile, FilePersisterIo } from './file-io.js';
export type { FilePersisterOptions } from './file-options.js';

/** A save, encoded when `save` was called, waiting for its turn on the write queue. */
interface PendingSave {
  readonly snapshot?: {
    readonly index: number;
    readonly term: number;
    readonly data: Uint8Array;
    readonly crc: number;
  };
  readonly entries?: { readonly from: number; readonly entries: readonly Uint8Array[] };
  readonly hardState?: Uint8Array;
}

export class FilePersister implements Persister {
  /** The directory, resolved. */
  readonly dir: string;
  readonly #walPath: string;
  readonly #compactRatio: number;
  readonly #compactMinBytes: number;
  readonly #state: LiveState;
  readonly #lock: DirLock;
  readonly #io: FilePersisterIo;
  #wal: FilePersisterFile;
  #walSize: number;
  #nextSeq: number;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #failure: { readonly error: unknown } | undefined;
  #compactionQueued = false;
  /** After a failed compaction, wait for the WAL to reach this size before trying again. */
  #compactionFloor = 0;

  private constructor(
    dir: string,
    recovered: Recovered,
    lock: DirLock,
    config: FilePersisterConfig,
  ) {
    this.dir = dir;
    this.#walPath = join(dir, WAL_FILE);
    this.#wal = recovered.wal;
    this.#walSize = recovered.walSize;
    this.#state = recovered.state;
    this.#nextSeq = recovered.nextSeq;
    this.#lock = lock;
    this.#compactRatio = config.compactRatio;
    this.#compactMinBytes = config.compactMinBytes;
    this.#io = config.io;
  }

  /**
   * Opens (creating it if needed) the directory, locks it and recovers its state; see the
   * rules above. Throws `RaftConfigError` for a bad option (before touching the disk),
   * `PersisterLockedError` if another FilePersister has the directory open (in this process
   * or another live one), `CorruptStateError` for a damaged directory and `PersisterIoError`
   * for a file operation that failed (naming the file); on any of these nothing is left open
   * or locked.
   */
  static async open(dir: string, options: FilePersisterOptions = {}): Promise<FilePersister> {
    const config = checkOptions(dir, options);
    const wanted = resolve(dir);
    const created = await ioStep(wanted, 'mkdir', () => mkdir(wanted, { recursive: true }));
    if (created !== undefined) await fsyncCreatedDirs(config.io, wanted, created);
    const root = await ioStep(wanted, 'realpath', () => realpath(wanted));
    const lock = await lockDir(root, config.logger);
    try {
      return new FilePersister(
        root,
        await recoverDir(config.io, root, config.logger),
        lock,
        config,
      );
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  load(): PersistedState | undefined {
    const state = this.#state;
    if (isEmptyState(state)) return undefined;
    return {
      hardState:
        state.hardState === undefined
          ? { term: 0, votedFor: null }
          : (decode(state.hardState) as HardState),
      snapshot:
        state.snapshot === undefined
          ? undefined
          : {
              index: state.snapshot.index,
              term: state.snapshot.term,
              data: new Uint8Array(state.snapshotData),
            },
      entries: state.entries.map((bytes) => decode(bytes) as LogEntry),
    };
  }

  /**
   * Appends the update to the log and fsyncs it (writing the snapshot file first if the update
   * carries one). Resolves once the update is durable; saves are written in call order.
   */
  save(update: PersistUpdate): Promise<void> {
    if (this.#closed) return Promise.reject(new PersisterClosedError());
    let pending: PendingSave;
    try {
      pending = prepare(update);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#enqueue(() => this.#commit(pending));
  }

  raftStateSize(): number {
    return liveStateBytes(this.#state);
  }

  snapshotSize(): number {
    return this.#state.snapshotData.length;
  }

  /** The WAL's current size in bytes. */
  get walSize(): number {
    return this.#walSize;
  }

  /** Rewrites the WAL to hold only the live state now, whatever its size. */
  compact(): Promise<void> {
    if (this.#closed) return Promise.reject(new PersisterClosedError());
    return this.#enqueue(() => this.#compact());
  }

  /**
   * Waits for queued saves, then closes the files and removes the lock. Later saves reject with
   * `PersisterClosedError`.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closed = true;
      this.#closing = (async () => {
        await this.#queue;
        try {
          await this.#wal.close();
        } finally {
          await this.#lock.release();
        }
      })();
    }
    return this.#closing;
  }

  #enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(job);
    this.#queue = run.catch(() => {});
    return run;
  }

  async #commit(pending: PendingSave): Promise<void> {
    if (this.#failure !== undefined) throw new PersisterFailedError(this.#failure.error);
    if (
      pending.snapshot === undefined &&
      pending.entries === undefined &&
      pending.hardState === undefined
    ) {
      return;
    }
    let ref: SnapshotRef | undefined;
    if (pending.snapshot !== undefined) {
      const { index, term, data, crc } = pending.snapshot;
      ref = { index, term, seq: this.#nextSeq++, size: data.length, crc };
    }
    const record: WalRecord = {
      snapshot: ref,
      entries: pending.entries,
      hardState: pending.hardState,
    };
    // Framing can refuse an oversized update; that is not a disk failure.
    const framed = frameRecord(record);
    try {
      if (ref !== undefined && pending.snapshot !== undefined) {
        await this.#writeSnapshotFile(ref, pending.snapshot.data);
      }
      await writeAll(this.#wal, this.#walPath, [framed], this.#walSize);
      const wal = this.#wal;
      await ioStep(this.#walPath, 'fsync', () => wal.datasync());
    } catch (error) {
      this.#failure = { error };
      throw new PersisterFailedError(error);
    }
    // Durable: now the live state and the old snapshot file can follow.
    this.#walSize += framed.length;
    const previous = this.#state.snapshot;
    applyRecord(this.#state, record);
    if (ref !== undefined && pending.snapshot !== undefined) {
      this.#state.snapshotData = pending.snapshot.data;
      if (previous !== undefined) {
        await removeQuietly(this.#io, join(this.dir, snapshotFileName(previous.seq)));
      }
    }
    this.#maybeCompact();
  }

  async #writeSnapshotFile(ref: SnapshotRef, data: Uint8Array): Promise<void> {
    const name = snapshotFileName(ref.seq);
    const tmpPath = join(this.dir, `${name}.tmp`);
    const path = join(this.dir, name);
    const { handle } = await writeDurableTmp(this.#io, tmpPath, [snapshotHeader(ref), data]);
    try {
      await ioStep(path, 'rename', () => this.#io.rename(tmpPath, path));
    } finally {
      await handle.close().catch(() => {});
    }
    await fsyncDir(this.#io, this.dir);
  }

  #maybeCompact(): void {
    if (this.#compactionQueued || this.#closed) return;
    const threshold = Math.max(
      this.#compactMinBytes,
      this.#compactRatio * this.raftStateSize(),
      this.#compactionFloor,
    );
    if (this.#walSize <= threshold) return;
    this.#compactionQueued = true;
    this.#enqueue(async () => {
      this.#compactionQueued = false;
      if (this.#closed) return;
      // A failed automatic compaction leaves the old WAL in place (or, past the rename, fails
      // the persister, which the next save reports); back off until the WAL doubles.
      await this.#compact().catch(() => {
        this.#compactionFloor = this.#walSize * 2;
      });
    }).catch(() => {});
  }

  async #compact(): Promise<void> {
    if (this.#failure !== undefined) throw new PersisterFailedError(this.#failure.error);
    const chunks: Uint8Array[] = [walHeader()];
    if (!isEmptyState(this.#state)) chunks.push(frameRecord(baseRecord(this.#state)));
    const tmpPath = join(this.dir, WAL_TMP);
    // Up to the rename, a failure leaves the old WAL as it was.
    const { handle, size } = await writeDurableTmp(this.#io, tmpPath, chunks);
    try {
      await ioStep(this.#walPath, 'rename', () => this.#io.rename(tmpPath, this.#walPath));
    } catch (error) {
      await handle.close().catch(() => {});
      await removeQuietly(this.#io, tmpPath);
      throw error;
    }
    const old = this.#wal;
    this.#wal = handle;
    this.#walSize = size;
    await old.close().catch(() => {});
    try {
      await fsyncDir(this.#io, this.dir);
    } catch (error) {
      // The rename may or may not survive a crash; the state is the same either way, but an
      // fsync that failed cannot be trusted to succeed later.
      this.#failure = { error };
      throw new PersisterFailedError(error);
    }
  }
}

/** Checks and encodes an update when `save` is called. */
function prepare(update: PersistUpdate): PendingSave {
  const result: {
    snapshot?: PendingSave['snapshot'];
    entries?: PendingSave['entries'];
    hardState?: Uint8Array;
  } = {};
  if (update.snapshot !== undefined) {
    const { index, term, data } = update.snapshot;
    if (!isNonNegativeInteger(index) || !isNonNegativeInteger(term)) {
      throw new InvalidUpdateError('snapshot index and term must be non-negative integers');
    }
    if (!(data instanceof Uint8Array)) throw new InvalidUpdateError('snapshot data must be bytes');
    const copy = new Uint8Array(data);
    result.snapshot = { index, term, data: copy, crc: crc32(copy) };
  }
  if (update.entries !== undefined) {
    const { from, entries } = update.entries;
    if (!Number.isSafeInteger(from))
      throw new InvalidUpdateError('entries.from must be an integer');
    if (!Array.isArray(entries)) throw new InvalidUpdateError('entries.entries must be an array');
    result.entries = { from, entries: entries.map((entry: LogEntry) => encode(entry)) };
  }
  if (update.hardState !== undefined) result.hardState = encode(update.hardState);
  return result;
}
