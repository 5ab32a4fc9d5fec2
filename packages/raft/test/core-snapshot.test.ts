import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { OutgoingRequest } from '../src/core/ready.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { ELECTION_TICKS, fixedRandom, HEARTBEAT_TICKS, newCore } from './support/core-config.js';
import {
  appendArgs,
  cmdAt,
  encodeSnapshot,
  logOf,
  persisterOf,
  reject,
  snapshotArgs,
  snapshotDone,
  stateOf,
} from './support/core-fixtures.js';
import { CoreNet, type Rpc } from './support/core-net.js';
import { durableView } from './support/core-net-checks.js';
import {
  allRequests,
  cycle,
  deliver,
  electLeader,
  requestsOf,
  tickUntilCampaign,
} from './support/core-steps.js';

const DATA = new Uint8Array([9, 9, 9]);

describe('RaftCore compaction (§7)', () => {
  it('compact(index) is refused past the applied index and at or below the snapshot; it drops the log prefix and the next Ready persists the snapshot', () => {
    const persister = new MemoryPersister();
    const core = newCore(0, 1);
    tickUntilCampaign(core);
    for (let k = 1; k <= 5; k++) core.propose(`c${k}`);
    cycle(core, persister); // persists 1–5, then commits them
    const applied = cycle(core, persister);
    expect(applied.apply.map((m) => m.index)).toEqual([1, 2, 3, 4, 5]);
    expect(core.compact(6, DATA)).toBe(false);
    expect(core.compact(0, DATA)).toBe(false);
    expect(core.compact(3, DATA)).toBe(true);
    expect(core.snapshotIndex).toBe(3);
    expect(core.lastIndex).toBe(5);
    expect(core.compact(3, DATA)).toBe(false);
    expect(core.compact(2, DATA)).toBe(false);
    expect(core.hasReady()).toBe(true);
    const ready = cycle(core, persister);
    expect(ready.persist).toEqual({ snapshot: { index: 3, term: 1, data: DATA } });
    expect(ready.apply).toEqual([]);
    const view = durableView(persister);
    expect(view.snapshotIndex).toBe(3);
    expect(view.entries).toEqual([
      { term: 1, command: 'c4' },
      { term: 1, command: 'c5' },
    ]);
  });

  it('compact() refuses an index that is committed but not yet handed out for applying', () => {
    const core = newCore(1, 3);
    core.stepRequest(
      'AppendEntries',
      appendArgs({ term: 1, entries: logOf([1, 1, 1]), leaderCommit: 3 }),
      1,
    );
    expect(core.commitIndex).toBe(3);
    expect(core.compact(3, DATA)).toBe(false);
    expect(cycle(core).apply).toHaveLength(3);
    expect(core.compact(3, DATA)).toBe(true);
  });

  it('a restarted core starts from its snapshot: appliedTo = commitIndex = snapshot index, later entries applied once committed', () => {
    const state = stateOf(2, 0, [1, 2], { index: 3, term: 1, data: DATA });
    const core = newCore(1, 3, {}, state);
    expect(core.snapshotIndex).toBe(3);
    expect(core.commitIndex).toBe(3);
    expect(core.lastIndex).toBe(5);
    expect(core.hasReady()).toBe(false);
    const { ready } = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 2, prevLogIndex: 5, prevLogTerm: 2, leaderCommit: 5 }),
    );
    expect(ready.apply).toEqual([
      { type: 'command', index: 4, term: 1, command: cmdAt(4, 1) },
      { type: 'command', index: 5, term: 2, command: cmdAt(5, 2) },
    ]);
  });
});

