/**
 * Disk faults injected through FilePersister's `io` option (test/support/faulty-io.ts): every
 * one must end in one of two ways — `open` refuses with a typed error naming the file, or the
 * directory recovers without losing a save that resolved — and a persister that could not
 * persist acknowledges nothing after the failure.
 *
 * Damage found on disk rather than raised by a call is covered elsewhere and not repeated
 * here: a torn final write cut at, zeroed from and flipped at every byte
 * (file-persister-torn-tail.test.ts, file-persister-crash.test.ts); a flipped byte in a middle
 * WAL record (CorruptStateError naming raft.wal at the record's offset) and in the snapshot
 * header or body (CorruptStateError naming the snapshot file) in
 * file-persister-corruption.test.ts. What is new here and on disk: the torn tail a short write
 * followed by ENOSPC leaves behind, written by the persister itself.
 */
import { mkdtemp, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../src/core/messages.js';
import {
  PersisterFailedError,
  PersisterIoError,
  PersisterLockedError,
  RaftConfigError,
  RaftError,
} from '../src/errors.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { snapshotFileName } from '../src/persister/file-snapshot.js';
import { WAL_FILE } from '../src/persister/file-wal.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import type { PersistedState, PersistUpdate } from '../src/persister/persister.js';
import { type Fault, FaultyIo } from './support/faulty-io.js';
import { recordingLogger } from './support/node-fixtures.js';

let dir: string;
let open: FilePersister[] = [];

beforeEach(async () => {
  dir = await realpath(await mkdtemp(join(tmpdir(), 'flotilla-file-persister-faults-')));
  open = [];
});

afterEach(async () => {
  await Promise.all(open.map((p) => p.close().catch(() => {})));
  await rm(dir, { recursive: true, force: true });
});

const walPath = (): string => join(dir, WAL_FILE);
const entry = (term: number, command: unknown): LogEntry => ({ term, command });

async function openDir(faults?: FaultyIo, logger = recordingLogger()): Promise<FilePersister> {
  const p = await FilePersister.open(dir, { logger, io: faults?.io });
  open.push(p);
  return p;
}

/** What a MemoryPersister holds after `updates`: the state a reopen must load. */
function stateAfter(updates: readonly PersistUpdate[]): PersistedState | undefined {
  const memory = new MemoryPersister();
  for (const update of updates) memory.save(update);
  return memory.load();
}

/** Saves that resolve: the acknowledged ones a reopen must keep. */
const acked: PersistUpdate[] = [
  { hardState: { term: 1, votedFor: 0 }, entries: { from: 1, entries: [entry(1, 'a')] } },
  { entries: { from: 2, entries: [entry(1, 'b'), entry(1, 'c')] } },
  { snapshot: { index: 2, term: 1, data: new Uint8Array(300).fill(3) } },
  { hardState: { term: 2, votedFor: 1 }, entries: { from: 4, entries: [entry(2, 'd')] } },
];

/** A save big enough that a short write cuts it inside its payload. */
const failing: PersistUpdate = {
  hardState: { term: 3, votedFor: 2 },
  entries: {
    from: 5,
    entries: Array.from({ length: 32 }, (_, i) => entry(3, { op: 'put', i, v: 'x'.repeat(64) })),
  },
};

async function saveAll(p: FilePersister, updates: readonly PersistUpdate[]): Promise<void> {
  for (const update of updates) await p.save(update);
}

/**
 * The failing save and the saves queued behind it reject with PersisterFailedError, whose
 * cause names `path`; so does every save after, even with the fault gone; nothing of them is
 * in the live state.
 */
async function expectStopped(
  p: FilePersister,
  faults: FaultyIo,
  update: PersistUpdate,
  path: string,
  operation: PersisterIoError['operation'],
): Promise<void> {
  const before = p.load();
  const results = await Promise.allSettled([
    p.save(update),
    p.save({ hardState: { term: 9, votedFor: null } }),
    p.save({ entries: { from: 6, entries: [entry(9, 'queued')] } }),
  ]);
  for (const result of results) {
    expect(result.status).toBe('rejected');
    const reason = (result as PromiseRejectedResult).reason as unknown;
    expect(reason).toBeInstanceOf(PersisterFailedError);
    expect(reason).toMatchObject({ code: 'ERR_PERSISTER_FAILED' });
  }
  const first = (results[0] as PromiseRejectedResult).reason as PersisterFailedError;
  expect(first.cause).toBeInstanceOf(PersisterIoError);
  expect(first.cause).toMatchObject({ code: 'ERR_PERSISTER_IO', path, operation });
  expect(first.message).toContain(path);
  faults.clear();
  await expect(p.save({ hardState: { term: 10, votedFor: null } })).rejects.toBeInstanceOf(
    PersisterFailedError,
  );
  await expect(p.compact()).rejects.toBeInstanceOf(PersisterFailedError);
  expect(p.load()).toEqual(before);
}

/** Reopened with working I/O: every acknowledged save, the failed one whole or not at all. */
async function expectRecovered(
  done: readonly PersistUpdate[],
  failed: PersistUpdate | undefined,
): Promise<FilePersister> {
  const p = await openDir();
  const allowed = [stateAfter(done)];
  if (failed !== undefined) allowed.push(stateAfter([...done, failed]));
  expect(allowed).toContainEqual(p.load());
  const names = await readdir(dir);
  expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  expect(names.filter((name) => name.endsWith('.snap')).length).toBeLessThanOrEqual(1);
  // And it works: a new save survives another reopen.
  await p.save({ hardState: { term: 20, votedFor: null } });
  const expected = p.load();
  await p.close();
  const again = await openDir();
  expect(again.load()).toEqual(expected);
  return again;
}

const onWal = (): string => walPath();

describe('a WAL append that fails stops the persister; reopening loses no resolved save', () => {
  const cases: [string, () => Fault, PersisterIoError['operation']][] = [
    ['fdatasync fails with EIO', () => ({ op: 'datasync', path: onWal(), code: 'EIO' }), 'fsync'],
    ['the write fails with EIO', () => ({ op: 'write', path: onWal(), code: 'EIO' }), 'write'],
    [
      'the write fails with ENOSPC',
      () => ({ op: 'write', path: onWal(), code: 'ENOSPC' }),
      'write',
    ],
    [
      'a short write, then ENOSPC',
      () => ({ op: 'write', path: onWal(), code: 'ENOSPC', shortWrite: 100 }),
      'write',
    ],
    // Once is enough: the persister must not retry, whatever the disk does next.
    [
      'fdatasync fails once with EIO',
      () => ({ op: 'datasync', path: onWal(), code: 'EIO', times: 1 }),
      'fsync',
    ],
  ];

  it.each(cases)('%s', async (_name, fault, operation) => {
    const faults = new FaultyIo();
    const p = await openDir(faults);
    await saveAll(p, acked);
    faults.inject(fault());
    await expectStopped(p, faults, failing, walPath(), operation);
    expect(faults.fired.length).toBeGreaterThan(0);
    await p.close();
    await expectRecovered(acked, failing);
  });

  it('a short write then ENOSPC leaves a torn tail that the next open cuts and reports', async () => {
    const faults = new FaultyIo();
    const p = await openDir(faults);
    await saveAll(p, acked);
    const size = p.walSize;
    faults.inject({ op: 'write', path: walPath(), code: 'ENOSPC', shortWrite: 100 });
    await expect(p.save(failing)).rejects.toBeInstanceOf(PersisterFailedError);
    await p.close();
    expect((await readFile(walPath())).length).toBe(size + 100);
    const logger = recordingLogger();
    const again = await openDir(undefined, logger);
    expect(again.load()).toEqual(stateAfter(acked));
    expect(again.walSize).toBe(size);
    expect(logger.lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: { path: walPath(), offset: size, bytes: 100, kind: 'short' },
      }),
    ]);
  });

  it('the very first save of a fresh directory fails: it reopens as a fresh node or with that save', async () => {
    const faults = new FaultyIo();
    const p = await openDir(faults);
    faults.inject({ op: 'datasync', path: walPath(), code: 'EIO' });
    await expectStopped(p, faults, acked[0] as PersistUpdate, walPath(), 'fsync');
    await p.close();
    await expectRecovered([], acked[0]);
  });
});

