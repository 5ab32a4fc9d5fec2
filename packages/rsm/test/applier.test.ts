/**
 * The apply loop, message by message, without Raft: no-ops and foreign entries only advance
 * the index, the duplicate table answers retries, and snapshots are canonical bytes (the same
 * contents give the same bytes whatever order they were filled in) that restore exactly.
 */
import type { ApplyMsg } from '@flotilla/raft';
import { describe, expect, it } from 'vitest';
import { Applier } from '../src/applier.js';
import { commandEntry, readEntry } from '../src/entry.js';
import {
  ClientSessions,
  type Session,
  StaleRequestError,
  type StateMachine,
} from '../src/index.js';
import { decodeSnapshot } from '../src/snapshot-codec.js';
import { KvMachine, type KvOp } from './support/kv-machine.js';

const asAny = (m: KvMachine) => m as unknown as StateMachine<unknown, unknown, unknown>;

function command(index: number, op: KvOp, session?: Session): ApplyMsg {
  return { type: 'command', index, term: 1, command: commandEntry(op, session) };
}

describe('Applier', () => {
  it('skips no-ops and entries rsm did not write; both advance lastApplied', () => {
    const machine = new KvMachine();
    const applier = new Applier(asAny(machine));
    expect(applier.apply({ type: 'noop', index: 1, term: 1 })).toEqual({
      kind: 'skipped',
      index: 1,
      term: 1,
    });
    expect(applier.apply({ type: 'command', index: 2, term: 1, command: 'raw' }).kind).toBe(
      'skipped',
    );
    expect(applier.apply({ type: 'command', index: 3, term: 1, command: [1, {}, 'x'] }).kind).toBe(
      'skipped',
    );
    expect(applier.lastApplied).toBe(3);
    expect(machine.applied).toEqual([]);
    expect(applier.apply({ type: 'command', index: 4, term: 2, command: readEntry() })).toEqual({
      kind: 'entry',
      index: 4,
      term: 2,
      outcome: { ok: true, result: undefined },
    });
    expect(machine.applied).toEqual([]);
  });

  it('applies an op once per session and answers a retry with its result; older seqs are stale', () => {
    const machine = new KvMachine();
    const applier = new Applier(asAny(machine));
    const op: KvOp = { type: 'append', key: 'k', value: 'a' };
    const s1 = { clientId: 1, seq: 1 };
    expect(applier.apply(command(1, op, s1))).toMatchObject({ outcome: { ok: true, result: 'a' } });
    expect(applier.apply(command(2, op, s1))).toMatchObject({ outcome: { ok: true, result: 'a' } });
    expect(applier.apply(command(3, op))).toMatchObject({ outcome: { ok: true, result: 'aa' } });
    applier.apply(command(4, op, { clientId: 1, seq: 2 }));
    const stale = applier.apply(command(5, op, s1));
    expect(stale.kind === 'entry' && !stale.outcome.ok && stale.outcome.error).toBeInstanceOf(
      StaleRequestError,
    );
    expect(machine.get('k')).toBe('aaa');
    expect(machine.applied.map((a) => a.index)).toEqual([1, 3, 4]);
  });

  it('saves the same bytes for the same contents, whatever order they were filled in', () => {
    const a = new Applier(asAny(new KvMachine()));
    const b = new Applier(asAny(new KvMachine()));
    const ops: [KvOp, Session][] = [
      [
        { type: 'put', key: 'x', value: '1' },
        { clientId: 'b', seq: 1 },
      ],
      [
        { type: 'put', key: 'y', value: '2' },
        { clientId: 3, seq: 4 },
      ],
      [
        { type: 'put', key: 'z', value: '3' },
        { clientId: 'a', seq: 2 },
      ],
    ];
    for (const [i, [op, s]] of ops.entries()) a.apply(command(i + 1, op, s));
    for (const [i, [op, s]] of [...ops].reverse().entries()) b.apply(command(i + 1, op, s));
    expect(Buffer.from(a.snapshot()).equals(Buffer.from(b.snapshot()))).toBe(true);
  });

  it('restores machine and duplicate table from a snapshot message, byte for byte', () => {
    const a = new Applier(asAny(new KvMachine()));
    a.apply(command(1, { type: 'append', key: 'k', value: 'v' }, { clientId: 1, seq: 1 }));
    const machine = new KvMachine();
    const b = new Applier(asAny(machine));
    expect(b.apply({ type: 'snapshot', index: 1, term: 1, snapshot: a.snapshot() })).toEqual({
      kind: 'restored',
      index: 1,
    });
    expect(b.lastApplied).toBe(1);
    expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
    // The retry is answered from the restored table, not applied again.
    b.apply(command(2, { type: 'append', key: 'k', value: 'v' }, { clientId: 1, seq: 1 }));
    expect(machine.get('k')).toBe('v');
  });

  it('refuses snapshot bytes it did not write', () => {
    const applier = new Applier(asAny(new KvMachine()));
    expect(() =>
      applier.apply({ type: 'snapshot', index: 5, term: 1, snapshot: new Uint8Array([0x90]) }),
    ).toThrow(/not an rsm snapshot/);
  });

  it("uses the machine's own tables when it has sessionsFor (one per shard), and saves none itself", () => {
    const shards = [new ClientSessions<string>(), new ClientSessions<string>()];
    const machine = new KvMachine() as KvMachine & StateMachine<KvOp, string, unknown>;
    machine.sessionsFor = (op: KvOp) => shards[op.key < 'm' ? 0 : 1] as ClientSessions<string>;
    const applier = new Applier(asAny(machine));
    const session = { clientId: 1, seq: 1 };
    applier.apply(command(1, { type: 'append', key: 'a', value: '1' }, session));
    // Same session, other shard: that shard's table has not seen it.
    applier.apply(command(2, { type: 'append', key: 'z', value: '1' }, session));
    applier.apply(command(3, { type: 'append', key: 'z', value: '1' }, session));
    expect(machine.snapshot()).toEqual([
      ['a', '1'],
      ['z', '1'],
    ]);
    expect(shards.map((s) => s.toSnapshot())).toEqual([[[1, 1, '1']], [[1, 1, '1']]]);
    expect(decodeSnapshot(applier.snapshot()).sessions).toBeNull();
  });
});

describe('ClientSessions', () => {
  it('orders its snapshot by clientId: numbers ascending, then strings', () => {
    const sessions = new ClientSessions<number>();
    for (const id of ['b', 10, 'a', 2, -1]) sessions.record({ clientId: id, seq: 1 }, 0);
    expect(sessions.toSnapshot().map(([id]) => id)).toEqual([-1, 2, 10, 'a', 'b']);
    const copy = ClientSessions.fromSnapshot(sessions.toSnapshot());
    expect(copy.size).toBe(5);
    expect(copy.lastSeq('a')).toBe(1);
    expect(copy.check({ clientId: 2, seq: 1 })).toEqual({ status: 'duplicate', result: 0 });
    expect(copy.check({ clientId: 2, seq: 2 })).toEqual({ status: 'new' });
  });
});