describe('RaftCore InstallSnapshot, leader side', () => {
  it('a follower that needs compacted entries gets InstallSnapshot, then AppendEntries from just past it', () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [1, 1], { index: 5, term: 1, data: DATA }));
    const lead = electLeader(leader);
    const [probe] = requestsOf(lead, 'AppendEntries', 1);
    if (probe === undefined) throw new Error('probe');
    expect(probe.args.prevLogIndex).toBe(7);
    leader.stepResponse(probe, reject(2, 0, 3));
    const [install, ...rest] = allRequests(cycle(leader)).filter((r) => r.to === 1);
    expect(rest).toEqual([]);
    expect(install?.method).toBe('InstallSnapshot');
    expect(install?.args).toEqual({
      term: 2,
      leaderId: 0,
      lastIncludedIndex: 5,
      lastIncludedTerm: 1,
      offset: 0,
      data: DATA,
      done: true,
    });
    // While it is out, heartbeats do not resend it (the follower gets empty AppendEntries at 0).
    for (let t = 0; t < 2 * HEARTBEAT_TICKS; t++) leader.tick();
    expect(
      allRequests(cycle(leader))
        .filter((r) => r.to === 1)
        .map((r) => `${r.method}@${(r.args as { prevLogIndex?: number }).prevLogIndex}`),
    ).toEqual(['AppendEntries@0', 'AppendEntries@0']);
    leader.stepResponse(install as OutgoingRequest<'InstallSnapshot'>, snapshotDone(2));
    const [next] = requestsOf(cycle(leader), 'AppendEntries', 1);
    expect(next?.args.prevLogIndex).toBe(5);
    expect(next?.args.entries.map((e) => e.term)).toEqual([1, 1]);
  });

  it('a failed InstallSnapshot is sent again at the next heartbeat', () => {
    const leader = newCore(0, 3, {}, stateOf(1, null, [], { index: 5, term: 1, data: DATA }));
    const lead = electLeader(leader);
    const [probe] = requestsOf(lead, 'AppendEntries', 1);
    if (probe === undefined) throw new Error('probe');
    leader.stepResponse(probe, reject(2, 0, 1));
    const [install] = requestsOf(cycle(leader), 'InstallSnapshot', 1);
    if (install === undefined) throw new Error('install');
    leader.stepFailure(install);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    expect(requestsOf(cycle(leader), 'InstallSnapshot', 1)).toHaveLength(1);
  });

  it('on a network: a follower cut off while the leader compacted catches up through InstallSnapshot', () => {
    const net = new CoreNet({ n: 3, random: (i) => new SeededRandom(i + 3) });
    const leader = net.electLeader();
    const lagging = (leader + 1) % 3;
    net.isolate(lagging);
    for (let k = 0; k < 10; k++) net.propose(leader, `a${k}`);
    net.run(2);
    expect(net.applied[leader]).toHaveLength(10);
    expect(net.compact(leader)).toBe(true);
    expect(net.core(leader).snapshotIndex).toBe(10);
    net.heal();
    net.run(3);
    const installs = (net.readies[leader] ?? []).flatMap((r) =>
      requestsOf(r, 'InstallSnapshot', lagging),
    );
    expect(installs.length).toBeGreaterThanOrEqual(1);
    expect(installs[0]?.args).toMatchObject({ lastIncludedIndex: 10, term: net.core(leader).term });
    expect(net.core(lagging).snapshotIndex).toBe(10);
    net.propose(leader, 'b');
    net.run(4);
    const log = net.applyLog[lagging] ?? [];
    expect(log.map((m) => `${m.type}@${m.index}`)).toEqual(['snapshot@10', 'command@11']);
    expect(net.applied[lagging]).toEqual(net.applied[leader]);
  });
});

