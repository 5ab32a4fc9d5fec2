/**
 * Torn tail or corruption (src/persister/file-wal-scan.ts): the WAL's last three records are
 * cut at every byte, zeroed from every byte to the end, zeroed in windows, and flipped at
 * every byte. Damage with no valid record after it is a torn tail — recovered to the state
 * before the damaged record, every earlier save present, reported once, the persister
 * writable and reopening cleanly; damage followed by a valid record is CorruptStateError
 * naming the file and offset, with the directory left as it was.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LogEntry } from '../src/core/messages.js';
import type { RaftLogger } from '../src/env.js';
import { CorruptStateError } from '../src/errors.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { RECORD_HEADER_BYTES, WAL_FILE } from '../src/persister/file-wal.js';
import { scanWal } from '../src/persister/file-wal-scan.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import type { PersistedState, PersistUpdate } from '../src/persister/persister.js';

const entry = (term: number, command: unknown = `c${term}`): LogEntry => ({ term, command });

/** Saves that resolved long before the crash; never damaged. */
const acknowledged: PersistUpdate[] = [
  { hardState: { term: 1, votedFor: 0 }, entries: { from: 1, entries: [entry(1), entry(1)] } },
  { snapshot: { index: 1, term: 1, data: new Uint8Array(50).fill(3) } },
  { entries: { from: 3, entries: [entry(1, { put: 'k', value: 'v' })] } },
];
/** The last three records, the ones damaged: a new snapshot, entries, a hard state. */
const last: PersistUpdate[] = [
  {
    snapshot: { index: 2, term: 1, data: new Uint8Array(80).fill(4) },
    hardState: { term: 2, votedFor: 1 },
  },
  { entries: { from: 4, entries: [entry(2, 'x'), entry(2, { append: 'k', value: 'w' })] } },
  { hardState: { term: 3, votedFor: 2 } },
];

interface Fixture {
  /** The WAL after every save. */
  readonly wal: Buffer;
  /** Every snapshot file that ever existed: a crash image holds the old and the new. */
  readonly snapshots: ReadonlyMap<string, Buffer>;
  /** Offsets of the three last records, and the end of the file. */
  readonly offsets: readonly number[];
  /** states[k]: the state after the acknowledged saves and the first k of `last`. */
  readonly states: readonly (PersistedState | undefined)[];
}

let root: string;
let fixture: Fixture;
let cases = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-torn-'));
  const dir = join(root, 'source');
  const p = await FilePersister.open(dir);
  const memory = new MemoryPersister();
  const snapshots = new Map<string, Buffer>();
  const states: (PersistedState | undefined)[] = [];
  for (const [i, update] of [...acknowledged, ...last].entries()) {
    await p.save(update);
    memory.save(update);
    for (const name of await readdir(dir)) {
      if (name.endsWith('.snap')) snapshots.set(name, await readFile(join(dir, name)));
    }
    if (i >= acknowledged.length - 1) states.push(memory.load());
  }
  await p.close();
  const wal = await readFile(join(dir, WAL_FILE));
  const { records, end } = scanWal(wal, join(dir, WAL_FILE));
  expect(end).toBe(wal.length);
  const offsets = [...records.slice(-3).map((r) => r.offset), end];
  expect(snapshots.size).toBe(2);
  fixture = { wal, snapshots, offsets, states };
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Which of the last three records byte `at` belongs to (0, 1, 2). */
function recordAt(at: number): number {
  const { offsets } = fixture;
  for (let k = 0; k < 3; k++) if (at < (offsets[k + 1] as number)) return k;
  throw new Error(`byte ${at} is past the end`);
}

function logger(): RaftLogger & { readonly warns: Record<string, unknown>[]; infos: number } {
  const warns: Record<string, unknown>[] = [];
  const log = {
    warns,
    infos: 0,
    warn: (fields: Record<string, unknown>) => void warns.push(fields),
    info: () => void log.infos++,
  };
  return log;
}

