/**
 * Property: whatever the interleaving of clients and however often, and however late, each op
 * is retried, applying the log through rsm gives the state of applying each distinct op once,
 * in the order of first appearance; every retry answers its first run's result or, once the
 * client has moved on, StaleRequestError. A snapshot taken and restored anywhere in the log
 * changes nothing. `FLOTILLA_SEED=<n>` runs other cases; `RSM_PROPERTY_RUNS=<n>` more of them.
 */
import type { ApplyMsg } from '@flotilla/raft';
import { chooseSeed } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Applier, type EntryOutcome } from '../src/applier.js';
import { commandEntry } from '../src/entry.js';
import { type Session, StaleRequestError, type StateMachine } from '../src/index.js';
import { KvMachine, type KvOp } from './support/kv-machine.js';

interface LogOp {
  readonly op: KvOp;
  readonly session: Session;
}

const seed = chooseSeed(0x5e55);
const numRuns = Number(process.env.RSM_PROPERTY_RUNS ?? 300);

const arbOp: fc.Arbitrary<KvOp> = fc.record({
  type: fc.constantFrom('put' as const, 'append' as const),
  key: fc.constantFrom('a', 'b', 'c'),
  value: fc.string({ maxLength: 3 }),
});

/** A log: each client's ops numbered 1, 2, … in order, interleaved; then copies inserted later. */
const arbLog = fc
  .record({
    firsts: fc.array(fc.record({ client: fc.integer({ min: 0, max: 3 }), op: arbOp }), {
      maxLength: 40,
    }),
    retries: fc.array(fc.record({ pick: fc.nat(), offset: fc.nat() }), { maxLength: 40 }),
    cut: fc.nat(),
  })
  .map(({ firsts, retries, cut }) => {
    const seqs = new Map<number, number>();
    const log: LogOp[] = firsts.map(({ client, op }) => {
      const seq = (seqs.get(client) ?? 0) + 1;
      seqs.set(client, seq);
      return { op, session: { clientId: client, seq } };
    });
    const distinct = log.slice();
    for (const { pick, offset } of retries) {
      if (distinct.length === 0) break;
      const original = distinct[pick % distinct.length] as LogOp;
      const first = log.indexOf(original);
      log.splice(first + 1 + (offset % (log.length - first)), 0, original);
    }
    return { distinct, log, cut: cut % (log.length + 1) };
  });

const asAny = (m: KvMachine) => m as unknown as StateMachine<unknown, unknown, unknown>;

function msg(index: number, { op, session }: LogOp): ApplyMsg {
  return { type: 'command', index, term: 1, command: commandEntry(op, session) };
}

describe('duplicate retries (property)', () => {
  it('give the state of applying each distinct op once', () => {
    fc.assert(
      fc.property(arbLog, ({ distinct, log, cut }) => {
        // The model: each distinct op once, in order, straight on a machine.
        const model = new KvMachine();
        const firstResult = new Map<LogOp, string>();
        distinct.forEach((entry, i) => {
          firstResult.set(
            entry,
            model.apply(entry.op, { index: i + 1, term: 1, session: undefined }),
          );
        });

        let machine = new KvMachine();
        let applier = new Applier(asAny(machine));
        const latestSeq = new Map<unknown, number>();
        log.forEach((entry, i) => {
          if (i === cut) {
            // A replica restarted (or caught up) from a snapshot at this point.
            const bytes = applier.snapshot();
            machine = new KvMachine();
            applier = new Applier(asAny(machine));
            applier.apply({ type: 'snapshot', index: i, term: 1, snapshot: bytes });
          }
          const applied = applier.apply(msg(i + 1, entry));
          if (applied.kind !== 'entry') throw new Error('a command was skipped');
          const outcome: EntryOutcome = applied.outcome;
          const { clientId, seq } = entry.session;
          const latest = latestSeq.get(clientId) ?? 0;
          if (seq >= latest) {
            expect(outcome).toEqual({ ok: true, result: firstResult.get(entry) });
            latestSeq.set(clientId, seq);
          } else {
            expect(outcome.ok).toBe(false);
            if (!outcome.ok) expect(outcome.error).toBeInstanceOf(StaleRequestError);
          }
        });
        expect(machine.snapshot()).toEqual(model.snapshot());
      }),
      { seed, numRuns },
    );
  });
});
