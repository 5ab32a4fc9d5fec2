import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../src/core/messages.js';
import {
  InvalidUpdateError,
  PersisterClosedError,
  PersisterFailedError,
  PersisterLockedError,
  RaftError,
} from '../src/errors.js';
import { crc32, crc32Portable } from '../src/persister/file-crc32.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { WAL_FILE, WAL_HEADER_BYTES } from '../src/persister/file-wal.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import type { PersistUpdate } from '../src/persister/persister.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (term: number, command: unknown = `cmd-${term}`): LogEntry => ({ term, command });

/** Applies the updates to a FilePersister (closing and reopening it) and to a MemoryPersister. */
async function roundTrip(updates: PersistUpdate[], options = {}) {
  const memory = new MemoryPersister();
  let file = await FilePersister.open(dir, options);
  for (const update of updates) {
    memory.save(update);
    await file.save(update);
  }
  expect(file.load()).toEqual(memory.load());
  await file.close();
  file = await FilePersister.open(dir, options);
  const loaded = file.load();
  expect(loaded).toEqual(memory.load());
  expect(file.raftStateSize()).toBe(memory.raftStateSize());
  expect(file.snapshotSize()).toBe(memory.snapshotSize());
  await file.close();
  return loaded;
}

async function snapshotFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.snap')).sort();
}