async function writeCase(wal: Buffer): Promise<string> {
  const dir = join(root, `case-${++cases}`);
  await mkdir(dir);
  await writeFile(join(dir, WAL_FILE), wal);
  for (const [name, bytes] of fixture.snapshots) await writeFile(join(dir, name), bytes);
  return dir;
}

/**
 * Opens a damaged WAL and checks it recovers to the state before record `k` (after the
 * acknowledged saves and the records before `k`), reporting one torn tail at that record's
 * offset (none if `torn` is false), then that a new save works and the directory reopens
 * cleanly with it.
 */
async function expectRecovers(wal: Buffer, k: number, torn: boolean, kind?: string) {
  const dir = await writeCase(wal);
  const expected = fixture.states[k] as PersistedState;
  const log = logger();
  const p = await FilePersister.open(dir, { logger: log });
  expect(p.load()).toEqual(expected);
  expect(log.warns).toEqual(
    torn
      ? [
          expect.objectContaining({
            path: join(dir, WAL_FILE),
            offset: fixture.offsets[k],
            bytes: wal.length - (fixture.offsets[k] as number),
            ...(kind === undefined ? {} : { kind }),
          }),
        ]
      : [],
  );
  const names = await readdir(dir);
  expect(names.filter((name) => name.endsWith('.snap'))).toHaveLength(1);
  expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  const next = (expected.snapshot?.index ?? 0) + expected.entries.length + 1;
  const update: PersistUpdate = {
    entries: { from: next, entries: [entry(9, 'after the crash')] },
    hardState: { term: 9, votedFor: null },
  };
  await p.save(update);
  const model = new MemoryPersister();
  for (const u of [...acknowledged, ...last.slice(0, k), update]) model.save(u);
  await p.close();
  const clean = logger();
  const again = await FilePersister.open(dir, { logger: clean });
  expect(again.load()).toEqual(model.load());
  expect(clean.warns).toEqual([]);
  expect(clean.infos).toBe(0);
  await again.close();
  await rm(dir, { recursive: true, force: true });
}

