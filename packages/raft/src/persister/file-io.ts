import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PersisterIoError, type PersisterIoOperation, RaftError } from '../errors.js';

/**
 * The file operations a FilePersister does on its directory, as one small seam: the default
 * is node:fs/promises itself (its FileHandle fits `FilePersisterFile`), and fault-injection
 * tests or a chaos runner pass wrappers through the `io` option. The lock (`raft.lock/`,
 * file-lock.ts) and creating the directory at `open` do not go through it.
 */
export interface FilePersisterFile {
  write(
    buffer: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ readonly bytesWritten: number }>;
  sync(): Promise<void>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface FilePersisterIo {
  /** `'r'` opens a directory to fsync it, `'r+'` the WAL at open, `'w'` a new temporary file. */
  open(path: string, flags: 'r' | 'r+' | 'w'): Promise<FilePersisterFile>;
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const IO_OPERATIONS = ['open', 'readFile', 'readdir', 'rename', 'unlink'] as const;

export const nodeIo: FilePersisterIo = {
  open: (path, flags) => open(path, flags),
  readFile: (path) => readFile(path),
  readdir: (path) => readdir(path),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
};

/**
 * Runs one I/O step; a failure becomes `PersisterIoError` naming the file and the step (a
 * RaftError from below already says what it is and passes through).
 */
export async function ioStep<T>(
  path: string,
  operation: PersisterIoOperation,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw error instanceof RaftError ? error : new PersisterIoError(path, operation, error);
  }
}

/** Writes all of `chunks` at `position` onward (a positional write may write less than asked). */
export async function writeAll(
  file: FilePersisterFile,
  path: string,
  chunks: readonly Uint8Array[],
  position: number,
): Promise<number> {
  let at = position;
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await ioStep(path, 'write', () =>
        file.write(chunk, done, chunk.length - done, at),
      );
      if (!(bytesWritten > 0)) {
        throw new PersisterIoError(path, 'write', new Error('write made no progress'));
      }
      done += bytesWritten;
      at += bytesWritten;
    }
  }
  return at - position;
}

/**
 * fsync a directory, so the names created, renamed or removed in it survive a crash. Windows
 * cannot open a directory for this (and does not need to), so there it is a no-op.
 */
export async function fsyncDir(io: FilePersisterIo, dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await ioStep(dir, 'open', () => io.open(dir, 'r'));
  try {
    await ioStep(dir, 'fsync', () => handle.sync());
  } finally {
    await handle.close().catch(() => {});
  }
}

/** After `mkdir -p` created `created` … `dir`, makes those new names durable. */
export async function fsyncCreatedDirs(
  io: FilePersisterIo,
  dir: string,
  created: string,
): Promise<void> {
  let child = dir;
  for (;;) {
    const parent = dirname(child);
    await fsyncDir(io, parent);
    if (child === created || parent === child) return;
    child = parent;
  }
}

/**
 * Step one of an atomic file replacement: writes `chunks` to `tmpPath` and fsyncs it. The
 * caller renames it into place and fsyncs the directory. Returns the open handle; on failure
 * removes the temporary file.
 */
export async function writeDurableTmp(
  io: FilePersisterIo,
  tmpPath: string,
  chunks: readonly Uint8Array[],
): Promise<{ handle: FilePersisterFile; size: number }> {
  const handle = await ioStep(tmpPath, 'open', () => io.open(tmpPath, 'w'));
  try {
    const size = await writeAll(handle, tmpPath, chunks, 0);
    await ioStep(tmpPath, 'fsync', () => handle.sync());
    return { handle, size };
  } catch (error) {
    await handle.close().catch(() => {});
    await removeQuietly(io, tmpPath);
    throw error;
  }
}

/** Unlinks a file, ignoring every failure (a leftover is cleaned at the next open). */
export async function removeQuietly(io: FilePersisterIo, path: string): Promise<void> {
  try {
    await io.unlink(path);
  } catch {
    // ignored: see above
  }
}
