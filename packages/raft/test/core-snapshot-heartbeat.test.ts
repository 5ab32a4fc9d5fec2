import { describe, expect, it } from 'vitest';
import type { Role } from '../src/core/raft.js';
import type { OutgoingRequest } from '../src/core/ready.js';
import { ELECTION_TICKS, fixedRandom, HEARTBEAT_TICKS, newCore } from './support/core-config.js';
import { ok, reject, stateOf } from './support/core-fixtures.js';
import { CoreNet, type Rpc } from './support/core-net.js';
import { cycle, deliver, electLeader, requestsOf } from './support/core-steps.js';

const DATA = new Uint8Array([7, 7, 7]);

/**
 * Three servers with check-quorum and pre-vote: 0 leads; 1 was cut off while 0 and 2
 * committed and 0 compacted; then 2 goes down and 1 comes back. 0 and 1 are the only
 * majority left, and 1 needs a snapshot.
 */
function snapshotNeededWithOneDown(): CoreNet {
  const net = new CoreNet({
    n: 3,
    core: { checkQuorum: true, preVote: true },
    random: (i) => fixedRandom(i === 0 ? 0 : 2 + i),
  });
  expect(net.electLeader()).toBe(0);
  net.isolate(1);
  for (let k = 0; k < 10; k++) net.propose(0, `a${k}`);
  net.run(3);
  expect(net.compact(0)).toBe(true);
  expect(net.core(0).snapshotIndex).toBe(10);
  net.crash(2);
  net.heal();
  return net;
}

const isInstall = (rpc: Rpc) =>
  rpc.from === 0 && rpc.to === 1 && rpc.request.method === 'InstallSnapshot';

describe('a follower receiving a snapshot keeps hearing from the leader', () => {
  it('while an InstallSnapshot takes many election timeouts, the leader keeps leading and the follower never campaigns', () => {
    const net = snapshotNeededWithOneDown();
    const term = net.core(0).term;
    net.held = isInstall; // the transfer is slow: it stays on the wire
    const roles = new Set<Role>();
    for (let round = 0; round < 10 * ELECTION_TICKS; round++) {
      net.run(1);
      roles.add(net.core(1).role);
      expect(net.core(0).isLeader).toBe(true);
    }
    // Unanswered, the chunk is presumed lost and sent again once per election timeout (not
    // at every heartbeat).
    const copies = net.queue.filter(isInstall).length;
    expect(copies).toBeGreaterThanOrEqual(5);
    expect(copies).toBeLessThanOrEqual(10);
    expect([...roles]).toEqual(['follower']);
    expect(net.core(0).term).toBe(term);
    expect(net.core(1).term).toBe(term);
    expect(net.core(1).leaderId).toBe(0);
    // The transfer completes; the follower catches up, and the leader commits with it.
    net.held = undefined;
    net.propose(0, 'b');
    net.run(4);
    expect(net.core(1).snapshotIndex).toBe(10);
    expect(net.applied[1]).toEqual(net.applied[0]);
    expect(net.applied[0]?.at(-1)).toBe('b');
  });

  it('a read on the leader is confirmed by the heartbeats of the follower being sent a snapshot', () => {
    const net = snapshotNeededWithOneDown();
    net.held = isInstall;
    net.run(2 * HEARTBEAT_TICKS);
    net.requestRead(0, 5);
    net.run(2 * HEARTBEAT_TICKS);
    expect(net.reads[0]).toEqual([{ id: 5, ok: true, index: net.core(0).commitIndex }]);
  });

  it("message by message: the heartbeat is an empty AppendEntries at index 0 with the leader's commitIndex; its success changes nothing", () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [], { index: 5, term: 1, data: DATA }));
    const lead = electLeader(leader);
    const probe = requestsOf(lead, 'AppendEntries', 1)[0] as OutgoingRequest<'AppendEntries'>;
    leader.stepResponse(probe, reject(2, 0, 1));
    expect(requestsOf(cycle(leader), 'InstallSnapshot', 1)).toHaveLength(1);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const beat = cycle(leader);
    expect(requestsOf(beat, 'InstallSnapshot', 1)).toEqual([]);
    const [heartbeat] = requestsOf(beat, 'AppendEntries', 1);
    expect(heartbeat?.args).toEqual({
      term: 2,
      leaderId: 0,
      prevLogIndex: 0,
      prevLogTerm: 0,
      entries: [],
      leaderCommit: 5,
    });
    // The follower (empty log, or with a snapshot of its own) accepts it and changes nothing.
    for (const state of [undefined, stateOf(1, null, [1], { index: 3, term: 1, data: DATA })]) {
      const follower = newCore(1, 3, {}, state);
      const before = { last: follower.lastIndex, commit: follower.commitIndex };
      const { reply, ready } = deliver(
        follower,
        'AppendEntries',
        heartbeat?.args as OutgoingRequest<'AppendEntries'>['args'],
      );
      expect(reply.success).toBe(true);
      expect(ready.apply).toEqual([]);
      expect({ last: follower.lastIndex, commit: follower.commitIndex }).toEqual(before);
      expect(follower.leaderId).toBe(0);
    }
    // The leader, still waiting for the snapshot, sends nothing more for that success.
    leader.stepResponse(heartbeat as OutgoingRequest<'AppendEntries'>, ok(2));
    expect(requestsOf(cycle(leader), 'InstallSnapshot', 1)).toEqual([]);
  });
});
