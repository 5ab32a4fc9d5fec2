/**
 * FilePersister must hold exactly what MemoryPersister holds after any sequence of valid
 * updates, while running and after close/reopen, with compaction at any point.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../src/core/messages.js';
import { FilePersister, type FilePersisterOptions } from '../src/persister/file-persister.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import type { PersistUpdate } from '../src/persister/persister.js';

let root: string;
let runs = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-prop-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const command = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.integer(),
  fc.uint8Array({ maxLength: 40 }),
  fc.record({
    op: fc.constantFrom('put', 'append', 'get'),
    key: fc.string({ maxLength: 6 }),
    n: fc.nat(),
  }),
  fc.constant(null),
);

/** An update described independently of the state; `toUpdate` makes it valid for a state. */
const saveOp = fc.record({
  kind: fc.constant('save' as const),
  snapshot: fc.option(
    fc.record({
      pick: fc.nat(),
      matching: fc.boolean(),
      term: fc.integer({ min: 1, max: 9 }),
      data: fc.uint8Array({ maxLength: 64 }),
    }),
    { freq: 4 },
  ),
  entries: fc.option(
    fc.record({
      back: fc.nat({ max: 6 }),
      items: fc.array(fc.record({ term: fc.integer({ min: 1, max: 9 }), command }), {
        maxLength: 6,
      }),
    }),
    { freq: 5 },
  ),
  hardState: fc.option(
    fc.record({ term: fc.nat({ max: 20 }), votedFor: fc.option(fc.nat({ max: 4 })) }),
    { freq: 3 },
  ),
});

const op = fc.oneof(
  { weight: 8, arbitrary: saveOp },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
);

type SaveOp = typeof saveOp extends fc.Arbitrary<infer T> ? T : never;

function toUpdate(model: MemoryPersister, o: SaveOp): PersistUpdate {
  const state = model.load();
  let snapIndex = state?.snapshot?.index ?? 0;
  let entries: readonly LogEntry[] = state?.entries ?? [];
  const last = snapIndex + entries.length;
  const update: {
    snapshot?: PersistUpdate['snapshot'];
    entries?: PersistUpdate['entries'];
    hardState?: PersistUpdate['hardState'];
  } = {};
  if (o.snapshot !== null) {
    // Anywhere from the current snapshot to a little past the end of the log.
    const index = snapIndex + (o.snapshot.pick % (last - snapIndex + 3));
    const at = entries[index - snapIndex - 1];
    const term = o.snapshot.matching && at !== undefined ? at.term : o.snapshot.term;
    update.snapshot = { index, term, data: o.snapshot.data };
    const keeps = at !== undefined && at.term === term;
    entries = keeps ? entries.slice(index - snapIndex) : [];
    snapIndex = index;
  }
  if (o.entries !== null) {
    const end = snapIndex + entries.length;
    const from = end + 1 - (o.entries.back % (entries.length + 1));
    update.entries = { from, entries: o.entries.items };
  }
  if (o.hardState !== null) update.hardState = o.hardState;
  return update;
}

async function expectSame(file: FilePersister, memory: MemoryPersister): Promise<void> {
  expect(file.load()).toEqual(memory.load());
  expect(file.raftStateSize()).toBe(memory.raftStateSize());
  expect(file.snapshotSize()).toBe(memory.snapshotSize());
}

describe('FilePersister is equivalent to MemoryPersister', () => {
  it('for random sequences of valid updates, across close/reopen and compaction', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 14 }),
        fc.constantFrom<FilePersisterOptions>(
          {},
          { compactMinBytes: 0, compactRatio: 2 },
          { compactMinBytes: 256, compactRatio: 1.5 },
        ),
        async (ops, options) => {
          runs++;
          const dir = join(root, `run-${runs}`);
          const memory = new MemoryPersister();
          let file = await FilePersister.open(dir, options);
          try {
            for (const o of ops) {
              if (o.kind === 'reopen') {
                await file.close();
                file = await FilePersister.open(dir, options);
              } else if (o.kind === 'compact') {
                await file.compact();
              } else {
                const update = toUpdate(memory, o);
                memory.save(update);
                await file.save(update);
              }
              await expectSame(file, memory);
            }
            await file.close();
            file = await FilePersister.open(dir, options);
            await expectSame(file, memory);
            const names = await readdir(dir);
            expect(names.filter((name) => name.endsWith('.tmp'))).toEqual([]);
            expect(names.filter((name) => name.endsWith('.snap')).length).toBe(
              memory.load()?.snapshot === undefined ? 0 : 1,
            );
          } finally {
            await file.close();
            await rm(dir, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 150 },
    );
  }, 120_000);
});
