/**
 * Crash points. Each test builds the directory images a crash could leave behind at every
 * write step — the WAL cut at every byte of the last append, a snapshot or compaction
 * temporary file written but not renamed, a rename done but the old snapshot not yet removed
 * — and checks that reopening yields exactly the state before or the state after the save
 * in flight, never anything else and never an empty state.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../src/core/messages.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { RECORD_HEADER_BYTES, WAL_FILE } from '../src/persister/file-wal.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import type { PersistedState, PersistUpdate } from '../src/persister/persister.js';

type Image = Map<string, Buffer>;

let root: string;
let counter = 0;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-crash-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshDir(): string {
  counter++;
  return join(root, `d${counter}`);
}

async function readImage(dir: string): Promise<Image> {
  const image: Image = new Map();
  for (const name of await readdir(dir)) image.set(name, await readFile(join(dir, name)));
  return image;
}

async function writeImage(image: Image): Promise<string> {
  const dir = freshDir();
  await mkdir(dir);
  for (const [name, bytes] of image) await writeFile(join(dir, name), bytes);
  return dir;
}

const entry = (term: number, command: unknown = `c${term}`): LogEntry => ({ term, command });

interface Stage {
  readonly image: Image;
  readonly state: PersistedState | undefined;
}

/** Runs `history` then closes (the "before" stage), then `last` on a copy (the "after" stage). */
async function stages(history: PersistUpdate[], last: (p: FilePersister) => Promise<void>) {
  const dir = freshDir();
  const p = await FilePersister.open(dir);
  const memory = new MemoryPersister();
  for (const update of history) {
    await p.save(update);
    memory.save(update);
  }
  expect(p.load()).toEqual(memory.load());
  await p.close();
  const before: Stage = { image: await readImage(dir), state: memory.load() };
  const afterDir = await writeImage(before.image);
  const q = await FilePersister.open(afterDir);
  await last(q);
  const afterState = q.load();
  await q.close();
  const after: Stage = { image: await readImage(afterDir), state: afterState };
  return { before, after };
}

/** Records what recovery reports, so that tests can count it (and stderr stays quiet). */
function recorder(): { warns: number; infos: number; warn(): void; info(): void } {
  return {
    warns: 0,
    infos: 0,
    warn() {
      this.warns++;
    },
    info() {
      this.infos++;
    },
  };
}

/**
 * Opens the image, checks its state is `expected`, that a torn WAL tail was reported once (if
 * `torn`) or nothing was, and that a later save works and survives.
 */
async function expectRecovers(image: Image, expected: PersistedState | undefined, torn = false) {
  const dir = await writeImage(image);
  const log = recorder();
  const p = await FilePersister.open(dir, { logger: log });
  expect(p.load()).toEqual(expected);
  expect(log.warns).toBe(torn ? 1 : 0);
  const names = await readdir(dir);
  expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
  expect(names.filter((name) => name.endsWith('.snap')).length).toBe(
    expected?.snapshot === undefined ? 0 : 1,
  );
  const next = (expected?.snapshot?.index ?? 0) + (expected?.entries.length ?? 0) + 1;
  await p.save({
    entries: { from: next, entries: [entry(99)] },
    hardState: { term: 99, votedFor: 1 },
  });
  await p.close();
  const clean = recorder();
  const again = await FilePersister.open(dir, { logger: clean });
  expect(clean.warns).toBe(0);
  const state = again.load();
  expect(state?.hardState).toEqual({ term: 99, votedFor: 1 });
  expect(state?.entries).toEqual([...(expected?.entries ?? []), entry(99)]);
  expect(state?.snapshot).toEqual(expected?.snapshot);
  await again.close();
  await rm(dir, { recursive: true, force: true });
}

/** The cut points of the last append: every byte, or every header byte plus ~`sample` others. */
function cutPoints(from: number, to: number, sample = Number.POSITIVE_INFINITY): number[] {
  const all = to - from;
  if (all <= sample) return Array.from({ length: all }, (_, i) => from + i);
  const cuts = new Set<number>();
  for (let i = 0; i <= RECORD_HEADER_BYTES + 1; i++) cuts.add(from + i);
  for (let i = 1; i <= sample; i++) cuts.add(from + Math.floor((all * i) / (sample + 1)));
  cuts.add(to - 1);
  return [...cuts].sort((a, b) => a - b);
}