describe('RaftCore InstallSnapshot, follower side', () => {
  it('installing a snapshot keeps a matching suffix of the log and sets commitIndex', () => {
    const state = stateOf(1, null, [1, 1, 1, 1, 1]);
    const persister = persisterOf(state);
    const core = newCore(1, 3, {}, state);
    const { reply, ready } = deliver(
      core,
      'InstallSnapshot',
      snapshotArgs({ term: 1, lastIncludedIndex: 3, lastIncludedTerm: 1, data: DATA }),
      persister,
    );
    expect(reply).toEqual(snapshotDone(1));
    expect(core.snapshotIndex).toBe(3);
    expect(core.lastIndex).toBe(5);
    expect(core.commitIndex).toBe(3);
    expect(ready.persist).toEqual({ snapshot: { index: 3, term: 1, data: DATA } });
    expect(ready.apply).toEqual([{ type: 'snapshot', index: 3, term: 1, snapshot: DATA }]);
    expect(durableView(persister)).toMatchObject({ snapshotIndex: 3, lastIndex: 5 });
    const next = deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 1, prevLogIndex: 5, prevLogTerm: 1, leaderCommit: 5 }),
    );
    expect(next.ready.apply.map((m) => m.index)).toEqual([4, 5]);
  });

  it('installing a snapshot discards a conflicting log', () => {
    const state = stateOf(2, null, [1, 1, 2, 2, 2]);
    const persister = persisterOf(state);
    const core = newCore(1, 3, {}, state);
    const { reply, ready } = deliver(
      core,
      'InstallSnapshot',
      snapshotArgs({ term: 3, lastIncludedIndex: 4, lastIncludedTerm: 3, data: DATA }),
      persister,
    );
    expect(reply).toEqual(snapshotDone(3));
    expect(core.snapshotIndex).toBe(4);
    expect(core.lastIndex).toBe(4);
    expect(core.commitIndex).toBe(4);
    expect(ready.persist?.snapshot).toEqual({ index: 4, term: 3, data: DATA });
    expect(ready.persist?.hardState).toEqual({ term: 3, votedFor: null });
    expect(ready.apply).toEqual([{ type: 'snapshot', index: 4, term: 3, snapshot: DATA }]);
    expect(durableView(persister)).toMatchObject({ snapshotIndex: 4, lastIndex: 4 });
  });

  it('after a snapshot discarded a longer conflicting log, entries appended in the same batch are persisted at their own indexes before they are acknowledged', () => {
    // Follower holds 1..5; the leader's snapshot at 3 (term 3) conflicts with its entry 3 (term 2).
    // The InstallSnapshot and the next AppendEntries are stepped before the driver takes a Ready
    // (as node.ts does while an asynchronous persister is saving the previous one).
    const state = stateOf(2, null, [1, 1, 2, 2, 2]);
    const persister = persisterOf(state);
    const core = newCore(1, 3, {}, state);
    core.stepRequest(
      'InstallSnapshot',
      snapshotArgs({ term: 3, lastIncludedIndex: 3, lastIncludedTerm: 3 }),
      1,
    );
    expect(core.lastIndex).toBe(3);
    const entries = [
      { term: 3, command: 'x4' },
      { term: 3, command: 'y5' },
    ];
    core.stepRequest(
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 3, prevLogTerm: 3, entries }),
      2,
    );
    expect(core.lastIndex).toBe(5);
    const ready = cycle(core, persister);
    // The success reply tells the leader 4..5 are durable here: they must be in this Ready.
    expect(ready.replies.map((r) => r.reply)).toContainEqual({
      term: 3,
      success: true,
      conflictTerm: 0,
      conflictIndex: 0,
    });
    expect(ready.persist?.entries).toEqual({ from: 4, entries });
    const view = durableView(persister);
    expect(view).toMatchObject({ snapshotIndex: 3, lastIndex: 5 });
    expect(view.entries).toEqual(entries);
  });

  it('after a snapshot discarded a longer conflicting log, entries appended in the same batch beyond the old end land at their own indexes', () => {
    const state = stateOf(2, null, [1, 1, 2, 2, 2]);
    const persister = persisterOf(state);
    const core = newCore(1, 3, {}, state);
    core.stepRequest(
      'InstallSnapshot',
      snapshotArgs({ term: 3, lastIncludedIndex: 3, lastIncludedTerm: 3 }),
      1,
    );
    const entries = logOf([3, 3, 3], 4);
    core.stepRequest(
      'AppendEntries',
      appendArgs({ term: 3, prevLogIndex: 3, prevLogTerm: 3, entries }),
      2,
    );
    cycle(core, persister);
    // A restart from what was saved must see entry 4 at index 4, not entry 6.
    const restarted = newCore(1, 3, {}, persister.load());
    expect(restarted.lastIndex).toBe(6);
    expect(durableView(persister).entries).toEqual(entries);
  });

  it('installing a snapshot hands out a snapshot ApplyMsg before the commands that follow it', () => {
    const core = newCore(1, 3);
    core.stepRequest(
      'InstallSnapshot',
      snapshotArgs({ term: 1, lastIncludedIndex: 5, lastIncludedTerm: 1, data: DATA }),
      1,
    );
    core.stepRequest(
      'AppendEntries',
      appendArgs({
        term: 1,
        prevLogIndex: 5,
        prevLogTerm: 1,
        entries: logOf([1, 1], 6),
        leaderCommit: 7,
      }),
      2,
    );
    const ready = cycle(core);
    expect(ready.apply).toEqual([
      { type: 'snapshot', index: 5, term: 1, snapshot: DATA },
      { type: 'command', index: 6, term: 1, command: cmdAt(6, 1) },
      { type: 'command', index: 7, term: 1, command: cmdAt(7, 1) },
    ]);
    expect(ready.replies).toHaveLength(2);
  });

  it('a snapshot at or below commitIndex is ignored (answered, nothing changes)', () => {
    const core = newCore(1, 3, {}, stateOf(1, null, [1, 1, 1, 1, 1]));
    deliver(
      core,
      'AppendEntries',
      appendArgs({ term: 1, prevLogIndex: 5, prevLogTerm: 1, leaderCommit: 5 }),
    );
    expect(core.commitIndex).toBe(5);
    for (const lastIncludedIndex of [4, 5]) {
      const { reply, ready } = deliver(
        core,
        'InstallSnapshot',
        snapshotArgs({ term: 1, lastIncludedIndex, lastIncludedTerm: 1 }),
      );
      expect(reply).toEqual(snapshotDone(1));
      expect(ready.persist).toBeUndefined();
      expect(ready.apply).toEqual([]);
      expect(core.snapshotIndex).toBe(0);
      expect(core.lastIndex).toBe(5);
    }
  });

  it('a snapshot is accepted from the current leader and resets the election timer', () => {
    const core = newCore(1, 3, {}, stateOf(1, null, []));
    for (let t = 0; t < ELECTION_TICKS - 1; t++) core.tick();
    deliver(core, 'InstallSnapshot', snapshotArgs({ term: 1, leaderId: 2, lastIncludedIndex: 2 }));
    expect(core.leaderId).toBe(2);
    for (let t = 0; t < ELECTION_TICKS - 1; t++) core.tick();
    expect(core.role).toBe('follower');
  });
});