describe('a snapshot file that cannot be written stops the persister', () => {
  const snapshotUpdate: PersistUpdate = {
    snapshot: { index: 4, term: 2, data: new Uint8Array(5000).fill(9) },
    hardState: { term: 2, votedFor: 1 },
  };
  const isSnapTmp = (path: string): boolean => path.endsWith('.snap.tmp');
  const cases: [string, () => Fault, (next: string) => string, PersisterIoError['operation']][] = [
    [
      'ENOSPC writing it',
      () => ({ op: 'write', path: isSnapTmp, code: 'ENOSPC' }),
      (next) => `${next}.tmp`,
      'write',
    ],
    [
      'a short write, then ENOSPC',
      () => ({ op: 'write', path: isSnapTmp, code: 'ENOSPC', shortWrite: 1000 }),
      (next) => `${next}.tmp`,
      'write',
    ],
    [
      'EIO on its fsync',
      () => ({ op: 'sync', path: isSnapTmp, code: 'EIO' }),
      (next) => `${next}.tmp`,
      'fsync',
    ],
    [
      'ENOSPC creating it',
      () => ({ op: 'open', path: isSnapTmp, code: 'ENOSPC' }),
      (next) => `${next}.tmp`,
      'open',
    ],
    [
      'EIO renaming it into place',
      () => ({ op: 'rename', path: (p) => p.endsWith('.snap'), code: 'EIO' }),
      (next) => next,
      'rename',
    ],
    [
      'EIO on the directory fsync after the rename',
      () => ({ op: 'sync', path: dir, code: 'EIO' }),
      () => dir,
      'fsync',
    ],
    [
      'EIO on the fdatasync of the WAL record that commits it',
      () => ({ op: 'datasync', path: onWal(), code: 'EIO' }),
      () => walPath(),
      'fsync',
    ],
  ];

  it.each(cases)('%s', async (_name, fault, pathOf, operation) => {
    const faults = new FaultyIo();
    const p = await openDir(faults);
    await saveAll(p, acked);
    // The snapshot in `acked` was file 1; this one is file 2.
    const next = join(dir, snapshotFileName(2));
    faults.inject(fault());
    await expectStopped(p, faults, snapshotUpdate, pathOf(next), operation);
    await p.close();
    const again = await expectRecovered(acked, snapshotUpdate);
    // The file kept is the one the recovered state refers to.
    const snaps = (await readdir(dir)).filter((name) => name.endsWith('.snap'));
    const loaded = again.load();
    expect(snaps).toEqual([snapshotFileName(loaded?.snapshot?.index === 4 ? 2 : 1)]);
  });
});

