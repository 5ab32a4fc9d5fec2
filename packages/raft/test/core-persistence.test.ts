import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../src/core/raft.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { ELECTION_TICKS, newCore } from './support/core-config.js';
import {
  appendArgs,
  logOf,
  ok,
  snapshotArgs,
  snapshotDone,
  voteArgs,
} from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import {
  cycle,
  dataAppends,
  deliver,
  electLeader,
  requestsOf,
  tickUntilCampaign,
} from './support/core-steps.js';

/** The term of each entry of `core`'s log after its snapshot, read through rejected probes. */
function logTerms(core: RaftCore): number[] {
  const terms: number[] = [];
  for (let index = core.snapshotIndex + 1; index <= core.lastIndex; index++) {
    const { reply } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: core.term, leaderId: 2, prevLogIndex: index, prevLogTerm: -1 }),
    );
    terms.push(reply.conflictTerm);
  }
  return terms;
}

describe('RaftCore persistence before replies (Figure 2: "updated on stable storage before responding")', () => {
  it('a campaign Ready persists the new term and self-vote together with the RequestVotes', () => {
    const core = newCore(2, 5);
    const ready = tickUntilCampaign(core);
    expect(requestsOf(ready, 'RequestVote')).toHaveLength(4);
    expect(ready.persist).toEqual({ hardState: { term: 1, votedFor: 2 } });
  });

  it('a granted vote, and the term it was granted in, are persisted in the same Ready as the reply', () => {
    const core = newCore(0, 3);
    const { reply, ready } = deliver(core, 'RequestVote', voteArgs({ term: 4, candidateId: 2 }));
    expect(reply.voteGranted).toBe(true);
    expect(ready.persist).toEqual({ hardState: { term: 4, votedFor: 2 } });
  });

  it('accepted entries are persisted in the same Ready as the success reply that acknowledges them', () => {
    const core = newCore(1, 3);
    const entries = logOf([1, 1, 1]);
    const { reply, ready } = deliver(core, 'AppendEntries', appendArgs({ term: 1, entries }));
    expect(reply.success).toBe(true);
    expect(ready.persist).toEqual({
      hardState: { term: 1, votedFor: null },
      entries: { from: 1, entries },
    });
  });

  it('an installed snapshot is persisted in the same Ready as the reply', () => {
    const core = newCore(
      1,
      3,
      {},
      { hardState: { term: 1, votedFor: null }, snapshot: undefined, entries: [] },
    );
    const { reply, ready } = deliver(
      core,
      'InstallSnapshot',
      snapshotArgs({ term: 1, lastIncludedIndex: 4 }),
    );
    expect(reply).toEqual(snapshotDone(1));
    expect(ready.persist?.snapshot?.index).toBe(4);
  });

  it('a leader’s new entries are persisted in the Ready that first sends them', () => {
    const leader = newCore(0, 3);
    for (const r of requestsOf(electLeader(leader), 'AppendEntries')) leader.stepResponse(r, ok(1));
    cycle(leader);
    leader.propose('a');
    leader.propose('b');
    const ready = cycle(leader);
    expect(ready.persist?.entries).toEqual({
      from: 1,
      entries: logOf([1, 1]).map((e, k) => ({ ...e, command: k === 0 ? 'a' : 'b' })),
    });
    expect(dataAppends(ready)).toHaveLength(2);
  });

  it('every Ready of a busy 5-server cluster (partitions, crashes, restarts) carries in persist what its replies and requests depend on', () => {
    // CoreNet checks after every persist that the durable term, vote, snapshot point and log end
    // equal the core's, that no request or reply carries a term not durable, that a granted vote
    // is durable, and that every acknowledged entry is durable; it throws otherwise.
    const random = new SeededRandom(2024);
    const net = new CoreNet({
      n: 5,
      core: { checkQuorum: true },
      random: (i) => new SeededRandom(100 + i),
      snapshotEvery: 7,
    });
    let command = 0;
    for (let round = 0; round < 400; round++) {
      const roll = random.int(100);
      if (roll < 5) {
        net.heal();
        const a = random.int(5);
        const b = random.int(5);
        net.partition(
          [a, b],
          [0, 1, 2, 3, 4].filter((x) => x !== a && x !== b),
        );
      } else if (roll < 8) net.heal();
      else if (roll < 11) net.restart(random.int(5));
      const leader = net.leader();
      if (leader !== undefined && roll % 2 === 0) net.propose(leader, `c${command++}`);
      net.run(1);
    }
    net.heal();
    net.run(6 * ELECTION_TICKS);
    expect(net.leaders.size).toBeGreaterThan(1);
    expect(
      net.readies.flat().filter((r) => r.persist?.hardState !== undefined).length,
    ).toBeGreaterThan(10);
    net.checkLogMatching();
    net.checkAppliedPrefixes();
  });

  it('a core restarted from its MemoryPersister has the same term, vote and log', () => {
    const persister = new MemoryPersister();
    const core = newCore(1, 3);
    const step = (method: Parameters<typeof deliver>[1], args: Parameters<typeof deliver>[2]) =>
      deliver(core, method, args, persister);
    step('RequestVote', voteArgs({ term: 1, candidateId: 0 }));
    step('AppendEntries', appendArgs({ term: 1, entries: logOf([1, 1, 1, 1]), leaderCommit: 1 }));
    step('RequestVote', voteArgs({ term: 2, candidateId: 2, lastLogIndex: 4, lastLogTerm: 1 }));
    // The new leader overwrites 3..4.
    step(
      'AppendEntries',
      appendArgs({
        term: 2,
        leaderId: 2,
        prevLogIndex: 2,
        prevLogTerm: 1,
        entries: [{ term: 2, command: 'n3' }],
        leaderCommit: 1,
      }),
    );
    step(
      'InstallSnapshot',
      snapshotArgs({
        term: 2,
        leaderId: 2,
        lastIncludedIndex: 2,
        lastIncludedTerm: 1,
        data: new Uint8Array([2]),
      }),
    );
    step(
      'AppendEntries',
      appendArgs({
        term: 2,
        leaderId: 2,
        prevLogIndex: 3,
        prevLogTerm: 2,
        entries: [{ term: 2, command: 'n4' }],
      }),
    );
    expect(core.term).toBe(2);
    expect(core.votedFor).toBe(2);
    expect(core.snapshotIndex).toBe(2);
    expect(core.lastIndex).toBe(4);

    const restarted = newCore(1, 3, {}, persister.load());
    expect(restarted.term).toBe(core.term);
    expect(restarted.votedFor).toBe(core.votedFor);
    expect(restarted.snapshotIndex).toBe(core.snapshotIndex);
    expect(restarted.lastIndex).toBe(core.lastIndex);
    expect(restarted.commitIndex).toBe(2);
    expect(logTerms(restarted)).toEqual(logTerms(core));
    expect(logTerms(restarted)).toEqual([2, 2]);
    const { ready } = deliver(
      restarted,
      'AppendEntries',
      appendArgs({ term: 2, leaderId: 2, prevLogIndex: 4, prevLogTerm: 2, leaderCommit: 4 }),
    );
    expect(ready.apply.map((m) => (m.type === 'command' ? m.command : m.type))).toEqual([
      'n3',
      'n4',
    ]);
  });

  it('a restarted follower keeps its vote: it refuses another candidate of the same term', () => {
    const persister = new MemoryPersister();
    const core = newCore(0, 3);
    expect(
      deliver(core, 'RequestVote', voteArgs({ term: 3, candidateId: 1 }), persister).reply
        .voteGranted,
    ).toBe(true);
    const restarted = newCore(0, 3, {}, persister.load());
    const { reply } = deliver(restarted, 'RequestVote', voteArgs({ term: 3, candidateId: 2 }));
    expect(reply).toEqual({ term: 3, voteGranted: false });
    expect(
      deliver(restarted, 'RequestVote', voteArgs({ term: 3, candidateId: 1 })).reply.voteGranted,
    ).toBe(true);
  });

  it('a restarted candidate keeps its term: its next campaign is for a higher term, and it answers stale messages with it', () => {
    const persister = new MemoryPersister();
    const core = newCore(0, 3);
    tickUntilCampaign(core, persister);
    tickUntilCampaign(core, persister);
    const restarted = newCore(0, 3, {}, persister.load());
    expect(restarted.term).toBe(2);
    expect(restarted.votedFor).toBe(0);
    expect(restarted.role).toBe('follower');
    const { reply } = deliver(restarted, 'AppendEntries', appendArgs({ term: 1, leaderId: 1 }));
    expect(reply).toMatchObject({ term: 2, success: false });
    tickUntilCampaign(restarted);
    expect(restarted.term).toBe(3);
  });
});
