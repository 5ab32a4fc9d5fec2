import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../src/core/raft.js';
import type { OutgoingRequest } from '../src/core/ready.js';
import {
  ELECTION_TICKS,
  fixedRandom,
  HEARTBEAT_TICKS,
  MAX_ENTRIES,
  MAX_INFLIGHT,
  newCore,
} from './support/core-config.js';
import { appendArgs, ok, reject } from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import {
  allRequests,
  cycle,
  dataAppends,
  deliver,
  electLeader,
  requestsOf,
} from './support/core-steps.js';

/** Leader 0 of a 3-server cluster, term 1, both followers in replicate state at matchIndex 0. */
function replicatingLeader(): RaftCore {
  const leader = newCore(0, 3);
  const lead = electLeader(leader);
  for (const probe of requestsOf(lead, 'AppendEntries')) leader.stepResponse(probe, ok(1));
  expect(allRequests(cycle(leader))).toEqual([]);
  return leader;
}

/** Proposes one command per Ready, `count` times; returns the AppendEntries to follower 1. */
function proposeOneByOne(leader: RaftCore, count: number, tag = 'p') {
  const sent: OutgoingRequest<'AppendEntries'>[] = [];
  for (let k = 0; k < count; k++) {
    leader.propose(`${tag}${k}`);
    sent.push(...dataAppends(cycle(leader), 1));
  }
  return sent;
}

