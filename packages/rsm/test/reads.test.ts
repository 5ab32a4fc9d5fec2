/**
 * Linearizable reads, through ReadIndex (no log write) and through the log: a read after a
 * resolved submit sees it; a follower refuses; a leader cut off in a minority never answers
 * one (it rejects with NotLeaderError once it steps down, or with ReadTimeoutError).
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { NotLeaderError, type ReadMode, ReadTimeoutError } from '../src/index.js';
import { withCluster } from './support/cluster.js';

describe.each<ReadMode>(['read-index', 'log'])('reads (%s)', (reads) => {
  it('a read after a resolved submit sees it, on every leader in turn', async () => {
    await simulateTest(`read-after-write-${reads}`, (sim) =>
      withCluster(sim, 5, { reads }, async (c) => {
        for (let round = 0; round < 3; round++) {
          const leader = await c.leader();
          const rsm = c.server(leader);
          await rsm.submit({ type: 'put', key: 'k', value: `v${round}` });
          expect(await rsm.read((m) => m.get('k'))).toBe(`v${round}`);
          // A read asked right after a new leader is elected waits for its no-op to commit.
          c.crash1(leader);
          const next = await c.leader();
          expect(await c.server(next).read((m) => m.get('k'))).toBe(`v${round}`);
          await c.start1(leader);
        }
      }),
    );
  });

  it('a follower refuses with NotLeaderError and its leader hint', async () => {
    await simulateTest(`read-follower-${reads}`, (sim) =>
      withCluster(sim, 3, { reads }, async (c) => {
        const leader = await c.leader();
        await c.server(leader).submit({ type: 'put', key: 'k', value: 'v' });
        const err = await c
          .server((leader + 1) % 3)
          .read((m) => m.get('k'))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NotLeaderError);
        expect(err).toMatchObject({ leaderHint: leader });
      }),
    );
  });

  it.each([true, false])(
    'a minority leader never answers (checkQuorum %s), while the majority moves on',
    async (checkQuorum) => {
      await simulateTest(`read-minority-${reads}-${checkQuorum}`, (sim) =>
        withCluster(sim, 5, { reads, checkQuorum, readTimeoutMs: 3000 }, async (c) => {
          const old = await c.leader();
          await c.server(old).submit({ type: 'put', key: 'k', value: 'old' });
          const others = [0, 1, 2, 3, 4].filter((i) => i !== old);
          c.partition([old, others[0] as number], others.slice(1));
          const read = c
            .server(old)
            .read((m) => m.get('k'))
            .then(
              (value) => ({ ok: true as const, value }),
              (err: unknown) => ({ ok: false as const, err }),
            );
          const fresh = await c.leader(others.slice(1));
          await c.server(fresh).submit({ type: 'put', key: 'k', value: 'new' });
          const outcome = await read;
          expect(outcome.ok).toBe(false);
          if (!outcome.ok) {
            const expected = checkQuorum ? NotLeaderError : ReadTimeoutError;
            // Through the log, a leader that steps down loses its marker entry instead.
            if (reads === 'read-index') expect(outcome.err).toBeInstanceOf(expected);
            else
              expect((outcome.err as { code: string }).code).toMatch(
                /LEADERSHIP_LOST|READ_TIMEOUT/,
              );
          }
        }),
      );
    },
  );

  it('a query that throws rejects its read only', async () => {
    await simulateTest(`read-throws-${reads}`, (sim) =>
      withCluster(sim, 3, { reads }, async (c) => {
        const rsm = c.server(await c.leader());
        await rsm.submit({ type: 'put', key: 'k', value: 'v' });
        await expect(
          rsm.read(() => {
            throw new RangeError('no such key');
          }),
        ).rejects.toBeInstanceOf(RangeError);
        expect(rsm.closed).toBe(false);
        expect(await rsm.submit({ type: 'append', key: 'k', value: 'w' })).toBe('vw');
        expect(await rsm.read((m) => m.get('k'))).toBe('vw');
      }),
    );
  });
});

describe('the read path', () => {
  it.each([
    ['read-index', 0],
    ['log', 10],
  ] as const)('with %s, ten reads add %i entries to the log', async (reads, entries) => {
    await simulateTest(`read-log-writes-${reads}`, (sim) =>
      withCluster(sim, 3, { reads }, async (c) => {
        const rsm = c.server(await c.leader());
        await rsm.submit({ type: 'put', key: 'k', value: 'v' });
        const before = rsm.lastApplied;
        for (let i = 0; i < 10; i++) expect(await rsm.read((m) => m.get('k'))).toBe('v');
        expect(rsm.lastApplied - before).toBe(entries);
      }),
    );
  });
});