/**
 * The WAL append of `last` cut at every point: the state must be `before` for every strict
 * prefix and `after` for the whole record. Files `last` created besides the WAL (a new
 * snapshot) are present, files it removed (the old snapshot) are too: the crash came first.
 */
async function sweepWalAppend(history: PersistUpdate[], last: PersistUpdate, sample?: number) {
  const { before, after } = await stages(history, (p) => p.save(last));
  const walBefore = before.image.get(WAL_FILE) as Buffer;
  const walAfter = after.image.get(WAL_FILE) as Buffer;
  expect(walAfter.subarray(0, walBefore.length).equals(walBefore)).toBe(true);
  const crashed: Image = new Map([...before.image, ...after.image]);
  const cuts = cutPoints(walBefore.length, walAfter.length, sample);
  expect(cuts.length).toBeGreaterThanOrEqual(Math.min(50, walAfter.length - walBefore.length));
  for (const cut of cuts) {
    crashed.set(WAL_FILE, walAfter.subarray(0, cut));
    await expectRecovers(crashed, before.state, cut > walBefore.length);
  }
  crashed.set(WAL_FILE, walAfter);
  await expectRecovers(crashed, after.state);
  await expectRecovers(after.image, after.state);
  return { before, after };
}

const history: PersistUpdate[] = [
  { hardState: { term: 1, votedFor: 0 } },
  { entries: { from: 1, entries: [entry(1), entry(1, { put: 'k', value: 'v' })] } },
  {
    entries: { from: 3, entries: [entry(2), entry(2), entry(3)] },
    hardState: { term: 3, votedFor: 2 },
  },
];

describe('FilePersister crash during the WAL append', () => {
  it('the very first save torn at every byte loads as a fresh node or as the saved state', async () => {
    await sweepWalAppend([], {
      hardState: { term: 1, votedFor: 1 },
      entries: { from: 1, entries: [entry(1)] },
    });
  });

  it('a one-entry append torn at every byte', async () => {
    await sweepWalAppend(history, { entries: { from: 6, entries: [entry(3, 'one more')] } });
  });

  it('a truncating update with a new hard state torn at every byte', async () => {
    await sweepWalAppend(history, {
      entries: { from: 4, entries: [entry(4), entry(4)] },
      hardState: { term: 4, votedFor: null },
    });
  });

  it('a 64-entry append of 128-byte commands torn at ≥ 50 cut points', async () => {
    const entries = Array.from({ length: 64 }, () => entry(3, new Uint8Array(randomBytes(128))));
    await sweepWalAppend(history, { entries: { from: 6, entries } }, 80);
  }, 60_000);

  it('a snapshot update torn at every byte of its WAL record (the new snapshot file exists)', async () => {
    const { before, after } = await sweepWalAppend(
      [...history, { snapshot: { index: 2, term: 1, data: new Uint8Array([1, 1]) } }],
      {
        snapshot: { index: 4, term: 2, data: new Uint8Array(randomBytes(300)) },
        entries: { from: 6, entries: [entry(3)] },
        hardState: { term: 3, votedFor: 0 },
      },
    );
    expect(before.state?.snapshot?.index).toBe(2);
    expect(after.state?.snapshot?.index).toBe(4);
    expect(after.state?.entries).toEqual([entry(3), entry(3)]);
  }, 30_000);
});

