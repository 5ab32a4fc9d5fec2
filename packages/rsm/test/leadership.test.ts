/**
 * A leader cut off from the majority: what it had proposed rejects with LeadershipLostError or
 * SubmitTimeoutError (outcome unknown), never with a result; the majority elects a leader
 * and goes on; a clerk that retries with the same session gets its op applied exactly once.
 */
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { LeadershipLostError, SubmitTimeoutError } from '../src/index.js';
import { withCluster } from './support/cluster.js';

const unknownOutcome = (err: unknown): boolean =>
  err instanceof LeadershipLostError || err instanceof SubmitTimeoutError;

describe('a leader partitioned into a minority', () => {
  it.each([3, 5])(
    'rejects what it proposed with LeadershipLost or a timeout, never a result (%i servers)',
    async (n) => {
      await simulateTest(`minority-leader-${n}`, (sim) =>
        withCluster(sim, n, {}, async (c) => {
          const old = await c.leader();
          await c.server(old).submit({ type: 'put', key: 'k', value: 'base' });
          const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== old);
          c.partition([old], others);
          const pending = [1, 2, 3].map((i) =>
            c
              .server(old)
              .submit({ type: 'append', key: 'k', value: `-${i}` })
              .then(
                (result) => ({ ok: true as const, result }),
                (err: unknown) => ({ ok: false as const, err }),
              ),
          );
          const outcomes = await Promise.all(pending);
          for (const outcome of outcomes) {
            expect(outcome.ok).toBe(false);
            if (!outcome.ok) expect(unknownOutcome(outcome.err)).toBe(true);
          }
          // The majority never saw those appends and goes on without them.
          const fresh = await c.leader(others);
          expect(fresh).not.toBe(old);
          expect(await c.server(fresh).submit({ type: 'append', key: 'k', value: '+' })).toBe(
            'base+',
          );
          c.connectAll();
          await c.appliedEverywhere(c.server(fresh).lastApplied);
          await sim.sleep(1000);
          for (let i = 0; i < n; i++) expect(c.machine(i).get('k')).toBe('base+');
        }),
      );
    },
  );

  it('rejects with SubmitTimeoutError when it does not notice (checkQuorum off)', async () => {
    await simulateTest('minority-leader-timeout', (sim) =>
      withCluster(sim, 3, { checkQuorum: false, submitTimeoutMs: 700 }, async (c) => {
        const old = await c.leader();
        c.partition(
          [old],
          [0, 1, 2].filter((i) => i !== old),
        );
        const t0 = sim.clock.now();
        const err = await c
          .server(old)
          .submit({ type: 'put', key: 'k', value: 'lost' })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(SubmitTimeoutError);
        expect(err).toMatchObject({ code: 'ERR_SUBMIT_TIMEOUT', timeoutMs: 700 });
        expect(sim.clock.now() - t0).toBe(700);
      }),
    );
  });

  it('a retry with the same session after an unknown outcome applies the op exactly once', async () => {
    await simulateTest('minority-leader-retry', (sim) =>
      withCluster(sim, 5, {}, async (c) => {
        const old = await c.leader();
        const session = { clientId: 7, seq: 1 };
        const first = c
          .server(old)
          .submit({ type: 'append', key: 'k', value: 'x' }, session)
          .catch((e: unknown) => e);
        // Let the entry reach some followers, then cut the leader off: whether it commits is
        // up to the next leader.
        await sim.sleep(sim.random.int(30));
        const others = [0, 1, 2, 3, 4].filter((i) => i !== old);
        c.partition([old, others[0] as number], others.slice(1));
        const outcome = await first;
        if (typeof outcome !== 'string') expect(unknownOutcome(outcome)).toBe(true);
        c.connectAll();
        const retried = await c.submitToLeader({ type: 'append', key: 'k', value: 'x' }, session);
        expect(retried).toBe('x');
        await c.appliedEverywhere(c.server(await c.leader()).lastApplied);
        for (let i = 0; i < 5; i++) {
          expect(c.machine(i).get('k')).toBe('x');
          expect(c.machine(i).applied.filter(({ op }) => op.type === 'append')).toHaveLength(1);
        }
      }),
    );
  });
});
