import { join } from 'node:path';
import type { RaftLogger } from '../env.js';
import { CorruptStateError } from '../errors.js';
import {
  type FilePersisterFile,
  type FilePersisterIo,
  fsyncDir,
  ioStep,
  removeQuietly,
  writeDurableTmp,
} from './file-io.js';
import { parseSnapshotFile, snapshotFileName, snapshotFileSeq } from './file-snapshot.js';
import { applyRecord, emptyState, type LiveState } from './file-state.js';
import { WAL_FILE, walHeader } from './file-wal.js';
import { scanWal } from './file-wal-scan.js';

/**
 * Recovery at `FilePersister.open`, once the directory is locked.
 *
 * - No `raft.wal` and no snapshot file: a fresh node. An empty WAL is created atomically, and
 *   `load()` returns undefined. A WAL with no records also loads as undefined.
 * - A torn tail (file-wal-scan.ts: the last record cut short, zeroed or failing its checksum,
 *   with no valid record after it) is a save that never resolved: it is cut away, the
 *   truncation fsynced, and reported once through the logger.
 * - Everything else throws `CorruptStateError` (code `ERR_CORRUPT_STATE`, with the damaged
 *   file's path and the byte offset) and changes nothing on disk: an invalid record followed
 *   by a valid one; a record whose checksums match but whose payload does not decode; a WAL
 *   shorter than its header, with a wrong magic or an unknown version (a WAL is only ever
 *   created whole, by rename); a snapshot file that is cut short, has a bad header, an
 *   unknown version or a data checksum mismatch, or does not match the record that refers to
 *   it; a WAL whose latest snapshot reference names a missing file; snapshot files without a
 *   WAL. Damaged state is never read as empty state.
 * - `*.tmp` files and snapshot files no record refers to are deleted.
 * - A file operation that fails (EIO reading the WAL or a snapshot, ENOSPC creating the WAL…)
 *   throws `PersisterIoError` naming the file; like corruption, the directory is not read as
 *   anything, and what was changed (a truncation, a removed leftover) was repair that is
 *   valid whether or not the rest happens.
 */

export const WAL_TMP = `${WAL_FILE}.tmp`;

export interface Recovered {
  /** The WAL, open for appending at `walSize`. */
  readonly wal: FilePersisterFile;
  readonly walSize: number;
  readonly state: LiveState;
  /** The sequence number for the next snapshot file: above every one on disk. */
  readonly nextSeq: number;
}

export async function recoverDir(
  io: FilePersisterIo,
  dir: string,
  logger: RaftLogger,
): Promise<Recovered> {
  const names = await ioStep(dir, 'readdir', () => io.readdir(dir));
  const walPath = join(dir, WAL_FILE);
  const snapshotSeqs = names.flatMap((name) => {
    const seq = snapshotFileSeq(name);
    return seq === undefined ? [] : [seq];
  });
  const leftovers = names.filter(
    (name) => name === WAL_TMP || (name.endsWith('.snap.tmp') && name.startsWith('snapshot-')),
  );
  let nextSeq = Math.max(0, ...snapshotSeqs) + 1;

  if (!names.includes(WAL_FILE)) {
    if (snapshotSeqs.length > 0) {
      throw new CorruptStateError(
        walPath,
        0,
        'missing-wal',
        `the log is missing but ${snapshotSeqs.length} snapshot file(s) exist`,
      );
    }
    for (const name of leftovers) await removeQuietly(io, join(dir, name));
    const tmp = await writeDurableTmp(io, join(dir, WAL_TMP), [walHeader()]);
    try {
      await ioStep(walPath, 'rename', () => io.rename(join(dir, WAL_TMP), walPath));
      await fsyncDir(io, dir);
    } catch (error) {
      await tmp.handle.close().catch(() => {});
      throw error;
    }
    return { wal: tmp.handle, walSize: tmp.size, state: emptyState(), nextSeq };
  }

  // Read and check everything before changing anything on disk.
  const bytes = await ioStep(walPath, 'read', () => io.readFile(walPath));
  const scan = scanWal(bytes, walPath);
  const state = emptyState();
  let refOffset = 0;
  for (const { offset, record } of scan.records) {
    applyRecord(state, record);
    if (record.snapshot !== undefined) refOffset = offset;
  }
  const ref = state.snapshot;
  if (ref !== undefined) {
    const snapshotPath = join(dir, snapshotFileName(ref.seq));
    if (!snapshotSeqs.includes(ref.seq)) {
      throw new CorruptStateError(
        walPath,
        refOffset,
        'missing-snapshot',
        `the log refers to snapshot file ${snapshotFileName(ref.seq)}, which is missing`,
      );
    }
    const snapshotBytes = await ioStep(snapshotPath, 'read', () => io.readFile(snapshotPath));
    const file = parseSnapshotFile(snapshotBytes, snapshotPath);
    if (
      file.seq !== ref.seq ||
      file.index !== ref.index ||
      file.term !== ref.term ||
      file.size !== ref.size ||
      file.crc !== ref.crc
    ) {
      throw new CorruptStateError(
        snapshotPath,
        0,
        'snapshot-mismatch',
        `the snapshot file (index ${file.index}, term ${file.term}) is not the one the log at byte ${refOffset} refers to (index ${ref.index}, term ${ref.term})`,
      );
    }
    state.snapshotData = file.data;
    nextSeq = Math.max(nextSeq, ref.seq + 1);
  }

  // Repair: cut the torn tail, remove leftovers and unreferenced snapshot files.
  const wal = await ioStep(walPath, 'open', () => io.open(walPath, 'r+'));
  try {
    if (scan.torn !== undefined) {
      const { end } = scan;
      await ioStep(walPath, 'truncate', () => wal.truncate(end));
      await ioStep(walPath, 'fsync', () => wal.datasync());
    }
  } catch (error) {
    await wal.close().catch(() => {});
    throw error;
  }
  if (scan.torn !== undefined) {
    const { offset, bytes: dropped, kind } = scan.torn;
    logger.warn(
      { path: walPath, offset, bytes: dropped, kind },
      'raft persister: cut a torn final write from the log (its save never resolved)',
    );
  }
  for (const name of leftovers) await removeQuietly(io, join(dir, name));
  for (const seq of snapshotSeqs) {
    if (seq !== ref?.seq) await removeQuietly(io, join(dir, snapshotFileName(seq)));
  }
  return { wal, walSize: scan.end, state, nextSeq };
}
