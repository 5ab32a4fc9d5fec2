import { describe, expect, it } from 'vitest';
import { RaftCore } from '../src/core/raft.js';
import { coreConfig, ELECTION_TICKS, fixedRandom, newCore } from './support/core-config.js';
import {
  appendArgs,
  ok,
  snapshotArgs,
  snapshotDone,
  stateOf,
  voteArgs,
} from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import {
  allRequests,
  cycle,
  deliver,
  electLeader,
  requestsOf,
  tickUntilCampaign,
} from './support/core-steps.js';

describe('RaftCore election (§5.2)', () => {
  it.each([
    [0, ELECTION_TICKS],
    [3, ELECTION_TICKS + 3],
    [ELECTION_TICKS - 1, 2 * ELECTION_TICKS - 1],
  ])(
    'a follower campaigns after its election timeout (random %i → %i ticks), within [electionTicks, 2×electionTicks)',
    (r, timeout) => {
      const asked: number[] = [];
      const core = new RaftCore(
        coreConfig(0, 3, {
          random: {
            int: (n) => {
              asked.push(n);
              return r;
            },
          },
        }),
      );
      expect(asked).toEqual([ELECTION_TICKS]);
      for (let t = 1; t < timeout; t++) {
        core.tick();
        expect(core.role).toBe('follower');
        expect(core.hasReady()).toBe(false);
      }
      core.tick();
      expect(core.role).toBe('candidate');
      expect(core.term).toBe(1);
    },
  );

  it('a campaigning follower increments its term, votes for itself, and persists term+vote in the same Ready as its RequestVotes', () => {
    const core = newCore(1, 3, {}, stateOf(4, null, [1, 2, 4]));
    const ready = tickUntilCampaign(core);
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(5);
    expect(core.votedFor).toBe(1);
    expect(ready.persist?.hardState).toEqual({ term: 5, votedFor: 1 });
    expect(ready.persist?.entries).toBeUndefined();
    const votes = requestsOf(ready, 'RequestVote');
    expect(votes.map((r) => r.to).sort()).toEqual([0, 2]);
    for (const request of votes) {
      expect(request.args).toEqual({ term: 5, candidateId: 1, lastLogIndex: 3, lastLogTerm: 4 });
    }
    expect(ready.replies).toEqual([]);
  });

  it('a candidate becomes leader once a majority (itself included) granted its vote, and then asserts leadership to every peer', () => {
    const core = newCore(0, 5);
    const ready = tickUntilCampaign(core);
    const [to1, to2, to3] = requestsOf(ready, 'RequestVote');
    if (to1 === undefined || to2 === undefined || to3 === undefined) throw new Error('votes');
    core.stepResponse(to1, { term: 1, voteGranted: true });
    core.stepResponse(to2, { term: 1, voteGranted: false });
    expect(core.role).toBe('candidate');
    // A duplicate grant from the same peer does not count twice.
    core.stepResponse(to1, { term: 1, voteGranted: true });
    expect(core.role).toBe('candidate');
    core.stepResponse(to3, { term: 1, voteGranted: true });
    expect(core.role).toBe('leader');
    expect(core.leaderId).toBe(0);
    const lead = cycle(core);
    const appends = requestsOf(lead, 'AppendEntries');
    expect(appends.map((r) => r.to).sort()).toEqual([1, 2, 3, 4]);
    for (const r of appends) expect(r.args).toMatchObject({ term: 1, leaderId: 0 });
  });

  it('a vote reply from an older term does not count toward the current election', () => {
    const core = newCore(0, 3);
    const first = tickUntilCampaign(core);
    tickUntilCampaign(core); // term 2: the first election timed out
    const [old] = requestsOf(first, 'RequestVote');
    if (old === undefined) throw new Error('vote');
    core.stepResponse(old, { term: 1, voteGranted: true });
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(2);
  });

  it('a single-node cluster becomes leader alone and commits its proposals after persisting them', () => {
    const core = newCore(0, 1);
    const ready = tickUntilCampaign(core);
    expect(core.isLeader).toBe(true);
    expect(core.term).toBe(1);
    expect(ready.persist?.hardState).toEqual({ term: 1, votedFor: 0 });
    expect(allRequests(ready)).toEqual([]);
    expect(core.propose('x')).toEqual({ index: 1, term: 1, isLeader: true });
    const persist = core.ready();
    expect(persist.persist?.entries).toEqual({ from: 1, entries: [{ term: 1, command: 'x' }] });
    expect(core.commitIndex).toBe(0);
    core.advance(persist);
    expect(core.commitIndex).toBe(1);
    expect(cycle(core).apply).toEqual([{ type: 'command', index: 1, term: 1, command: 'x' }]);
  });

  it('split votes: with no majority, the candidates time out and a new term elects a leader', () => {
    // 4 nodes: 0 and 1 time out together; 2 and 3 would wait 2×electionTicks−1.
    const net = new CoreNet({ n: 4, random: (i) => fixedRandom(i < 2 ? 0 : ELECTION_TICKS - 1) });
    for (let t = 0; t < ELECTION_TICKS; t++) net.tick();
    expect(net.core(0).role).toBe('candidate');
    expect(net.core(1).role).toBe('candidate');
    expect(net.core(0).term).toBe(1);
    // 2 votes for 0 and 3 for 1 first: 2 votes each, a majority is 3.
    net.deliverWhere((rpc) => rpc.from === 0 && rpc.to === 2);
    net.deliverWhere((rpc) => rpc.from === 1 && rpc.to === 3);
    net.deliverAll();
    expect(net.leader()).toBeUndefined();
    expect(net.core(0).role).toBe('candidate');
    expect(net.core(1).role).toBe('candidate');
    // Node 0 times out first (only it is ticked): term 2, and it wins.
    for (let t = 0; t < ELECTION_TICKS && net.core(0).term === 1; t++) net.tick([0]);
    expect(net.core(0).term).toBe(2);
    net.deliverAll();
    expect(net.leader()).toBe(0);
    for (let i = 1; i < 4; i++) {
      expect(net.core(i).role).toBe('follower');
      expect(net.core(i).term).toBe(2);
    }
  });
});