/** Opens a WAL damaged in record `k` with valid records after it: CorruptStateError, twice. */
async function expectCorrupt(wal: Buffer, k: number) {
  const dir = await writeCase(wal);
  for (let attempt = 0; attempt < 2; attempt++) {
    const error = await FilePersister.open(dir, { logger: logger() }).then(
      async (p) => {
        await p.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CorruptStateError);
    const corrupt = error as CorruptStateError;
    expect(corrupt.code).toBe('ERR_CORRUPT_STATE');
    expect(corrupt.path).toBe(join(dir, WAL_FILE));
    expect(corrupt.offset).toBe(fixture.offsets[k]);
    expect(corrupt.message).toContain(join(dir, WAL_FILE));
    expect(corrupt.message).toContain(`at byte ${fixture.offsets[k]}`);
  }
  expect((await readFile(join(dir, WAL_FILE))).equals(wal)).toBe(true);
  expect((await readdir(dir)).sort()).toEqual([WAL_FILE, ...fixture.snapshots.keys()].sort());
  await rm(dir, { recursive: true, force: true });
}

const zeroed = (wal: Buffer, from: number, to = wal.length): Buffer => {
  const copy = Buffer.from(wal);
  copy.fill(0, from, to);
  return copy;
};

const flipped = (wal: Buffer, at: number, mask = 0x01): Buffer => {
  const copy = Buffer.from(wal);
  copy[at] = (copy[at] as number) ^ mask;
  return copy;
};

describe('a torn tail is cut away', () => {
  it('the WAL cut at every byte of its last three records', async () => {
    const { wal, offsets } = fixture;
    for (let cut = offsets[0] as number; cut < wal.length; cut++) {
      const k = recordAt(cut);
      // A cut on a record boundary leaves whole records only: nothing to report.
      await expectRecovers(wal.subarray(0, cut), k, cut !== offsets[k], 'short');
    }
    await expectRecovers(wal, 3, false);
  }, 60_000);

  it('the WAL zeroed from every byte of its last three records to the end', async () => {
    const { wal, offsets } = fixture;
    for (let from = offsets[0] as number; from < wal.length; from++) {
      const k = recordAt(from);
      await expectRecovers(zeroed(wal, from), k, true, from === offsets[k] ? 'zeroed' : undefined);
    }
  }, 60_000);

  it('zero blocks (1, 8, 64 bytes) anywhere in the last record, the rest of it intact', async () => {
    const { wal, offsets } = fixture;
    for (const width of [1, 8, 64]) {
      for (let from = offsets[2] as number; from < wal.length; from++) {
        const to = Math.min(wal.length, from + width);
        if (wal.subarray(from, to).every((byte) => byte === 0)) continue; // nothing changes
        await expectRecovers(zeroed(wal, from, to), 2, true);
      }
    }
  }, 60_000);

  it('a byte flipped at every position of the last record', async () => {
    const { wal, offsets } = fixture;
    for (let at = offsets[2] as number; at < wal.length; at++) {
      for (const mask of [0x01, 0x80])
        await expectRecovers(flipped(wal, at, mask), 2, true, 'checksum');
    }
  }, 60_000);

  it('the last record torn after the header: its payload cut, then zero-filled to its length', async () => {
    const { wal, offsets } = fixture;
    const start = offsets[2] as number;
    for (let cut = start + RECORD_HEADER_BYTES; cut < wal.length; cut++) {
      const damaged = zeroed(wal, cut);
      if (!damaged.equals(wal)) await expectRecovers(damaged, 2, true, 'checksum');
    }
  }, 60_000);

  it('the default logger writes the report as one line to stderr', async () => {
    const { wal, offsets } = fixture;
    const dir = await writeCase(wal.subarray(0, (offsets[2] as number) + 5));
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const p = await FilePersister.open(dir);
      await p.close();
      const lines = write.mock.calls
        .map(([chunk]) => String(chunk))
        .filter((line) => line.includes('raft persister'));
      expect(lines).toHaveLength(1);
      const line = lines[0] as string;
      expect(line.endsWith('\n')).toBe(true);
      expect(JSON.parse(line)).toMatchObject({
        level: 'warn',
        path: join(dir, WAL_FILE),
        offset: offsets[2],
        bytes: 5,
        kind: 'short',
      });
    } finally {
      write.mockRestore();
    }
  });
});

describe('damage followed by a valid record is corruption', () => {
  it('a byte flipped at every position of the two records before the last', async () => {
    const { wal, offsets } = fixture;
    for (let at = offsets[0] as number; at < (offsets[2] as number); at++) {
      await expectCorrupt(flipped(wal, at, 0x10), recordAt(at));
    }
  }, 60_000);

  it('zero blocks in a middle record, or zeroes to its end, with the last record intact', async () => {
    const { wal, offsets } = fixture;
    for (let k = 0; k < 2; k++) {
      const start = offsets[k] as number;
      const end = offsets[k + 1] as number;
      for (let from = start; from < end; from++) {
        for (const to of [from + 1, from + 8, end]) {
          const damaged = zeroed(wal, from, Math.min(to, end));
          if (!damaged.equals(wal)) await expectCorrupt(damaged, k);
        }
      }
    }
  }, 60_000);

  it('garbage where a record should be, then a valid record', async () => {
    const { wal, offsets } = fixture;
    const lastRecord = wal.subarray(offsets[2], wal.length);
    const head = wal.subarray(0, offsets[2]);
    for (const garbage of [
      Buffer.alloc(RECORD_HEADER_BYTES, 0xab),
      Buffer.alloc(100),
      Buffer.from([1, 2, 3]),
    ]) {
      await expectCorrupt(Buffer.concat([head, garbage, lastRecord]), 2);
    }
  });
});
