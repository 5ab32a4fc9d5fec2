import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../src/core/raft.js';
import type { OutgoingRequest, Ready } from '../src/core/ready.js';
import { ELECTION_TICKS, fixedRandom, newCore } from './support/core-config.js';
import {
  appendArgs,
  cmdAt,
  logOf,
  ok,
  persisterOf,
  reject,
  stateOf,
} from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import { durableView } from './support/core-net-checks.js';
import {
  ackProbe,
  allRequests,
  cycle,
  dataAppends,
  deliver,
  electLeader,
  requestsOf,
} from './support/core-steps.js';

/** A follower (server 1 of 3) at term 3 holding terms [1, 1, 2, 2, 3]. */
function follower() {
  const state = stateOf(3, null, [1, 1, 2, 2, 3]);
  const persister = persisterOf(state);
  const core = newCore(1, 3, {}, state);
  return { core, persister };
}

describe('RaftCore AppendEntries consistency check (Figure 2, receiver rules 2–5)', () => {
  it('rejects when prevLogIndex is past the end of the log: conflictIndex = lastIndex+1, conflictTerm = 0', () => {
    const { core } = follower();
    const { reply, ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 7, prevLogTerm: 3, entries: logOf([3], 8) }),
    );
    expect(reply).toEqual({ term: 3, success: false, conflictTerm: 0, conflictIndex: 6 });
    expect(ready.persist).toBeUndefined();
    expect(core.lastIndex).toBe(5);
    expect(core.leaderId).toBe(0);
  });

  it.each([
    [4, 3, 2, 3],
    [5, 4, 3, 5],
    [2, 5, 1, 1],
  ])(
    'rejects when the term at prevLogIndex %i differs from prevLogTerm %i: conflictTerm = %i, conflictIndex = its first index %i',
    (prevLogIndex, prevLogTerm, conflictTerm, conflictIndex) => {
      const { core } = follower();
      const { reply, ready } = deliver(
        core,
        'AppendEntries',
        appendArgs({ term: 5, prevLogIndex, prevLogTerm, entries: logOf([5], prevLogIndex + 1) }),
      );
      expect(reply).toEqual({ term: 5, success: false, conflictTerm, conflictIndex });
      // Only the new term is persisted; the log is untouched.
      expect(ready.persist).toEqual({ hardState: { term: 5, votedFor: null } });
      expect(core.lastIndex).toBe(5);
    },
  );

  it('accepts a matching AppendEntries and truncates the conflicting suffix (and everything after it)', () => {
    const { core, persister } = follower();
    const entries = [{ term: 4, command: 'a' }];
    const { reply, ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 4, prevLogIndex: 3, prevLogTerm: 2, entries }),
      persister,
    );
    expect(reply).toEqual({ term: 4, success: true, conflictTerm: 0, conflictIndex: 0 });
    expect(ready.persist?.entries).toEqual({ from: 4, entries });
    expect(core.lastIndex).toBe(4);
    const view = durableView(persister);
    expect(view.entries.map((e) => e.term)).toEqual([1, 1, 2, 4]);
    expect(view.entries[3]).toEqual({ term: 4, command: 'a' });
  });

  it('appends after a matching prefix without touching the entries before prevLogIndex', () => {
    const { core, persister } = follower();
    const entries = logOf([3, 3], 6);
    const { reply, ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 5, prevLogTerm: 3, entries }),
      persister,
    );
    expect(reply.success).toBe(true);
    expect(ready.persist?.entries).toEqual({ from: 6, entries });
    expect(durableView(persister).entries.map((e) => e.term)).toEqual([1, 1, 2, 2, 3, 3, 3]);
  });

  it('never truncates on a stale or duplicate AppendEntries whose entries all match', () => {
    const { core, persister } = follower();
    // A late copy of an earlier AppendEntries carrying entries 2–3.
    const { reply, ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 1, prevLogTerm: 1, entries: logOf([1, 2], 2) }),
      persister,
    );
    expect(reply.success).toBe(true);
    expect(ready.persist).toBeUndefined();
    expect(core.lastIndex).toBe(5);
    // An empty one (a heartbeat) at an old point neither.
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 2, prevLogTerm: 1 }),
      persister,
    );
    expect(core.lastIndex).toBe(5);
    expect(durableView(persister).entries.map((e) => e.term)).toEqual([1, 1, 2, 2, 3]);
  });

  it('sets commitIndex = min(leaderCommit, index of the last new entry), never past what this message vouched for', () => {
    const { core } = follower();
    // Entry 3 checked, leader committed 5: the follower's 4–5 are not vouched for by this message.
    const first = deliver(
      core,
      'AppendEntries',
      appendArgs({
        term: 3,
        prevLogIndex: 2,
        prevLogTerm: 1,
        entries: logOf([2], 3),
        leaderCommit: 5,
      }),
    );
    expect(first.reply.success).toBe(true);
    expect(core.commitIndex).toBe(3);
    expect(first.ready.apply.map((m) => m.index)).toEqual([1, 2, 3]);
    // A heartbeat at an earlier point never lowers it.
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 5 }),
    );
    expect(core.commitIndex).toBe(3);
    // leaderCommit below the last new entry: leaderCommit wins.
    deliver(
      core,
      'AppendEntries',
      appendArgs({
        term: 3,
        prevLogIndex: 3,
        prevLogTerm: 2,
        entries: logOf([2, 3], 4),
        leaderCommit: 4,
      }),
    );
    expect(core.commitIndex).toBe(4);
    // A lower leaderCommit (a reordered older message) never lowers it.
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 5, prevLogTerm: 3, leaderCommit: 1 }),
    );
    expect(core.commitIndex).toBe(4);
    const last = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 5, prevLogTerm: 3, leaderCommit: 5 }),
    );
    expect(core.commitIndex).toBe(5);
    expect(last.ready.apply).toEqual([
      { type: 'command', index: 5, term: 3, command: cmdAt(5, 3) },
    ]);
  });

  it('a rejected AppendEntries still makes the sender the known leader and resets the election timer', () => {
    const { core } = follower();
    for (let t = 0; t < ELECTION_TICKS - 1; t++) core.tick();
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 3, leaderId: 2, prevLogIndex: 9, prevLogTerm: 3 }),
    );
    expect(core.leaderId).toBe(2);
    for (let t = 0; t < ELECTION_TICKS - 1; t++) core.tick();
    expect(core.role).toBe('follower');
  });
});