describe('a compaction that fails keeps the old WAL, or stops the persister past the rename', () => {
  const tmp = (): string => `${walPath()}.tmp`;
  const keeps: [string, () => Fault, () => string, PersisterIoError['operation']][] = [
    [
      'ENOSPC writing the new WAL',
      () => ({ op: 'write', path: tmp(), code: 'ENOSPC' }),
      tmp,
      'write',
    ],
    [
      'a short write of the new WAL, then ENOSPC',
      () => ({ op: 'write', path: tmp(), code: 'ENOSPC', shortWrite: 10 }),
      tmp,
      'write',
    ],
    [
      'EIO on the fsync of the new WAL',
      () => ({ op: 'sync', path: tmp(), code: 'EIO' }),
      tmp,
      'fsync',
    ],
    [
      'ENOSPC creating the new WAL',
      () => ({ op: 'open', path: tmp(), code: 'ENOSPC' }),
      tmp,
      'open',
    ],
    [
      'EIO renaming it over the old',
      () => ({ op: 'rename', path: onWal(), code: 'EIO' }),
      onWal,
      'rename',
    ],
  ];

  it.each(keeps)(
    'compact(): %s rejects with PersisterIoError; saves go on',
    async (_n, fault, path, operation) => {
      const faults = new FaultyIo();
      const p = await openDir(faults);
      await saveAll(p, acked);
      const size = p.walSize;
      faults.inject(fault());
      const error = await p.compact().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PersisterIoError);
      expect(error).toMatchObject({ code: 'ERR_PERSISTER_IO', path: path(), operation });
      expect(p.walSize).toBe(size);
      expect(await readdir(dir)).not.toContain(`${WAL_FILE}.tmp`);
      faults.clear();
      // Still appending to the old WAL, durably.
      await p.save(failing);
      expect(p.walSize).toBeGreaterThan(size);
      await p.close();
      const again = await openDir();
      expect(again.load()).toEqual(stateAfter([...acked, failing]));
    },
  );

  it('compact(): EIO on the directory fsync after the rename stops the persister', async () => {
    const faults = new FaultyIo();
    const p = await openDir(faults);
    await saveAll(p, acked);
    faults.inject({ op: 'sync', path: dir, code: 'EIO' });
    const error = await p.compact().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PersisterFailedError);
    expect((error as PersisterFailedError).cause).toMatchObject({ path: dir, operation: 'fsync' });
    await expectStopped(p, faults, failing, dir, 'fsync');
    await p.close();
    await expectRecovered(acked, undefined);
  });

  it('automatic compaction failing with ENOSPC: every save still resolves and survives; it retries later', async () => {
    const faults = new FaultyIo();
    const p = await FilePersister.open(dir, {
      io: faults.io,
      compactRatio: 2,
      compactMinBytes: 0,
      logger: recordingLogger(),
    });
    open.push(p);
    faults.inject({ op: 'write', path: tmp(), code: 'ENOSPC' });
    const done: PersistUpdate[] = [];
    for (let i = 1; i <= 40; i++) {
      // Rewrites the same index: the live state stays small, the WAL grows.
      const update: PersistUpdate = {
        hardState: { term: i, votedFor: null },
        entries: { from: 1, entries: [entry(i, `v${i}`)] },
      };
      await p.save(update);
      done.push(update);
    }
    expect(faults.fired.length).toBeGreaterThan(0);
    // Backed off: far fewer attempts than saves.
    expect(faults.fired.length).toBeLessThan(10);
    const grown = p.walSize;
    faults.clear();
    for (let i = 41; i <= 200 && p.walSize >= grown; i++) {
      const update: PersistUpdate = {
        hardState: { term: i, votedFor: null },
        entries: { from: 1, entries: [entry(i, `v${i}`)] },
      };
      await p.save(update);
      done.push(update);
    }
    await p.compact().catch(() => {}); // lets a queued compaction finish first
    expect(p.walSize).toBeLessThan(grown);
    await p.close();
    const again = await openDir();
    expect(again.load()).toEqual(stateAfter(done));
  });
});