describe('FilePersister crash during a snapshot write', () => {
  const withOld: PersistUpdate[] = [
    ...history,
    { snapshot: { index: 1, term: 1, data: new Uint8Array([5, 5, 5]) } },
  ];
  const last: PersistUpdate = {
    snapshot: { index: 3, term: 2, data: new Uint8Array(randomBytes(2000)) },
  };

  async function snapshotStages() {
    const { before, after } = await stages(withOld, (p) => p.save(last));
    const oldName = [...before.image.keys()].find((name) => name.endsWith('.snap')) as string;
    const newName = [...after.image.keys()].find((name) => name.endsWith('.snap')) as string;
    expect(oldName).toBeDefined();
    expect(newName).not.toBe(oldName);
    expect(after.image.has(oldName)).toBe(false);
    return { before, after, oldName, newName, newBytes: after.image.get(newName) as Buffer };
  }

  it('a tmp file left behind without rename (any length) is ignored and cleaned', async () => {
    const { before, newName, newBytes } = await snapshotStages();
    for (const cut of [0, 1, 20, 47, 48, 49, 1000, newBytes.length - 1, newBytes.length]) {
      const image = new Map(before.image);
      image.set(`${newName}.tmp`, newBytes.subarray(0, cut));
      await expectRecovers(image, before.state);
    }
  });

  it('renamed but neither the directory fsynced nor the WAL appended: the old state, the new file cleaned', async () => {
    const { before, newName, newBytes } = await snapshotStages();
    const image = new Map(before.image);
    image.set(newName, newBytes);
    await expectRecovers(image, before.state);
    // The lost rename: only the complete tmp file.
    const lost = new Map(before.image);
    lost.set(`${newName}.tmp`, newBytes);
    await expectRecovers(lost, before.state);
  });

  it('committed but the old snapshot not yet removed: the new state, the old file cleaned', async () => {
    const { before, after, oldName } = await snapshotStages();
    const image = new Map(after.image);
    image.set(oldName, before.image.get(oldName) as Buffer);
    await expectRecovers(image, after.state);
    expect(after.state?.snapshot?.index).toBe(3);
    expect(after.state?.entries.length).toBe(2);
  });

  it('a later snapshot after recovering from a leftover never reuses a file name wrongly', async () => {
    const { before, newName, newBytes } = await snapshotStages();
    const image = new Map(before.image);
    image.set(newName, newBytes);
    const dir = await writeImage(image);
    const p = await FilePersister.open(dir);
    const data = new Uint8Array([4, 4, 4, 4]);
    await p.save({ snapshot: { index: 4, term: 2, data } });
    await p.close();
    const again = await FilePersister.open(dir);
    expect(again.load()?.snapshot).toEqual({ index: 4, term: 2, data });
    expect((await readdir(dir)).filter((name) => name.endsWith('.snap'))).toHaveLength(1);
    await again.close();
  });
});

describe('FilePersister crash during compaction', () => {
  async function compactionStages() {
    const many: PersistUpdate[] = [...history];
    for (let i = 0; i < 40; i++) {
      many.push({
        entries: { from: 6, entries: [entry(3, `rewrite ${i}`)] },
        hardState: { term: 3, votedFor: i % 2 },
      });
    }
    many.push({ snapshot: { index: 2, term: 1, data: new Uint8Array([8, 8]) } });
    const stages_ = await stages(many, (p) => p.compact());
    expect(stages_.after.state).toEqual(stages_.before.state);
    const walBefore = stages_.before.image.get(WAL_FILE) as Buffer;
    const walAfter = stages_.after.image.get(WAL_FILE) as Buffer;
    expect(walAfter.length).toBeLessThan(walBefore.length / 4);
    return { ...stages_, walBefore, walAfter };
  }

  it('tmp written (any length) but not renamed: the old WAL is recovered and the tmp cleaned', async () => {
    const { before, walBefore, walAfter } = await compactionStages();
    for (const cut of [
      0,
      4,
      8,
      13,
      Math.floor(walAfter.length / 2),
      walAfter.length - 1,
      walAfter.length,
    ]) {
      const image = new Map(before.image);
      image.set(`${WAL_FILE}.tmp`, walAfter.subarray(0, cut));
      const dir = await writeImage(image);
      const p = await FilePersister.open(dir);
      expect(p.load()).toEqual(before.state);
      expect(p.walSize).toBe(walBefore.length);
      await p.close();
      expect((await readFile(join(dir, WAL_FILE))).equals(walBefore)).toBe(true);
      expect(await readdir(dir)).not.toContain(`${WAL_FILE}.tmp`);
      await expectRecovers(image, before.state);
    }
  });

  it('renamed (directory fsynced or not): the compacted WAL holds the same state', async () => {
    const { before, after } = await compactionStages();
    await expectRecovers(after.image, before.state);
  });

  it('an empty WAL being created for a fresh node (tmp never renamed) is a fresh node', async () => {
    await expectRecovers(new Map([[`${WAL_FILE}.tmp`, Buffer.from('FLW')]]), undefined);
  });
});
