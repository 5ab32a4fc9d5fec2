import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../src/core/raft.js';
import type { OutgoingRequest, Ready } from '../src/core/ready.js';
import { ELECTION_TICKS, fixedRandom, HEARTBEAT_TICKS, newCore } from './support/core-config.js';
import { appendArgs, ok, stateOf } from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import {
  cycle,
  dataAppends,
  deliver,
  electLeader,
  requestsOf,
  tickUntilCampaign,
} from './support/core-steps.js';

/** Leader 0 of `n` servers, term 1, every follower replicating, entry 1 (term 1) committed. */
function readyLeader(n: number): RaftCore {
  const leader = newCore(0, n);
  for (const r of requestsOf(electLeader(leader), 'AppendEntries')) leader.stepResponse(r, ok(1));
  cycle(leader);
  leader.propose('x');
  for (const r of dataAppends(cycle(leader))) leader.stepResponse(r, ok(1));
  cycle(leader);
  expect(leader.commitIndex).toBe(1);
  return leader;
}

function heartbeatsIn(ready: Ready): OutgoingRequest<'AppendEntries'>[] {
  return requestsOf(ready, 'AppendEntries').filter((r) => r.args.entries.length === 0);
}

describe('RaftCore ReadIndex (§6.4)', () => {
  it('requestRead on a follower or candidate fails with not-leader', () => {
    const follower = newCore(1, 3);
    follower.requestRead(7);
    expect(cycle(follower).reads).toEqual([{ id: 7, ok: false, reason: 'not-leader' }]);
    const candidate = newCore(1, 3);
    tickUntilCampaign(candidate);
    candidate.requestRead(8);
    expect(cycle(candidate).reads).toEqual([{ id: 8, ok: false, reason: 'not-leader' }]);
  });

  it('requestRead on a new leader with no entry of its term committed fails with not-ready', () => {
    const fresh = newCore(0, 3);
    electLeader(fresh);
    fresh.requestRead(1);
    expect(cycle(fresh).reads).toEqual([{ id: 1, ok: false, reason: 'not-ready' }]);

    // Entries of term 1 known committed by everyone, but this leader is of term 2.
    const leader = newCore(0, 3, {}, stateOf(1, null, [1, 1]));
    const lead = electLeader(leader);
    for (const r of requestsOf(lead, 'AppendEntries')) leader.stepResponse(r, ok(2));
    cycle(leader);
    leader.requestRead(2);
    expect(cycle(leader).reads).toEqual([{ id: 2, ok: false, reason: 'not-ready' }]);
    // Once an entry of term 2 commits, reads are served.
    leader.propose('y');
    for (const r of dataAppends(cycle(leader))) leader.stepResponse(r, ok(2));
    expect(leader.commitIndex).toBe(3);
    leader.requestRead(3);
    const first = cycle(leader);
    expect(first.reads).toEqual([]);
    leader.stepResponse(heartbeatsIn(first)[0] as OutgoingRequest<'AppendEntries'>, ok(2));
    expect(cycle(leader).reads).toEqual([{ id: 3, ok: true, index: 3 }]);
  });

  it('resolves with the commitIndex at request time, only after a majority acknowledged a heartbeat round sent after the request', () => {
    const leader = readyLeader(3);
    // A heartbeat round sent before the read.
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const before = heartbeatsIn(cycle(leader));
    expect(before).toHaveLength(2);
    leader.requestRead(42);
    const round = cycle(leader);
    expect(round.reads).toEqual([]);
    const after = heartbeatsIn(round);
    expect(after.map((r) => r.to).sort()).toEqual([1, 2]);
    // Acks for the earlier round prove nothing about leadership at the time of the read.
    for (const r of before) leader.stepResponse(r, ok(1));
    expect(cycle(leader).reads).toEqual([]);
    // The commit index moves on before the read is confirmed…
    leader.propose('y');
    const y = cycle(leader);
    leader.stepResponse(dataAppends(y, 2)[0] as OutgoingRequest<'AppendEntries'>, ok(1));
    expect(leader.commitIndex).toBe(2);
    // …and the read (confirmed by that very ack, sent after the request) still reads at 1.
    expect(cycle(leader).reads).toEqual([{ id: 42, ok: true, index: 1 }]);
  });

  it('in a 5-server cluster a read needs two followers’ acknowledgements, and pending reads resolve in order', () => {
    const leader = readyLeader(5);
    leader.requestRead(1);
    leader.requestRead(2);
    const round = heartbeatsIn(cycle(leader));
    // At least one heartbeat per follower (the two reads may share one round).
    expect(new Set(round.map((r) => r.to))).toEqual(new Set([1, 2, 3, 4]));
    const to = (peer: number) =>
      round.filter((r) => r.to === peer).at(-1) as OutgoingRequest<'AppendEntries'>;
    leader.stepResponse(to(3), ok(1));
    expect(cycle(leader).reads).toEqual([]);
    leader.stepResponse(to(4), ok(1));
    expect(cycle(leader).reads).toEqual([
      { id: 1, ok: true, index: 1 },
      { id: 2, ok: true, index: 1 },
    ]);
  });

  it('a rejected AppendEntries of the current term also confirms leadership for a read', () => {
    const leader = readyLeader(3);
    leader.requestRead(5);
    const [hb] = heartbeatsIn(cycle(leader));
    if (hb === undefined) throw new Error('heartbeat');
    leader.stepResponse(hb, { term: 1, success: false, conflictTerm: 0, conflictIndex: 1 });
    expect(cycle(leader).reads).toEqual([{ id: 5, ok: true, index: 1 }]);
  });

  it('a single-server leader serves a read at once', () => {
    const core = newCore(0, 1);
    tickUntilCampaign(core);
    core.propose('x');
    cycle(core);
    core.requestRead(9);
    expect(cycle(core).reads).toEqual([{ id: 9, ok: true, index: 1 }]);
  });

  it('a leader that steps down (higher term) fails its pending reads with not-leader', () => {
    const leader = readyLeader(3);
    leader.requestRead(1);
    cycle(leader);
    const { ready } = deliver(leader, 'AppendEntries', appendArgs({ term: 2, leaderId: 2 }));
    expect(ready.reads).toEqual([{ id: 1, ok: false, reason: 'not-leader' }]);
    leader.requestRead(2);
    expect(cycle(leader).reads).toEqual([{ id: 2, ok: false, reason: 'not-leader' }]);
  });

  it('a leader that steps down fails its pending reads in the Ready that follows', () => {
    const leader = readyLeader(3);
    leader.requestRead(1);
    cycle(leader);
    leader.stepRequest(
      'RequestVote',
      { term: 5, candidateId: 1, lastLogIndex: 1, lastLogTerm: 1 },
      77,
    );
    expect(cycle(leader).reads).toEqual([{ id: 1, ok: false, reason: 'not-leader' }]);
  });

  it('check-quorum step-down fails pending reads too', () => {
    const net = new CoreNet({
      n: 3,
      core: { checkQuorum: true },
      random: (i) => fixedRandom(i === 0 ? 0 : 9),
    });
    expect(net.electLeader()).toBe(0);
    net.propose(0, 'x');
    net.run(2);
    net.isolate(0);
    net.requestRead(0, 11);
    net.run(2 * ELECTION_TICKS, [0]);
    expect(net.core(0).isLeader).toBe(false);
    expect(net.reads[0]).toEqual([{ id: 11, ok: false, reason: 'not-leader' }]);
  });
});