/** Shuttles AppendEntries between `leader` and `follower` until quiet; returns every one sent. */
function pump(
  leader: RaftCore,
  follower: RaftCore,
  first: Ready,
): OutgoingRequest<'AppendEntries'>[] {
  const sent: OutgoingRequest<'AppendEntries'>[] = [];
  let pending = requestsOf(first, 'AppendEntries', follower.me);
  for (let round = 0; pending.length > 0; round++) {
    if (round > 50) throw new Error('no convergence');
    const next: OutgoingRequest<'AppendEntries'>[] = [];
    for (const request of pending) {
      sent.push(request);
      const { reply } = deliver(follower, 'AppendEntries', request.args);
      leader.stepResponse(request, reply);
      next.push(...requestsOf(cycle(leader), 'AppendEntries', follower.me));
    }
    pending = next;
  }
  return sent;
}

describe('RaftCore leader fast backup (§5.3, conflictTerm/conflictIndex)', () => {
  it('skips the whole conflicting term of the follower when the leader has no entry of it (Backup3B)', () => {
    const leader = newCore(0, 3, {}, stateOf(4, null, [1, 4, 4, 4, 4, 4, 4, 4]));
    const follower = newCore(1, 3, {}, stateOf(4, null, [1, 2, 2, 2, 2, 2, 2]));
    const sent = pump(leader, follower, electLeader(leader));
    // 8 → (too short) 7 → (term 2 starts at 2) 1: three round trips, not eight.
    expect(sent.map((r) => r.args.prevLogIndex)).toEqual([8, 7, 1]);
    expect(sent.at(-1)?.args.entries.map((e) => e.term)).toEqual([4, 4, 4, 4, 4, 4, 4]);
    expect(follower.lastIndex).toBe(8);
  });

  it('jumps to just past the last entry of the conflicting term when the leader holds that term', () => {
    const leader = newCore(0, 3, {}, stateOf(5, null, [1, 1, 3, 3, 3, 5, 5, 5]));
    const follower = newCore(1, 3, {}, stateOf(5, null, [1, 1, 3, 3, 3, 3, 3, 4]));
    const sent = pump(leader, follower, electLeader(leader));
    // 8 (term 4 unknown to the leader) → 7 (term 3, the leader's ends at 5) → 5: matches.
    expect(sent.map((r) => r.args.prevLogIndex)).toEqual([8, 7, 5]);
    expect(sent.at(-1)?.args.entries.map((e) => e.term)).toEqual([5, 5, 5]);
    expect(follower.lastIndex).toBe(8);
  });

  it('never backs nextIndex up to or below matchIndex on a term conflict (nor past lastIndex+1)', () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [1, 1, 1, 1, 1]));
    const lead = electLeader(leader); // term 2, probes at prevLogIndex 5
    ackProbe(leader, lead, 1); // matchIndex[1] = 5, replicate
    leader.propose('x');
    leader.propose('y');
    const [append] = dataAppends(cycle(leader), 1);
    if (append === undefined) throw new Error('append');
    expect(append.args.prevLogIndex).toBe(5);
    // A term conflict inside the matched prefix (Log Matching rules it out). A log that ends
    // inside it is another case: core-replication.test.ts, "its disk lost synced writes".
    leader.stepResponse(append, reject(2, 3, 2));
    const [probe] = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(probe?.args.prevLogIndex).toBe(5);
    expect(probe?.args.entries).toHaveLength(2);
    // One naming a point past the leader's log.
    if (probe === undefined) throw new Error('probe');
    leader.stepResponse(probe, reject(2, 0, 100));
    const [capped] = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(capped?.args.prevLogIndex).toBe(7);
  });

  it('ignores a rejection of an AppendEntries below matchIndex (a stale reply)', () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [1, 1, 1, 1, 1]));
    const lead = electLeader(leader);
    const [probe] = requestsOf(lead, 'AppendEntries', 1);
    if (probe === undefined) throw new Error('probe');
    ackProbe(leader, lead, 1);
    const stale = { ...probe, args: { ...probe.args, prevLogIndex: 3, prevLogTerm: 1 } };
    leader.stepResponse(stale, reject(2, 0, 2));
    expect(allRequests(cycle(leader))).toEqual([]);
    // Still replicating: a proposal streams at once from matchIndex.
    leader.propose('x');
    const [append] = dataAppends(cycle(leader), 1);
    expect(append?.args.prevLogIndex).toBe(5);
  });
});

