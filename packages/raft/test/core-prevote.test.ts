import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../src/core/raft.js';
import { coreConfig, ELECTION_TICKS } from './support/core-config.js';
import { stateOf, voteArgs } from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import { deliver } from './support/core-steps.js';

describe('RaftCore pre-vote and leader lease (thesis §9.6, §4.2.3)', () => {
  it('answering a pre-vote changes nothing on the receiver, and persists nothing', () => {
    const core = new RaftCore(coreConfig(1, 3, { preVote: true }), stateOf(3, 2, []));
    const { reply, ready } = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 4, candidateId: 0, preVote: true }),
    );
    expect(reply).toEqual({ term: 3, voteGranted: true });
    expect(core.term).toBe(3);
    expect(core.votedFor).toBe(2);
    expect(ready.persist).toBeUndefined();
  });

  it('a pre-vote is refused for a stale term or a log that is behind', () => {
    const core = new RaftCore(coreConfig(1, 3, { preVote: true }), stateOf(3, null, [3]));
    const stale = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 3, candidateId: 0, preVote: true }),
    ).reply;
    expect(stale.voteGranted).toBe(false);
    const { reply: behind } = deliver(
      core,
      'RequestVote',
      voteArgs({ term: 4, candidateId: 0, preVote: true, lastLogIndex: 0, lastLogTerm: 0 }),
    );
    expect(behind.voteGranted).toBe(false);
  });

  function cluster(): CoreNet {
    return new CoreNet({
      n: 3,
      core: { preVote: true, checkQuorum: true },
      random: (i) => new SeededRandom(100 + i),
    });
  }

  it('a server cut off from the majority never raises its term', () => {
    const net = cluster();
    const leader = net.electLeader();
    const term = net.core(leader).term;
    const lonely = (leader + 1) % 3;
    net.isolate(lonely);
    net.run(20 * ELECTION_TICKS);
    expect(net.core(lonely).term).toBe(term);
    expect(net.core(lonely).role).toBe('precandidate');
  });

  it('a server that rejoins does not depose a working leader', () => {
    const net = cluster();
    const leader = net.electLeader();
    const term = net.core(leader).term;
    const lonely = (leader + 1) % 3;
    net.isolate(lonely);
    net.run(20 * ELECTION_TICKS);
    net.heal();
    net.run(5 * ELECTION_TICKS);
    expect(net.leader()).toBe(leader);
    expect(net.core(leader).term).toBe(term);
    expect(net.core(lonely).role).toBe('follower');
  });

  it('within the lease a higher-term RequestVote is ignored: no step-down, no vote', () => {
    const net = cluster();
    const leader = net.electLeader();
    const follower = (leader + 1) % 3;
    const term = net.core(follower).term;
    const { reply } = deliver(
      net.core(follower),
      'RequestVote',
      voteArgs({
        term: term + 5,
        candidateId: (leader + 2) % 3,
        lastLogIndex: 100,
        lastLogTerm: 100,
      }),
    );
    expect(reply).toEqual({ term, voteGranted: false });
    expect(net.core(follower).term).toBe(term);
    const { reply: toLeader } = deliver(
      net.core(leader),
      'RequestVote',
      voteArgs({ term: term + 5, candidateId: follower, lastLogIndex: 100, lastLogTerm: 100 }),
    );
    expect(toLeader.voteGranted).toBe(false);
    expect(net.core(leader).isLeader).toBe(true);
  });

  it('when the leader dies, the others still elect a new one through pre-vote', () => {
    const net = cluster();
    const leader = net.electLeader();
    net.crash(leader);
    net.run(10 * ELECTION_TICKS);
    const next = net.leader();
    expect(next).not.toBeUndefined();
    expect(next).not.toBe(leader);
  });
});