describe('RaftCore InstallSnapshot end to end (network, batched Readies)', () => {
  it('a follower whose conflicting log was replaced by a snapshot never applies a command other than the committed one (no lost or misplaced entries across a restart)', () => {
    // 5 servers; Readies are batched (several RPCs stepped per Ready) as in node.ts with an
    // asynchronous persister. Durability checks are off so the end result itself is judged.
    const net = new CoreNet({
      n: 5,
      batching: true,
      checkDurability: false,
      random: (i) => fixedRandomFor(i),
    });
    const flushExcept = (held: (rpc: Rpc) => boolean): void => {
      for (let guard = 0; guard < 10_000; guard++) {
        net.processAll();
        const k = net.queue.findIndex((rpc) => !held(rpc));
        if (k < 0) return;
        net.deliverAt(k);
      }
      throw new Error('no quiescence');
    };
    // (1) S0 leads term 1 and commits 'a' everywhere.
    expect(net.electLeader()).toBe(0);
    net.propose(0, 'a');
    net.run(4);
    for (let i = 0; i < 5; i++) expect(net.applied[i]).toEqual(['a']);
    // (2) S0 writes b, c, d to S2 only, and never hears back: S2 holds 2..4 of term 1, uncommitted.
    net.partition([0], [1, 3, 4]);
    net.cut(2, 0);
    for (const c of ['b', 'c', 'd']) net.propose(0, c);
    net.deliverAll();
    expect(net.core(2).lastIndex).toBe(4);
    expect(net.core(0).commitIndex).toBe(1);
    // (3) S1 leads term 2 with S3 and S4; its empty probe at 1 succeeds on S2 (replicate).
    net.heal();
    net.isolate(0);
    net.isolate(2);
    for (let t = 0; t < 4 * ELECTION_TICKS && !net.core(1).isLeader; t++) {
      net.tick([1]);
      net.deliverAll();
    }
    expect(net.core(1).isLeader).toBe(true);
    net.heal();
    net.isolate(0);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) net.tick([1]);
    net.deliverAll();
    expect(net.core(2).term).toBe(2);
    expect(net.core(2).lastIndex).toBe(4); // b, c, d still there
    // (4) S1 appends e, f, g, h (2..5); the AppendEntries to S2 is slow; S3, S4 commit them.
    for (const c of ['e', 'f', 'g', 'h']) net.core(1).propose(c);
    net.process(1);
    const slow = net.queue.find((rpc) => rpc.from === 1 && rpc.to === 2 && rpc.phase === 'request');
    if (slow === undefined) throw new Error('no AppendEntries to S2');
    flushExcept((rpc) => rpc === slow);
    expect(net.core(1).commitIndex).toBe(5);
    expect(net.applied[1]).toEqual(['a', 'e', 'f', 'g', 'h']);
    // (5) S1 snapshots through 3; the slow AppendEntries times out: probe → InstallSnapshot(3).
    expect(net.core(1).compact(3, encodeSnapshot(['a', 'e', 'f']))).toBe(true);
    net.process(1);
    net.timeoutAt(net.queue.indexOf(slow));
    for (let t = 0; t < HEARTBEAT_TICKS; t++) net.tick([1]);
    net.process(1);
    const install = net.queue.find(
      (rpc) => rpc.to === 2 && rpc.request.method === 'InstallSnapshot',
    );
    if (install === undefined) throw new Error('no InstallSnapshot to S2');
    // (6) S2 takes the snapshot and then the late AppendEntries, in one batch.
    net.deliverAt(net.queue.indexOf(install));
    net.deliverAt(net.queue.indexOf(slow));
    net.process(2);
    net.deliverAll();
    expect(net.core(2).lastIndex).toBe(5);
    // (7) S2 acknowledged 4..5 (its success went to S1): they must be durable, in place.
    expect(net.durable(2).entries.map((e) => e.command)).toEqual(['g', 'h']);
    // S2 restarts from what it persisted and catches up.
    net.restart(2);
    expect(net.core(2).lastIndex).toBe(5);
    net.run(6, [1]);
    expect(net.applied[2]).toEqual(['a', 'e', 'f', 'g', 'h']);
    net.checkLogMatching();
  });
});

function fixedRandomFor(i: number) {
  return fixedRandom(i === 0 ? 0 : i === 1 ? 3 : ELECTION_TICKS - 1);
}