describe('RaftCore RequestVote rules (§5.2, §5.4.1)', () => {
  it('grants at most one vote per term, persisted in the same Ready as the granting reply', () => {
    const core = newCore(0, 3, {}, stateOf(1, null, [1]));
    const first = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 1, candidateId: 1, lastLogIndex: 1, lastLogTerm: 1 }),
    );
    expect(first.reply).toEqual({ term: 1, voteGranted: true });
    expect(first.ready.persist?.hardState).toEqual({ term: 1, votedFor: 1 });
    const second = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 1, candidateId: 2, lastLogIndex: 5, lastLogTerm: 1 }),
    );
    expect(second.reply).toEqual({ term: 1, voteGranted: false });
    expect(second.ready.persist).toBeUndefined();
    // The same candidate asking again (a retransmission) gets the same answer.
    const again = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 1, candidateId: 1, lastLogIndex: 1, lastLogTerm: 1 }),
    );
    expect(again.reply).toEqual({ term: 1, voteGranted: true });
    expect(core.votedFor).toBe(1);
  });

  it.each([
    // follower log terms [1, 2, 2] (last index 3, last term 2)
    ['a lower last term, even with a longer log', 9, 1, false],
    ['the same last term and a shorter log', 2, 2, false],
    ['the same last term and the same length', 3, 2, true],
    ['the same last term and a longer log', 4, 2, true],
    ['a higher last term, even with a shorter log', 1, 3, true],
  ])(
    'votes only for an up-to-date log: refuses/grants a candidate with %s',
    (_, lastLogIndex, lastLogTerm, granted) => {
      const core = newCore(0, 3, {}, stateOf(2, null, [1, 2, 2]));
      const { reply, ready } = deliver(
        core,
        'RequestVote',
        voteArgs({ term: 3, candidateId: 2, lastLogIndex, lastLogTerm }),
      );
      expect(reply).toEqual({ term: 3, voteGranted: granted });
      // Either way the higher term is adopted and persisted with the reply.
      expect(core.term).toBe(3);
      expect(ready.persist?.hardState).toEqual({ term: 3, votedFor: granted ? 2 : null });
    },
  );

  it('a refused vote does not reset the election timer; a granted one does', () => {
    const refusing = newCore(0, 3, {}, stateOf(2, null, [1, 2, 2]));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) refusing.tick();
    deliver(
      refusing,
      'RequestVote',
      voteArgs({ term: 2, candidateId: 2, lastLogIndex: 1, lastLogTerm: 1 }),
    );
    refusing.tick();
    expect(refusing.role).toBe('candidate');

    const granting = newCore(0, 3, {}, stateOf(2, null, [1, 2, 2]));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) granting.tick();
    deliver(
      granting,
      'RequestVote',
      voteArgs({ term: 2, candidateId: 2, lastLogIndex: 3, lastLogTerm: 2 }),
    );
    for (let t = 0; t < ELECTION_TICKS - 1; t++) granting.tick();
    expect(granting.role).toBe('follower');
    granting.tick();
    expect(granting.role).toBe('candidate');
  });

  it('a higher term in a RequestVote makes a leader a follower with votedFor cleared', () => {
    const core = newCore(0, 3);
    electLeader(core);
    expect(core.votedFor).toBe(0);
    // Candidate 2's log is behind nothing: the leader's log is empty, so it grants.
    const { reply, ready } = deliver(core, 'RequestVote', voteArgs({ term: 5, candidateId: 2 }));
    expect(core.role).toBe('follower');
    expect(core.term).toBe(5);
    expect(reply).toEqual({ term: 5, voteGranted: true });
    expect(ready.persist?.hardState).toEqual({ term: 5, votedFor: 2 });
  });

  it('a higher term in an AppendEntries makes a candidate a follower of that leader, votedFor cleared', () => {
    const core = newCore(0, 3);
    tickUntilCampaign(core);
    const { reply, ready } = deliver(core, 'AppendEntries', appendArgs({ term: 3, leaderId: 2 }));
    expect(reply.success).toBe(true);
    expect(core.role).toBe('follower');
    expect(core.leaderId).toBe(2);
    expect(core.votedFor).toBeNull();
    expect(ready.persist?.hardState).toEqual({ term: 3, votedFor: null });
  });

  it('a higher term in an InstallSnapshot makes a leader a follower, votedFor cleared', () => {
    const core = newCore(0, 3);
    electLeader(core);
    const { reply, ready } = deliver(
      core,
      'InstallSnapshot',
      snapshotArgs({ term: 4, leaderId: 1, lastIncludedIndex: 2, lastIncludedTerm: 1 }),
    );
    expect(reply).toEqual(snapshotDone(4));
    expect(core.role).toBe('follower');
    expect(core.leaderId).toBe(1);
    expect(ready.persist?.hardState).toEqual({ term: 4, votedFor: null });
  });

  it('a higher term in a reply makes a leader (or candidate) a follower, votedFor cleared', () => {
    const leader = newCore(0, 3);
    const lead = electLeader(leader);
    const [append] = requestsOf(lead, 'AppendEntries');
    if (append === undefined) throw new Error('append');
    leader.stepResponse(append, { term: 7, success: false, conflictTerm: 0, conflictIndex: 0 });
    expect(leader.role).toBe('follower');
    expect(leader.term).toBe(7);
    expect(leader.votedFor).toBeNull();
    expect(leader.leaderId).toBeNull();
    expect(cycle(leader).persist?.hardState).toEqual({ term: 7, votedFor: null });

    const candidate = newCore(0, 3);
    const campaign = tickUntilCampaign(candidate);
    const [vote] = requestsOf(campaign, 'RequestVote');
    if (vote === undefined) throw new Error('vote');
    candidate.stepResponse(vote, { term: 6, voteGranted: false });
    expect(candidate.role).toBe('follower');
    expect(candidate.term).toBe(6);
    expect(candidate.votedFor).toBeNull();
  });

  it('a stale-term RequestVote is answered with the current term and changes nothing', () => {
    const core = newCore(0, 3, {}, stateOf(3, null, [1, 3]));
    const { reply, ready } = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 2, candidateId: 1, lastLogIndex: 9, lastLogTerm: 9 }),
    );
    expect(reply).toEqual({ term: 3, voteGranted: false });
    expect(ready.persist).toBeUndefined();
    expect(core.votedFor).toBeNull();
    expect(core.term).toBe(3);
  });

  it('a stale-term AppendEntries is answered with the current term, changes no log and does not reset the election timer', () => {
    const core = newCore(0, 3, {}, stateOf(3, null, [1, 3]));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) core.tick();
    const { reply, ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({
        term: 2,
        leaderId: 1,
        prevLogIndex: 1,
        prevLogTerm: 1,
        entries: [{ term: 2, command: 'x' }],
        leaderCommit: 2,
      }),
    );
    expect(reply).toMatchObject({ term: 3, success: false });
    expect(ready.persist).toBeUndefined();
    expect(ready.apply).toEqual([]);
    expect(core.lastIndex).toBe(2);
    expect(core.commitIndex).toBe(0);
    expect(core.leaderId).toBeNull();
    core.tick();
    expect(core.role).toBe('candidate');
  });

  it('a stale-term InstallSnapshot is answered with the current term and changes nothing', () => {
    const core = newCore(0, 3, {}, stateOf(3, null, [1, 3]));
    const { reply, ready } = deliver(
      core,
      'InstallSnapshot',
      snapshotArgs({ term: 2, leaderId: 1, lastIncludedIndex: 5, lastIncludedTerm: 2 }),
    );
    expect(reply).toEqual({ term: 3, done: false, nextOffset: 0 });
    expect(ready.persist).toBeUndefined();
    expect(ready.apply).toEqual([]);
    expect(core.snapshotIndex).toBe(0);
    expect(core.commitIndex).toBe(0);
  });

  it('a reply to a request of an older term is ignored by the leader (TestStepIgnoreOldTermMsg)', () => {
    const core = newCore(0, 3);
    const firstLead = electLeader(core);
    // Lose leadership, then win term 3.
    deliver(core, 'AppendEntries', appendArgs({ term: 2, leaderId: 1 }));
    const lead = electLeader(core);
    expect(core.term).toBe(3);
    ackProbeBoth(core, lead);
    core.propose('x');
    const ready = cycle(core);
    // A success for the term-1 probe (which, if counted, would claim entry 1 on both followers).
    for (const r of requestsOf(firstLead, 'AppendEntries')) {
      core.stepResponse({ ...r, args: { ...r.args, entries: [{ term: 1, command: 'y' }] } }, ok(1));
    }
    expect(core.commitIndex).toBe(0);
    expect(core.isLeader).toBe(true);
    ackAllIn(core, ready);
    expect(core.commitIndex).toBe(1);
  });
});

function ackProbeBoth(core: RaftCore, ready: ReturnType<typeof cycle>): void {
  for (const r of requestsOf(ready, 'AppendEntries')) core.stepResponse(r, ok(core.term));
  cycle(core);
}

function ackAllIn(core: RaftCore, ready: ReturnType<typeof cycle>): void {
  for (const r of requestsOf(ready, 'AppendEntries')) core.stepResponse(r, ok(r.args.term));
}