describe('FilePersister round trips across close and reopen', () => {
  it('keeps the hard state and the entries', async () => {
    const loaded = await roundTrip([
      { hardState: { term: 1, votedFor: 2 } },
      { entries: { from: 1, entries: [entry(1), entry(1, { put: 'x' }), entry(1, [1, 2, 3])] } },
      { hardState: { term: 2, votedFor: null }, entries: { from: 4, entries: [entry(2)] } },
    ]);
    expect(loaded?.hardState).toEqual({ term: 2, votedFor: null });
    expect(loaded?.entries.map((e) => e.term)).toEqual([1, 1, 1, 2]);
    expect(loaded?.snapshot).toBeUndefined();
  });

  it('keeps entries saved without a hard state (the hard state loads as term 0, no vote)', async () => {
    const loaded = await roundTrip([{ entries: { from: 1, entries: [entry(1)] } }]);
    expect(loaded?.hardState).toEqual({ term: 0, votedFor: null });
  });

  it('truncates when entries.from is below the end of the log', async () => {
    const loaded = await roundTrip([
      { entries: { from: 1, entries: [1, 1, 2, 2, 3].map((t) => entry(t)) } },
      { entries: { from: 3, entries: [entry(4, 'replacement')] } },
      { entries: { from: 2, entries: [] } },
    ]);
    expect(loaded?.entries).toEqual([entry(1)]);
  });

  it('a snapshot whose entry matches keeps the suffix after it', async () => {
    const data = new Uint8Array(randomBytes(1000));
    const loaded = await roundTrip([
      { entries: { from: 1, entries: [1, 1, 2, 2, 3].map((t) => entry(t)) } },
      { snapshot: { index: 3, term: 2, data }, hardState: { term: 3, votedFor: 1 } },
    ]);
    expect(loaded?.snapshot).toEqual({ index: 3, term: 2, data });
    expect(loaded?.entries).toEqual([entry(2), entry(3)]);
    expect(await snapshotFiles()).toHaveLength(1);
  });

  it('a snapshot whose entry has another term (or is past the log) discards the log', async () => {
    const loaded = await roundTrip([
      { entries: { from: 1, entries: [1, 1, 2, 2, 3].map((t) => entry(t)) } },
      { snapshot: { index: 3, term: 9, data: new Uint8Array([1, 2, 3]) } },
    ]);
    expect(loaded?.snapshot?.index).toBe(3);
    expect(loaded?.entries).toEqual([]);
    await rm(dir, { recursive: true });
    const past = await roundTrip([
      { entries: { from: 1, entries: [entry(1), entry(1)] } },
      { snapshot: { index: 10, term: 4, data: new Uint8Array([7]) } },
      { entries: { from: 11, entries: [entry(4)] } },
    ]);
    expect(past?.snapshot?.index).toBe(10);
    expect(past?.entries).toEqual([entry(4)]);
  });

  it('a snapshot, entries and a hard state in one update; later snapshots replace the file', async () => {
    await roundTrip([
      { entries: { from: 1, entries: [entry(1), entry(1), entry(2)] } },
      {
        snapshot: { index: 2, term: 1, data: new Uint8Array([1]) },
        entries: { from: 4, entries: [entry(2), entry(3)] },
        hardState: { term: 3, votedFor: 0 },
      },
      { snapshot: { index: 4, term: 2, data: new Uint8Array([2, 2]) } },
      { snapshot: { index: 5, term: 3, data: new Uint8Array(0) } },
    ]);
    expect(await snapshotFiles()).toEqual(['snapshot-0000000000000003.snap']);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('reports the same raftStateSize and snapshotSize as MemoryPersister while running', async () => {
    const memory = new MemoryPersister();
    const file = await FilePersister.open(dir);
    const updates: PersistUpdate[] = [
      { hardState: { term: 1, votedFor: 0 } },
      { entries: { from: 1, entries: [entry(1, 'a'.repeat(300)), entry(1)] } },
      { snapshot: { index: 1, term: 1, data: new Uint8Array(77) } },
    ];
    for (const update of updates) {
      memory.save(update);
      await file.save(update);
      expect(file.raftStateSize()).toBe(memory.raftStateSize());
      expect(file.snapshotSize()).toBe(memory.snapshotSize());
    }
    await file.close();
  });
});

describe('FilePersister lifecycle', () => {
  it('an empty directory is a fresh node: load() is undefined, and stays so after reopen', async () => {
    const file = await FilePersister.open(dir);
    expect(file.load()).toBeUndefined();
    expect(file.raftStateSize()).toBe(0);
    expect(file.snapshotSize()).toBe(0);
    await file.save({});
    expect(file.load()).toBeUndefined();
    await file.close();
    const again = await FilePersister.open(dir);
    expect(again.load()).toBeUndefined();
    expect(again.walSize).toBe(WAL_HEADER_BYTES);
    await again.close();
  });

  it('a missing directory is created (with its parents) as a fresh node', async () => {
    const nested = join(dir, 'a', 'b', 'node-0');
    const file = await FilePersister.open(nested);
    expect(file.load()).toBeUndefined();
    await file.save({ hardState: { term: 5, votedFor: 1 } });
    await file.close();
    const again = await FilePersister.open(nested);
    expect(again.load()?.hardState).toEqual({ term: 5, votedFor: 1 });
    await again.close();
  });

  it('concurrent saves are applied in call order', async () => {
    const file = await FilePersister.open(dir);
    const saves: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      saves.push(
        file.save({
          entries: { from: i, entries: [entry(i)] },
          hardState: { term: i, votedFor: null },
        }),
      );
    }
    // Truncate back to 10 entries, queued behind the 50 appends.
    saves.push(file.save({ entries: { from: 11, entries: [] } }));
    await Promise.all(saves);
    const expected = Array.from({ length: 10 }, (_, i) => entry(i + 1));
    expect(file.load()?.entries).toEqual(expected);
    expect(file.load()?.hardState.term).toBe(50);
    await file.close();
    const again = await FilePersister.open(dir);
    expect(again.load()?.entries).toEqual(expected);
    await again.close();
  });

  it('a resolved save is on disk before close (a copy of the open directory sees it)', async () => {
    const file = await FilePersister.open(dir);
    await file.save({ entries: { from: 1, entries: [entry(1)] } });
    await file.save({ snapshot: { index: 1, term: 1, data: new Uint8Array([9]) } });
    await file.save({ hardState: { term: 2, votedFor: 2 } });
    const copy = `${dir}-copy`;
    await cp(dir, copy, { recursive: true });
    try {
      const other = await FilePersister.open(copy);
      expect(other.load()).toEqual(file.load());
      await other.close();
    } finally {
      await rm(copy, { recursive: true, force: true });
      await file.close();
    }
  });

  it('the update is captured when save is called: later changes to its objects do not leak in', async () => {
    const file = await FilePersister.open(dir);
    const entries = [entry(1, { v: 1 })];
    const data = new Uint8Array([1, 2, 3]);
    const saving = file.save({
      entries: { from: 1, entries },
      snapshot: { index: 0, term: 0, data },
    });
    entries.push(entry(2));
    data[0] = 99;
    await saving;
    expect(file.load()?.entries).toEqual([entry(1, { v: 1 })]);
    expect(file.load()?.snapshot?.data).toEqual(new Uint8Array([1, 2, 3]));
    await file.close();
  });

  it('close waits for queued saves; a closed persister rejects saves with ERR_PERSISTER_CLOSED', async () => {
    const file = await FilePersister.open(dir);
    const queued = file.save({ hardState: { term: 7, votedFor: 1 } });
    const closing = file.close();
    await queued;
    await closing;
    await file.close();
    const rejected = file.save({ hardState: { term: 8, votedFor: 1 } });
    await expect(rejected).rejects.toBeInstanceOf(PersisterClosedError);
    await expect(rejected).rejects.toMatchObject({ code: 'ERR_PERSISTER_CLOSED' });
    await expect(file.compact()).rejects.toBeInstanceOf(RaftError);
    const again = await FilePersister.open(dir);
    expect(again.load()?.hardState).toEqual({ term: 7, votedFor: 1 });
    await again.close();
  });

  it('close is idempotent: every call, during or after the first, returns its promise', async () => {
    const file = await FilePersister.open(dir);
    const queued = file.save({ hardState: { term: 2, votedFor: 0 } });
    const first = file.close();
    expect(file.close()).toBe(first);
    await queued;
    await first;
    expect(file.close()).toBe(first);
    const again = await FilePersister.open(dir);
    expect(again.load()?.hardState).toEqual({ term: 2, votedFor: 0 });
    await again.close();
  });

  it('a directory open in this process cannot be opened twice until closed', async () => {
    const file = await FilePersister.open(dir);
    await expect(FilePersister.open(dir)).rejects.toBeInstanceOf(PersisterLockedError);
    await expect(FilePersister.open(join(dir, '.'))).rejects.toMatchObject({
      code: 'ERR_PERSISTER_LOCKED',
      path: dir,
      pid: process.pid,
      message: expect.stringContaining('in this process'),
    });
    await file.close();
    const again = await FilePersister.open(dir);
    await again.close();
  });

  it('after a failed fsync every save rejects with ERR_PERSISTER_FAILED; reopening recovers', async () => {
    const file = await FilePersister.open(dir);
    await file.save({ entries: { from: 1, entries: [entry(1)] } });
    const probe = await open(join(dir, 'probe'), 'w');
    const handlePrototype = Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
    await probe.close();
    const datasync = vi
      .spyOn(handlePrototype, 'datasync')
      .mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    try {
      const failed = file.save({ entries: { from: 2, entries: [entry(2)] } });
      await expect(failed).rejects.toBeInstanceOf(PersisterFailedError);
      await expect(failed).rejects.toMatchObject({ code: 'ERR_PERSISTER_FAILED' });
      await expect(file.save({ hardState: { term: 3, votedFor: 1 } })).rejects.toMatchObject({
        code: 'ERR_PERSISTER_FAILED',
      });
      await expect(file.save({})).rejects.toBeInstanceOf(PersisterFailedError);
      // Nothing the failed save wrote is taken as saved while running.
      expect(file.load()?.entries).toEqual([entry(1)]);
    } finally {
      datasync.mockRestore();
    }
    await file.close();
    // The record reached the file even though its fsync "failed": either state is allowed.
    const again = await FilePersister.open(dir);
    expect([[entry(1)], [entry(1), entry(2)]]).toContainEqual(again.load()?.entries);
    await again.save({ hardState: { term: 4, votedFor: null } });
    await again.close();
  });

  it('an invalid update rejects with ERR_INVALID_UPDATE and changes nothing', async () => {
    const file = await FilePersister.open(dir);
    await file.save({ hardState: { term: 1, votedFor: null } });
    const bad = [
      { entries: { from: 1.5, entries: [] } },
      { snapshot: { index: -1, term: 1, data: new Uint8Array(0) } },
      { snapshot: { index: 1, term: 1, data: 'not bytes' as unknown as Uint8Array } },
    ];
    for (const update of bad) {
      await expect(file.save(update)).rejects.toBeInstanceOf(InvalidUpdateError);
    }
    await file.save({ hardState: { term: 2, votedFor: null } });
    expect(file.load()?.hardState.term).toBe(2);
    await file.close();
  });
});

describe('FilePersister compaction', () => {
  it('keeps the state and shrinks the file; reopen after compaction works', async () => {
    const options = { compactMinBytes: 4096, compactRatio: 4 };
    const memory = new MemoryPersister();
    const file = await FilePersister.open(dir, options);
    let largest = 0;
    for (let i = 0; i < 400; i++) {
      // A log that keeps being rewritten: the live state stays small, the WAL would not.
      const update: PersistUpdate = {
        hardState: { term: i, votedFor: i % 3 },
        entries: { from: 1 + (i % 5), entries: [entry(i, 'x'.repeat(40)), entry(i)] },
      };
      memory.save(update);
      await file.save(update);
      largest = Math.max(largest, file.walSize);
    }
    await file.save({ hardState: { term: 1000, votedFor: null } });
    memory.save({ hardState: { term: 1000, votedFor: null } });
    const walSize = (await stat(join(dir, WAL_FILE))).size;
    expect(walSize).toBe(file.walSize);
    expect(largest).toBeLessThan(4096 + 4 * 1024);
    expect(walSize).toBeLessThanOrEqual(Math.max(4096, 4 * file.raftStateSize()) + 1024);
    expect(file.load()).toEqual(memory.load());
    await file.close();
    const again = await FilePersister.open(dir, options);
    expect(again.load()).toEqual(memory.load());
    await again.save({ entries: { from: 2, entries: [entry(2000)] } });
    memory.save({ entries: { from: 2, entries: [entry(2000)] } });
    await again.close();
    const third = await FilePersister.open(dir, options);
    expect(third.load()).toEqual(memory.load());
    await third.close();
  });

  it('compact() rewrites the WAL to one record, keeping the snapshot reference', async () => {
    const file = await FilePersister.open(dir);
    const memory = new MemoryPersister();
    const updates: PersistUpdate[] = [];
    for (let i = 1; i <= 100; i++) {
      updates.push({ entries: { from: i, entries: [entry(1, randomBytes(32))] } });
    }
    updates.push({ snapshot: { index: 60, term: 1, data: new Uint8Array(randomBytes(500)) } });
    updates.push({ hardState: { term: 1, votedFor: 1 } });
    for (const update of updates) {
      memory.save(update);
      await file.save(update);
    }
    const before = file.walSize;
    await file.compact();
    expect(file.walSize).toBeLessThan(before / 2);
    expect((await stat(join(dir, WAL_FILE))).size).toBe(file.walSize);
    expect(file.load()).toEqual(memory.load());
    await file.save({ entries: { from: 101, entries: [entry(2)] } });
    memory.save({ entries: { from: 101, entries: [entry(2)] } });
    await file.close();
    const again = await FilePersister.open(dir);
    expect(again.load()).toEqual(memory.load());
    expect(again.raftStateSize()).toBe(memory.raftStateSize());
    expect(await snapshotFiles()).toHaveLength(1);
    await again.close();
  });

  it('compacting an empty persister leaves a fresh WAL', async () => {
    const file = await FilePersister.open(dir);
    await file.compact();
    expect(file.walSize).toBe(WAL_HEADER_BYTES);
    await file.close();
    const again = await FilePersister.open(dir);
    expect(again.load()).toBeUndefined();
    await again.close();
  });
});

describe('file-crc32', () => {
  it('matches the CRC-32 check value and the portable implementation', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(i * 37);
      expect(crc32Portable(bytes)).toBe(crc32(bytes));
      expect(crc32Portable(bytes.subarray(5), crc32Portable(bytes.subarray(0, 5)))).toBe(
        crc32(bytes),
      );
    }
  });
});
