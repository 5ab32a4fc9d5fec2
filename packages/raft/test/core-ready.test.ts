import { describe, expect, it } from 'vitest';
import type { Ready } from '../src/core/ready.js';
import { fixedRandom, HEARTBEAT_TICKS, newCore } from './support/core-config.js';
import { appendArgs, logOf, ok, reject, stateOf } from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import { cycle, deliver, electLeader, requestsOf } from './support/core-steps.js';

/** `method→to` of each request in a list, in order. */
const shape = (requests: Ready['requests']) => requests.map((r) => `${r.method}→${r.to}`);

/** Leader 0 of three in term 1, both followers replicating. */
function replicatingLeader() {
  const leader = newCore(0, 3);
  for (const probe of requestsOf(electLeader(leader), 'AppendEntries')) {
    leader.stepResponse(probe, ok(1));
  }
  cycle(leader);
  return leader;
}

describe('Ready: which requests may leave before the persist (thesis §10.2.1)', () => {
  it("a leader's AppendEntries with new entries leave before the entries are persisted", () => {
    const leader = replicatingLeader();
    leader.propose('x');
    const ready = leader.ready();
    expect(ready.persist?.entries).toEqual({ from: 1, entries: [{ term: 1, command: 'x' }] });
    expect(ready.persist?.hardState).toBeUndefined();
    expect(shape(ready.requestsBeforePersist)).toEqual(['AppendEntries→1', 'AppendEntries→2']);
    expect(ready.requests).toEqual([]);
    // One follower's acknowledgement does not commit: the leader's own copy is not durable yet.
    leader.stepResponse(
      requestsOf(ready.requestsBeforePersist, 'AppendEntries', 1)[0] as never,
      ok(1),
    );
    expect(leader.commitIndex).toBe(0);
    leader.advance(ready);
    expect(leader.commitIndex).toBe(1);
  });

  it('a RequestVote waits for the persist of the term and the vote for itself', () => {
    const candidate = newCore(0, 3);
    while (candidate.role !== 'candidate') candidate.tick();
    const ready = candidate.ready();
    expect(ready.persist?.hardState).toEqual({ term: 1, votedFor: 0 });
    expect(ready.requestsBeforePersist).toEqual([]);
    expect(shape(ready.requests)).toEqual(['RequestVote→1', 'RequestVote→2']);
  });

  it('a leader elected within the Ready that raises its term sends its first AppendEntries only after that persist', () => {
    const core = newCore(0, 3);
    while (core.role !== 'candidate') core.tick();
    // A vote comes back before the driver took the campaign's Ready (batching).
    const [vote] = requestsOf(core.ready(), 'RequestVote', 1);
    if (vote === undefined) throw new Error('no RequestVote');
    const again = newCore(0, 3);
    while (again.role !== 'candidate') again.tick();
    again.stepResponse(vote, { term: 1, voteGranted: true });
    expect(again.isLeader).toBe(true);
    again.propose('x');
    const ready = again.ready();
    expect(ready.persist?.hardState).toEqual({ term: 1, votedFor: 0 });
    expect(ready.persist?.entries?.entries).toHaveLength(1);
    expect(ready.requestsBeforePersist).toEqual([]);
    expect(shape(ready.requests)).toContain('AppendEntries→1');
  });

  it('a pre-vote waits too, even when the Ready persists only entries', () => {
    const follower = newCore(1, 3, { preVote: true }, stateOf(1, null, []));
    follower.stepRequest('AppendEntries', appendArgs({ term: 1, entries: logOf([1]) }), 1);
    while (follower.role !== 'precandidate') follower.tick();
    const ready = follower.ready();
    expect(ready.persist).toEqual({ entries: { from: 1, entries: logOf([1]) } });
    expect(ready.requestsBeforePersist).toEqual([]);
    expect(shape(ready.requests)).toEqual(['RequestVote→0', 'RequestVote→2']);
    expect(ready.replies).toHaveLength(1);
  });

  it("a leader's InstallSnapshot may leave while its compaction is being persisted", () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [1, 1, 1]));
    const lead = electLeader(leader);
    const probe = requestsOf(lead, 'AppendEntries', 1)[0];
    if (probe === undefined) throw new Error('probe');
    // Commit and apply 1..3 through follower 2, then compact them away.
    leader.stepResponse(requestsOf(lead, 'AppendEntries', 2)[0] as never, ok(2));
    leader.propose('y');
    const y = cycle(leader);
    for (const r of requestsOf(y, 'AppendEntries', 2)) leader.stepResponse(r, ok(2));
    cycle(leader);
    expect(leader.compact(4, new Uint8Array([4]))).toBe(true);
    leader.stepResponse(probe, reject(2, 0, 1));
    const ready = leader.ready();
    expect(ready.persist?.snapshot?.index).toBe(4);
    expect(shape(ready.requestsBeforePersist)).toContain('InstallSnapshot→1');
    expect(ready.requests).toEqual([]);
  });

  it('with nothing to persist, every request is in `requests` (nothing to wait for)', () => {
    const leader = replicatingLeader();
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const ready = leader.ready();
    expect(ready.persist).toBeUndefined();
    expect(ready.requestsBeforePersist).toEqual([]);
    expect(shape(ready.requests)).toEqual(['AppendEntries→1', 'AppendEntries→2']);
  });

  it('replies always wait for the persist', () => {
    const follower = newCore(1, 3);
    const { ready } = deliver(
      follower,
      'AppendEntries',
      appendArgs({ term: 1, entries: logOf([1]) }),
    );
    expect(ready.persist).toBeDefined();
    expect(ready.requestsBeforePersist).toEqual([]);
    expect(ready.replies).toHaveLength(1);
  });

  it('on a network, the requests sent early never depend on state that is not yet durable', () => {
    // CoreNet checks every early request against the durable state before the persist.
    const net = new CoreNet({
      n: 3,
      core: { preVote: true, checkQuorum: true },
      random: (i) => fixedRandom(i * 3),
    });
    net.electLeader();
    for (let k = 0; k < 20; k++) net.propose(net.leader() as number, `c${k}`);
    net.run(5);
    const early = net.readies.flat().flatMap((r) => r.requestsBeforePersist);
    expect(early.length).toBeGreaterThan(0);
    expect(new Set(early.map((r) => r.method))).toEqual(new Set(['AppendEntries']));
  });
});
