import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes all of `chunks` at `position` onward (a positional write may write less than asked). */
export async function writeAll(
  handle: FileHandle,
  chunks: readonly Uint8Array[],
  position: number,
): Promise<number> {
  let at = position;
  for (const chunk of chunks) {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, done, chunk.length - done, at);
      if (bytesWritten <= 0) throw new Error('write made no progress');
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
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** After `mkdir -p` created `created` … `dir`, makes those new names durable. */
export async function fsyncCreatedDirs(dir: string, created: string): Promise<void> {
  let child = dir;
  for (;;) {
    const parent = dirname(child);
    await fsyncDir(parent);
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
  tmpPath: string,
  chunks: readonly Uint8Array[],
): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(tmpPath, 'w');
  try {
    const size = await writeAll(handle, chunks, 0);
    await handle.sync();
    return { handle, size };
  } catch (error) {
    await handle.close().catch(() => {});
    await removeQuietly(tmpPath);
    throw error;
  }
}

/** Unlinks a file, ignoring every failure (a leftover is cleaned at the next open). */
export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}