describe('RaftCore commit rules (§5.3, §5.4.2)', () => {
  it('Figure 8: an old-term entry on a majority is not committed until a current-term entry above it is', () => {
    // Leader of term 4 holding [1, 2]: entry 2 was written in term 2 by another leader.
    const leader = newCore(0, 3, {}, stateOf(3, null, [1, 2]));
    const lead = electLeader(leader);
    expect(leader.term).toBe(4);
    for (const probe of requestsOf(lead, 'AppendEntries')) {
      expect(probe.args.prevLogIndex).toBe(2);
      leader.stepResponse(probe, ok(4));
    }
    // Every server holds index 2, but it is of term 2.
    expect(leader.commitIndex).toBe(0);
    expect(cycle(leader).apply).toEqual([]);
    leader.propose('c');
    const ready = cycle(leader);
    expect(leader.commitIndex).toBe(0);
    const [append] = dataAppends(ready, 1);
    if (append === undefined) throw new Error('append');
    leader.stepResponse(append, ok(4));
    expect(leader.commitIndex).toBe(3);
    expect(cycle(leader).apply.map((m) => m.index)).toEqual([1, 2, 3]);
  });

  it('the leader counts its own log toward a majority only after advance() for the Ready that persisted it', () => {
    const leader = newCore(0, 3);
    const lead = electLeader(leader);
    for (const probe of requestsOf(lead, 'AppendEntries')) leader.stepResponse(probe, ok(1));
    cycle(leader);
    leader.propose('x');
    const ready = leader.ready();
    expect(ready.persist?.entries?.from).toBe(1);
    expect(ready.persistedTo).toEqual({ index: 1, term: 1 });
    const [to1] = dataAppends(ready, 1);
    if (to1 === undefined) throw new Error('append');
    // Follower 1 has it, the leader has not persisted it yet: 1 of 3.
    leader.stepResponse(to1, ok(1));
    expect(leader.commitIndex).toBe(0);
    leader.advance(ready);
    expect(leader.commitIndex).toBe(1);
  });

  it('two followers are a majority of three without the leader’s own copy', () => {
    const leader = newCore(0, 3);
    const lead = electLeader(leader);
    for (const probe of requestsOf(lead, 'AppendEntries')) leader.stepResponse(probe, ok(1));
    cycle(leader);
    leader.propose('x');
    const ready = leader.ready();
    for (const append of dataAppends(ready)) leader.stepResponse(append, ok(1));
    expect(leader.commitIndex).toBe(1);
  });

  describe('Figure 8 on a 5-server network', () => {
    /**
     * (a) S0 leads term 1, commits 'a', then writes 'b' at 2 to S1 only. (b) S4 leads term 2
     * with S2 and S3 and writes 'c' at 2 only locally, then crashes. (c) S0 restarts, leads
     * term 3 and copies 'b' to every live server — a majority, but of an old term.
     */
    function figure8c(): CoreNet {
      const net = new CoreNet({
        n: 5,
        random: (i) => fixedRandom(i === 0 || i === 4 ? 0 : ELECTION_TICKS - 1),
      });
      expect(net.electLeader()).toBe(0);
      net.propose(0, 'a');
      net.run(2);
      expect(net.core(0).commitIndex).toBe(1);
      net.partition([0, 1], [2, 3, 4]);
      net.propose(0, 'b');
      net.deliverAll();
      expect(net.core(1).lastIndex).toBe(2);
      expect(net.core(0).commitIndex).toBe(1);
      for (let t = 0; t < 2 * ELECTION_TICKS && !net.core(4).isLeader; t++) {
        net.tick([4]);
        net.deliverAll();
      }
      expect(net.core(4).term).toBe(2);
      net.isolate(4);
      net.propose(4, 'c');
      net.deliverAll();
      net.crash(4);
      net.crash(0);
      net.heal();
      net.isolate(4);
      net.restart(0);
      for (let t = 0; t < 6 * ELECTION_TICKS && !net.core(0).isLeader; t++) {
        net.tick([0]);
        net.deliverAll();
      }
      expect(net.core(0).isLeader).toBe(true);
      expect(net.core(0).term).toBe(3);
      net.run(2, [0]);
      for (const i of [1, 2, 3]) expect(net.durable(i).lastIndex).toBe(2);
      // (c): 'b' is on S0–S3, but the leader does not commit it. (Restarted, S0 does not even
      // know 'a' is committed: commitIndex is volatile, and nothing of term 3 is committed.)
      expect(net.core(0).commitIndex).toBe(0);
      for (const i of [1, 2, 3]) expect(net.applied[i]).toEqual(['a']);
      expect(net.applied[0]).toEqual([]);
      return net;
    }

    it('(d) the uncommitted old-term entry may be overwritten by a newer leader, and nobody ever applied it', () => {
      const net = figure8c();
      net.crash(0);
      net.heal();
      net.isolate(0);
      net.restart(4);
      for (let t = 0; t < 6 * ELECTION_TICKS && !net.core(4).isLeader; t++) {
        net.tick([4]);
        net.deliverAll();
      }
      expect(net.core(4).isLeader).toBe(true);
      net.propose(4, 'e');
      net.run(4, [4]);
      for (const i of [1, 2, 3, 4]) expect(net.applied[i]).toEqual(['a', 'c', 'e']);
      for (const log of net.applyLog) {
        expect(log.some((m) => m.type === 'command' && m.command === 'b')).toBe(false);
      }
      net.checkLogMatching();
    });

    it('(e) once a current-term entry above it is on a majority, the old-term entry commits with it', () => {
      const net = figure8c();
      net.propose(0, 'd');
      net.run(2, [0]);
      expect(net.core(0).commitIndex).toBe(3);
      for (const i of [0, 1, 2, 3]) expect(net.applied[i]).toEqual(['a', 'b', 'd']);
      // S4, holding 'c' of term 2, can no longer be elected; the others overwrite it.
      net.heal();
      net.restart(4);
      net.run(6 * ELECTION_TICKS);
      for (let i = 0; i < 5; i++) expect(net.applied[i]).toEqual(['a', 'b', 'd']);
      net.checkLogMatching();
    });
  });
});