describe('an I/O error at open refuses with PersisterIoError naming the file and releases the lock', () => {
  /** Opening with the fault throws PersisterIoError(path, operation); a plain open then works. */
  async function expectRefused(
    fault: Fault,
    path: string,
    operation: PersisterIoError['operation'],
  ): Promise<FilePersister> {
    const faults = new FaultyIo();
    faults.inject(fault);
    const error = await FilePersister.open(dir, { io: faults.io, logger: recordingLogger() }).then(
      async (p) => {
        await p.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PersisterIoError);
    expect(error).toBeInstanceOf(RaftError);
    expect(error).toMatchObject({ code: 'ERR_PERSISTER_IO', path, operation });
    expect((error as PersisterIoError).message).toContain(path);
    expect((error as PersisterIoError).cause).toMatchObject({ code: fault.code });
    // Not locked: a second open (which would be PersisterLockedError if it were) succeeds.
    const p = await openDir();
    expect(p).not.toBeInstanceOf(PersisterLockedError);
    return p;
  }

  async function populated(): Promise<void> {
    const p = await openDir();
    await saveAll(p, acked);
    await p.close();
  }

  it('EIO reading the WAL', async () => {
    await populated();
    const p = await expectRefused(
      { op: 'readFile', path: walPath(), code: 'EIO' },
      walPath(),
      'read',
    );
    expect(p.load()).toEqual(stateAfter(acked));
  });

  it('EIO reading the snapshot file', async () => {
    await populated();
    const snapshot = join(dir, snapshotFileName(1));
    const p = await expectRefused(
      { op: 'readFile', path: snapshot, code: 'EIO' },
      snapshot,
      'read',
    );
    expect(p.load()).toEqual(stateAfter(acked));
  });

  it('EIO listing the directory', async () => {
    await populated();
    const p = await expectRefused({ op: 'readdir', path: dir, code: 'EIO' }, dir, 'readdir');
    expect(p.load()).toEqual(stateAfter(acked));
  });

  it('EIO opening the WAL for appending', async () => {
    await populated();
    const p = await expectRefused({ op: 'open', path: walPath(), code: 'EIO' }, walPath(), 'open');
    expect(p.load()).toEqual(stateAfter(acked));
  });

  it('EIO cutting a torn tail: refused, and the next open cuts it', async () => {
    const faults = new FaultyIo();
    const first = await openDir(faults);
    await saveAll(first, acked);
    faults.inject({ op: 'write', path: walPath(), code: 'ENOSPC', shortWrite: 50 });
    await expect(first.save(failing)).rejects.toBeInstanceOf(PersisterFailedError);
    await first.close();
    const p = await expectRefused(
      { op: 'truncate', path: walPath(), code: 'EIO' },
      walPath(),
      'truncate',
    );
    expect(p.load()).toEqual(stateAfter(acked));
  });

  it('ENOSPC creating the WAL of a fresh directory: refused, nothing left behind', async () => {
    const tmpWal = `${walPath()}.tmp`;
    const p = await expectRefused({ op: 'write', path: tmpWal, code: 'ENOSPC' }, tmpWal, 'write');
    expect(p.load()).toBeUndefined();
    await p.close();
    expect((await readdir(dir)).sort()).toEqual([WAL_FILE]);
  });
});

describe('the io option', () => {
  it.each([
    ['not an object', 5],
    ['an array', []],
    ['an unknown operation', { fsync: async () => {} }],
    ['an operation that is not a function', { open: 'yes' }],
  ])('%s is a RaftConfigError naming io, before the disk is touched', async (_name, io) => {
    const missing = join(dir, 'never-created');
    const error = await FilePersister.open(missing, { io } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RaftConfigError);
    expect(error).toMatchObject({ code: 'ERR_RAFT_CONFIG', option: 'io' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a partial io keeps node:fs for the rest', async () => {
    const reads: string[] = [];
    const p = await FilePersister.open(dir, {
      io: {
        readFile: async (path) => {
          reads.push(path);
          return readFile(path);
        },
      },
    });
    await p.save(acked[0] as PersistUpdate);
    await p.close();
    const again = await FilePersister.open(dir, {
      io: {
        readFile: async (path) => {
          reads.push(path);
          return readFile(path);
        },
      },
    });
    expect(again.load()).toEqual(stateAfter([acked[0] as PersistUpdate]));
    await again.close();
    expect(reads).toEqual([walPath()]);
  });
});