describe('RaftCore pipelining and flow control', () => {
  it('in replicate state sends up to maxInflightAppends AppendEntries without waiting, each with only new entries', () => {
    const leader = replicatingLeader();
    const sent = proposeOneByOne(leader, MAX_INFLIGHT + 2);
    expect(sent).toHaveLength(MAX_INFLIGHT);
    sent.forEach((r, k) => {
      expect(r.args.prevLogIndex).toBe(k);
      expect(r.args.entries).toEqual([{ term: 1, command: `p${k}` }]);
    });
    // One reply frees one slot: the two entries waiting go out together, nothing resent.
    leader.stepResponse(sent[0] as OutgoingRequest<'AppendEntries'>, ok(1));
    const [next, ...more] = dataAppends(cycle(leader), 1);
    expect(more).toEqual([]);
    expect(next?.args.prevLogIndex).toBe(MAX_INFLIGHT);
    expect(next?.args.entries.map((e) => e.command)).toEqual([
      `p${MAX_INFLIGHT}`,
      `p${MAX_INFLIGHT + 1}`,
    ]);
  });

  it('batches the proposals made before one ready() into one persist and one AppendEntries per follower (≤ maxEntriesPerAppend entries each)', () => {
    const leader = replicatingLeader();
    for (let k = 0; k < 10; k++) leader.propose(k);
    const small = cycle(leader);
    expect(small.persist?.entries?.entries).toHaveLength(10);
    for (const peer of [1, 2]) {
      const appends = dataAppends(small, peer);
      expect(appends).toHaveLength(1);
      expect(appends[0]?.args.entries).toHaveLength(10);
    }
    const total = 2 * MAX_ENTRIES + 22;
    for (let k = 0; k < total; k++) leader.propose(k);
    const big = cycle(leader);
    expect(big.persist?.entries).toMatchObject({ from: 11 });
    expect(big.persist?.entries?.entries).toHaveLength(total);
    for (const peer of [1, 2]) {
      const appends = dataAppends(big, peer);
      expect(appends.map((r) => r.args.entries.length)).toEqual([MAX_ENTRIES, MAX_ENTRIES, 22]);
      expect(appends.map((r) => r.args.prevLogIndex)).toEqual([
        10,
        10 + MAX_ENTRIES,
        10 + 2 * MAX_ENTRIES,
      ]);
    }
  });

  it('a healthy link never carries an entry twice (3 servers, 600 proposals in bursts)', () => {
    const random = new SeededRandom(7);
    const net = new CoreNet({
      n: 3,
      core: { checkQuorum: true },
      random: (i) => new SeededRandom(i + 11),
    });
    const leader = net.electLeader();
    let proposed = 0;
    while (proposed < 600) {
      const burst = Math.min(1 + random.int(150), 600 - proposed);
      for (let k = 0; k < burst; k++) net.core(leader).propose(`c${proposed++}`);
      net.process(leader);
      // Deliver a random part of the wire, then tick.
      for (let k = random.int(net.queue.length + 1); k > 0; k--) net.deliverAt(0);
      net.tick();
    }
    net.run(4);
    const counts = new Map<string, number>();
    for (const ready of net.readies[leader] ?? []) {
      for (const r of dataAppends(ready)) {
        r.args.entries.forEach((_, k) => {
          const key = `${r.to}:${r.args.prevLogIndex + 1 + k}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        });
      }
    }
    expect(counts.size).toBe(2 * 600);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    for (let i = 0; i < 3; i++) expect(net.applied[i]).toHaveLength(600);
  });

  it('falls back to probe on stepFailure: one AppendEntries from matchIndex+1, then silence until a reply or the next heartbeat', () => {
    const leader = replicatingLeader();
    const first = proposeOneByOne(leader, 3);
    leader.stepResponse(first[0] as OutgoingRequest<'AppendEntries'>, ok(1)); // matchIndex 1
    cycle(leader);
    leader.stepFailure(first[1] as OutgoingRequest<'AppendEntries'>);
    leader.propose('q');
    const probes = dataAppends(cycle(leader), 1);
    expect(probes).toHaveLength(1);
    expect(probes[0]?.args.prevLogIndex).toBe(1);
    expect(probes[0]?.args.entries.map((e) => e.command)).toEqual(['p1', 'p2', 'q']);
    // While the probe is out, proposals do not stream to follower 1.
    leader.propose('r');
    expect(requestsOf(cycle(leader), 'AppendEntries', 1)).toEqual([]);
    // The next heartbeat re-sends the probe.
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const again = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(again).toHaveLength(1);
    expect(again[0]?.args.prevLogIndex).toBe(1);
    // Its success puts the follower back into replicate: streaming resumes.
    leader.stepResponse(again[0] as OutgoingRequest<'AppendEntries'>, ok(1));
    cycle(leader);
    expect(proposeOneByOne(leader, 2, 's')).toHaveLength(2);
  });

  it('a follower whose log ends below its matchIndex (its disk lost synced writes) is sent the lost entries again, not probed past its end forever', () => {
    const leader = replicatingLeader();
    const sent = proposeOneByOne(leader, 3);
    for (const r of sent) leader.stepResponse(r, ok(1)); // matchIndex 3
    cycle(leader);
    leader.propose('q');
    const [append] = dataAppends(cycle(leader), 1);
    expect(append?.args.prevLogIndex).toBe(3);
    // Restarted with its WAL cut back to entry 1: it asks for entry 2 on.
    leader.stepResponse(append as OutgoingRequest<'AppendEntries'>, reject(1, 0, 2));
    const [resend] = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(resend?.args.prevLogIndex).toBe(1);
    expect(resend?.args.entries.map((e) => e.command)).toEqual(['p1', 'p2', 'q']);
    leader.stepResponse(resend as OutgoingRequest<'AppendEntries'>, ok(1));
    cycle(leader);
    // A stale refusal (a request below matchIndex) still changes nothing.
    leader.stepResponse(sent[0] as OutgoingRequest<'AppendEntries'>, reject(1, 0, 1));
    expect(requestsOf(cycle(leader), 'AppendEntries', 1)).toEqual([]);
    expect(proposeOneByOne(leader, 1, 's')[0]?.args.prevLogIndex).toBe(4);
  });

  it('flow control: a heartbeat reply does not open a pipelining slot (never more than maxInflightAppends entry-carrying AppendEntries outstanding)', () => {
    const leader = replicatingLeader();
    const outstanding = new Set(proposeOneByOne(leader, MAX_INFLIGHT + 2));
    expect(outstanding.size).toBe(MAX_INFLIGHT);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const heartbeats = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(heartbeats).toHaveLength(1);
    expect(heartbeats[0]?.args.entries).toEqual([]);
    leader.stepResponse(heartbeats[0] as OutgoingRequest<'AppendEntries'>, ok(1));
    for (const r of dataAppends(cycle(leader), 1)) outstanding.add(r);
    // None of the 4 entry-carrying AppendEntries was answered: no 5th may leave.
    expect(outstanding.size).toBe(MAX_INFLIGHT);
  });

  it('flow control: replies to AppendEntries sent before a probe fallback do not open slots in the new window', () => {
    const leader = replicatingLeader();
    const outstanding = new Set(proposeOneByOne(leader, MAX_INFLIGHT));
    const [a1, a2, a3, a4] = [...outstanding];
    if (a1 === undefined || a2 === undefined || a3 === undefined || a4 === undefined) throw 0;
    // The first times out: probe from 1 carrying 1–4, which succeeds.
    leader.stepFailure(a1);
    outstanding.delete(a1);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const [probe] = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(probe?.args.prevLogIndex).toBe(0);
    expect(probe?.args.entries).toHaveLength(MAX_INFLIGHT);
    if (probe === undefined) throw new Error('probe');
    leader.stepResponse(probe, ok(1));
    cycle(leader);
    // A new full window.
    for (const r of proposeOneByOne(leader, MAX_INFLIGHT + 3, 'n')) outstanding.add(r);
    // The old window's replies come in late (they were not lost, only slow).
    for (const old of [a2, a3, a4]) {
      leader.stepResponse(old, ok(1));
      outstanding.delete(old);
    }
    for (const r of dataAppends(cycle(leader), 1)) outstanding.add(r);
    expect(outstanding.size).toBeLessThanOrEqual(MAX_INFLIGHT);
  });
});

describe('RaftCore heartbeats and check-quorum', () => {
  it('a leader sends each follower an AppendEntries every heartbeatTicks ticks, carrying its commitIndex', () => {
    const leader = replicatingLeader();
    leader.propose('x');
    for (const r of dataAppends(cycle(leader))) leader.stepResponse(r, ok(1));
    cycle(leader);
    expect(leader.commitIndex).toBe(1);
    const perPeer = new Map<number, number>();
    for (let t = 1; t <= 10 * HEARTBEAT_TICKS; t++) {
      leader.tick();
      const appends = requestsOf(cycle(leader), 'AppendEntries');
      if (t % HEARTBEAT_TICKS !== 0) expect(appends).toEqual([]);
      for (const r of appends) {
        expect(r.args).toMatchObject({
          term: 1,
          leaderId: 0,
          prevLogIndex: 1,
          prevLogTerm: 1,
          entries: [],
          leaderCommit: 1,
        });
        perPeer.set(r.to, (perPeer.get(r.to) ?? 0) + 1);
        leader.stepResponse(r, ok(1));
      }
    }
    expect(perPeer).toEqual(
      new Map([
        [1, 10],
        [2, 10],
      ]),
    );
  });

  it('a leader keeps probing an unresponsive follower once per heartbeat interval', () => {
    const leader = newCore(0, 3);
    electLeader(leader);
    let probes = 0;
    for (let t = 1; t <= 6 * HEARTBEAT_TICKS; t++) {
      leader.tick();
      for (const r of requestsOf(cycle(leader), 'AppendEntries', 1)) {
        probes++;
        leader.stepFailure(r);
      }
    }
    expect(probes).toBe(6);
  });

  it('a follower receiving a current-term AppendEntries resets its election timer', () => {
    const follower = newCore(1, 3);
    deliver(follower, 'AppendEntries', appendArgs({ term: 1 }));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) follower.tick();
    deliver(follower, 'AppendEntries', appendArgs({ term: 1 }));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) follower.tick();
    expect(follower.role).toBe('follower');
    follower.tick();
    expect(follower.role).toBe('candidate');
  });

  it('with heartbeats flowing, no follower ever campaigns', () => {
    const net = new CoreNet({
      n: 5,
      core: { checkQuorum: true },
      random: (i) => new SeededRandom(i + 1),
    });
    const leader = net.electLeader();
    const term = net.core(leader).term;
    net.run(20 * ELECTION_TICKS);
    for (let i = 0; i < 5; i++) {
      expect(net.core(i).term).toBe(term);
      expect(net.core(i).leaderId).toBe(leader);
    }
  });

  it('check-quorum: a leader cut off from the majority steps down after an election timeout', () => {
    const net = new CoreNet({
      n: 3,
      core: { checkQuorum: true },
      random: (i) => fixedRandom(i === 0 ? 0 : ELECTION_TICKS - 1),
    });
    expect(net.electLeader()).toBe(0);
    net.run(3);
    const term = net.core(0).term;
    net.isolate(0);
    for (let t = 0; t < ELECTION_TICKS - 1; t++) net.run(1, [0]);
    expect(net.core(0).isLeader).toBe(true);
    for (let t = 0; t < ELECTION_TICKS + 1; t++) net.run(1, [0]);
    expect(net.core(0).role).toBe('follower');
    expect(net.core(0).term).toBe(term);
    expect(net.core(0).leaderId).toBeNull();
  });

  it('check-quorum: a leader that hears from a majority (itself included) keeps leading', () => {
    const net = new CoreNet({
      n: 3,
      core: { checkQuorum: true },
      random: (i) => fixedRandom(i === 0 ? 0 : 9),
    });
    expect(net.electLeader()).toBe(0);
    net.isolate(2);
    net.run(10 * ELECTION_TICKS, [0, 1]);
    expect(net.core(0).isLeader).toBe(true);
  });

  it('without check-quorum, a cut-off leader keeps believing it leads', () => {
    const net = new CoreNet({
      n: 3,
      core: { checkQuorum: false },
      random: (i) => fixedRandom(i === 0 ? 0 : 9),
    });
    expect(net.electLeader()).toBe(0);
    net.isolate(0);
    net.run(5 * ELECTION_TICKS, [0]);
    expect(net.core(0).isLeader).toBe(true);
  });
});
