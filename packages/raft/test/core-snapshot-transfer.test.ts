import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { InstallSnapshotArgs } from '../src/core/messages.js';
import type { RaftCore } from '../src/core/raft.js';
import type { OutgoingRequest } from '../src/core/ready.js';
import { isArgs, isReply } from '../src/core/validate.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { ELECTION_TICKS, fixedRandom, HEARTBEAT_TICKS, newCore } from './support/core-config.js';
import {
  ok,
  reject,
  snapshotArgs,
  snapshotDone,
  snapshotNext,
  stateOf,
} from './support/core-fixtures.js';
import { CoreNet } from './support/core-net.js';
import { durableView } from './support/core-net-checks.js';
import { cycle, deliver, electLeader, requestsOf } from './support/core-steps.js';

const CHUNK = 16;
/** 100 bytes: chunks at 0, 16, …, 96 (the last one 4 bytes). */
const DATA = Uint8Array.from({ length: 100 }, (_, i) => i);

type Install = OutgoingRequest<'InstallSnapshot'>;

/** Leader 0 of three (term 2) holding a snapshot of DATA through 5; follower 1 needs it. */
function leaderSending(): { leader: RaftCore; first: Install } {
  const leader = newCore(
    0,
    3,
    { snapshotChunkBytes: CHUNK },
    stateOf(1, null, [1], { index: 5, term: 1, data: DATA }),
  );
  const probe = requestsOf(electLeader(leader), 'AppendEntries', 1)[0];
  if (probe === undefined) throw new Error('probe');
  leader.stepResponse(probe, reject(2, 0, 1));
  const installs = requestsOf(cycle(leader), 'InstallSnapshot', 1);
  expect(installs).toHaveLength(1);
  return { leader, first: installs[0] as Install };
}

/** The InstallSnapshots to peer 1 in the leader's next Ready. */
function nextInstalls(leader: RaftCore): Install[] {
  return requestsOf(cycle(leader), 'InstallSnapshot', 1);
}

const chunkOf = (args: InstallSnapshotArgs) =>
  `${args.offset}+${args.data.length}${args.done ? '!' : ''}`;

describe('InstallSnapshot in chunks (Figure 13)', () => {
  it('the leader sends a snapshot as chunks in order, one in flight at a time; the follower installs it on the last', () => {
    const { leader, first } = leaderSending();
    const persister = new MemoryPersister();
    const follower = newCore(1, 3);
    const sent: string[] = [];
    let install: Install | undefined = first;
    while (install !== undefined) {
      sent.push(chunkOf(install.args));
      const { reply, ready } = deliver(follower, 'InstallSnapshot', install.args, persister);
      if (!install.args.done) {
        expect(reply).toEqual(snapshotNext(2, install.args.offset + install.args.data.length));
        // Only the first chunk persists anything: the follower's new term.
        expect(ready.persist?.snapshot).toBeUndefined();
        if (install.args.offset > 0) expect(ready.persist).toBeUndefined();
        expect(follower.snapshotIndex).toBe(0);
      } else {
        expect(reply).toEqual(snapshotDone(2));
        expect(ready.persist?.snapshot).toEqual({ index: 5, term: 1, data: DATA });
        expect(ready.apply).toEqual([{ type: 'snapshot', index: 5, term: 1, snapshot: DATA }]);
      }
      // Nothing else goes out while the chunk is in flight, heartbeats aside.
      for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
      expect(nextInstalls(leader)).toEqual([]);
      leader.stepResponse(install, reply);
      const next = cycle(leader);
      const installs = requestsOf(next, 'InstallSnapshot', 1);
      expect(installs.length).toBeLessThanOrEqual(1);
      install = installs[0];
      if (reply.done) {
        // Done: the leader probes from just past the snapshot.
        expect(install).toBeUndefined();
        expect(requestsOf(next, 'AppendEntries', 1).at(-1)?.args.prevLogIndex).toBe(5);
      }
    }
    expect(sent).toEqual(['0+16', '16+16', '32+16', '48+16', '64+16', '80+16', '96+4!']);
    expect(durableView(persister).snapshotIndex).toBe(5);
  });

  it('a lost chunk is sent again from the next heartbeat, at the same offset', () => {
    const { leader, first } = leaderSending();
    const follower = newCore(1, 3);
    leader.stepResponse(first, deliver(follower, 'InstallSnapshot', first.args).reply);
    const second = nextInstalls(leader)[0] as Install;
    expect(second.args.offset).toBe(16);
    leader.stepFailure(second);
    expect(nextInstalls(leader)).toEqual([]);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const again = nextInstalls(leader);
    expect(again.map((r) => chunkOf(r.args))).toEqual(['16+16']);
  });

  it('a chunk unanswered for an election timeout is presumed lost and sent again; the answer to either copy moves the transfer on', () => {
    const { leader, first } = leaderSending();
    const resent: Install[] = [];
    for (let t = 0; t < ELECTION_TICKS + HEARTBEAT_TICKS; t++) {
      leader.tick();
      resent.push(...nextInstalls(leader));
      if (t < ELECTION_TICKS - 1) expect(resent).toEqual([]);
    }
    expect(resent.map((r) => chunkOf(r.args))).toEqual(['0+16']);
    // The first copy's answer arrives after all: the next chunk goes; the second copy's answer
    // (for a chunk no longer in flight) changes nothing.
    leader.stepResponse(first, snapshotNext(2, 16));
    expect(nextInstalls(leader).map((r) => chunkOf(r.args))).toEqual(['16+16']);
    leader.stepResponse(resent[0] as Install, snapshotNext(2, 16));
    expect(nextInstalls(leader)).toEqual([]);
  });

  it('a transfer still at its start, retried after the leader compacted again, sends the newest snapshot', () => {
    const leader = newCore(
      0,
      3,
      { snapshotChunkBytes: CHUNK },
      stateOf(1, null, [1], { index: 5, term: 1, data: DATA }),
    );
    const lead = electLeader(leader);
    const to = (peer: number) =>
      requestsOf(lead, 'AppendEntries', peer)[0] as OutgoingRequest<'AppendEntries'>;
    leader.stepResponse(to(1), reject(2, 0, 1));
    const [first] = nextInstalls(leader);
    if (first === undefined) throw new Error('no InstallSnapshot');
    expect(first.args).toMatchObject({ lastIncludedIndex: 5, offset: 0 });
    // Follower 2 matches; 'x' (7) commits with it, is applied, and the leader compacts to 7.
    leader.stepResponse(to(2), ok(2));
    leader.propose('x');
    for (const r of requestsOf(cycle(leader), 'AppendEntries', 2)) leader.stepResponse(r, ok(2));
    cycle(leader);
    expect(leader.commitIndex).toBe(7);
    expect(leader.compact(7, DATA.subarray(0, 40))).toBe(true);
    // The first chunk of the old snapshot is lost: the retry sends the new one from 0.
    leader.stepFailure(first);
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const [again] = nextInstalls(leader);
    expect(again?.args).toMatchObject({ lastIncludedIndex: 7, offset: 0, done: false });
  });

  it('a lost heartbeat or a stale reply does not disturb the transfer', () => {
    const { leader, first } = leaderSending();
    for (let t = 0; t < HEARTBEAT_TICKS; t++) leader.tick();
    const [heartbeat] = requestsOf(cycle(leader), 'AppendEntries', 1);
    if (heartbeat === undefined) throw new Error('heartbeat');
    leader.stepFailure(heartbeat);
    // A reply for a chunk that is not the one in flight (say, a duplicate) changes nothing.
    leader.stepResponse({ ...first, args: { ...first.args, offset: 48 } }, snapshotNext(2, 64));
    expect(nextInstalls(leader)).toEqual([]);
    leader.stepResponse(first, snapshotNext(2, 16));
    expect(nextInstalls(leader).map((r) => chunkOf(r.args))).toEqual(['16+16']);
  });

  it('duplicated and reordered chunks: the follower keeps what it has in order and asks to resume at its end', () => {
    const follower = newCore(1, 3);
    const chunk = (offset: number, done = false) =>
      snapshotArgs({
        term: 2,
        lastIncludedIndex: 5,
        lastIncludedTerm: 1,
        offset,
        data: DATA.subarray(offset, Math.min(100, offset + CHUNK)),
        done,
      });
    const reply = (args: InstallSnapshotArgs) => deliver(follower, 'InstallSnapshot', args).reply;
    expect(reply(chunk(0))).toEqual(snapshotNext(2, 16));
    expect(reply(chunk(0))).toEqual(snapshotNext(2, 16)); // duplicate of the first
    expect(reply(chunk(32))).toEqual(snapshotNext(2, 16)); // 16 was lost (or is late)
    expect(reply(chunk(16))).toEqual(snapshotNext(2, 32));
    expect(reply(chunk(16))).toEqual(snapshotNext(2, 32)); // duplicate
    for (const offset of [32, 48, 64, 80]) {
      expect(reply(chunk(offset))).toEqual(snapshotNext(2, offset + 16));
    }
    const last = deliver(follower, 'InstallSnapshot', chunk(96, true));
    expect(last.reply).toEqual(snapshotDone(2));
    expect(last.ready.apply).toEqual([{ type: 'snapshot', index: 5, term: 1, snapshot: DATA }]);
    // A chunk of a snapshot the follower now holds: done, nothing changes.
    const late = deliver(follower, 'InstallSnapshot', chunk(48));
    expect(late.reply).toEqual(snapshotDone(2));
    expect(late.ready.persist).toBeUndefined();
  });

  it("a chunk of another snapshot, or of another leader's term, discards the partial snapshot: start over", () => {
    const follower = newCore(1, 3);
    const of = (term: number, index: number, offset: number, done = false) =>
      snapshotArgs({
        term,
        lastIncludedIndex: index,
        lastIncludedTerm: 1,
        offset,
        data: DATA.subarray(offset, offset + CHUNK),
        done,
      });
    const reply = (args: InstallSnapshotArgs) => deliver(follower, 'InstallSnapshot', args).reply;
    expect(reply(of(2, 5, 0))).toEqual(snapshotNext(2, 16));
    // The same leader now sends a newer snapshot (it compacted again): start over at 0.
    expect(reply(of(2, 8, 16))).toEqual(snapshotNext(2, 0));
    expect(reply(of(2, 5, 16))).toEqual(snapshotNext(2, 0)); // the old partial is gone
    expect(reply(of(2, 8, 0))).toEqual(snapshotNext(2, 16));
    // A new leader (term 3) with the same snapshot point: its bytes may differ, start over.
    expect(reply(of(3, 8, 16))).toEqual(snapshotNext(3, 0));
    expect(reply(of(3, 8, 0))).toEqual(snapshotNext(3, 16));
    // The old leader's late chunk is refused by term and changes nothing.
    expect(reply(of(2, 8, 16))).toEqual({ term: 3, done: false, nextOffset: 0 });
    expect(reply(of(3, 8, 16, true))).toEqual(snapshotDone(3));
    expect(follower.snapshotIndex).toBe(8);
  });

  it('the follower restarting mid-transfer: it asks to start over, and the leader resends from 0', () => {
    const net = laggingFollowerNet();
    deliverUntil(net, () => offsetsSentTo(net, 0, 2).filter((o) => o > 0).length >= 3);
    expect(net.core(2).snapshotIndex).toBe(0);
    const before = offsetsSentTo(net, 0, 2).length;
    net.restart(2);
    net.run(3);
    const after = offsetsSentTo(net, 0, 2).slice(before);
    // The chunk in flight reached the restarted follower, which holds nothing of it: the
    // leader starts over, once.
    expect(after[0]).toBe(0);
    expect(after.filter((o) => o === 0)).toHaveLength(1);
    expect(net.core(2).snapshotIndex).toBe(net.core(0).snapshotIndex);
    net.propose(0, 'last');
    net.run(4);
    expect(net.applied[2]).toEqual(net.applied[0]);
  });

  it("a leader change mid-transfer: the new leader sends its own snapshot from 0; the old leader's chunks are refused", () => {
    const net = laggingFollowerNet();
    expect(net.core(1).snapshotIndex).toBeGreaterThan(0); // 1 compacted too
    deliverUntil(net, () => offsetsSentTo(net, 0, 2).filter((o) => o > 0).length >= 3);
    const oldTerm = net.core(0).term;
    const late = (net.readies[0] ?? []).flatMap((r) => requestsOf(r, 'InstallSnapshot', 2)).at(-1);
    if (late === undefined) throw new Error('no chunk from the old leader');
    net.isolate(0);
    for (let round = 0; round < 100 && !net.core(1).isLeader; round++) net.run(1);
    expect(net.core(1).isLeader).toBe(true);
    expect(net.core(1).term).toBeGreaterThan(oldTerm);
    net.run(3);
    const fromNew = offsetsSentTo(net, 1, 2);
    expect(fromNew[0]).toBe(0);
    expect(net.core(2).snapshotIndex).toBe(net.core(1).snapshotIndex);
    // The old leader's late chunk is refused with the new term and changes nothing.
    const { reply, ready } = deliver(net.core(2), 'InstallSnapshot', late.args);
    expect(reply).toEqual({ term: net.core(1).term, done: false, nextOffset: 0 });
    expect(ready.persist).toBeUndefined();
    net.heal();
    net.propose(1, 'after');
    net.run(10);
    net.checkLogMatching();
    expect(net.applied[2]).toEqual(net.applied[1]);
  });

  it('on a lossy network, snapshots of many chunks reach every lagging follower', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = new SeededRandom(seed);
      const net = new CoreNet({
        n: 5,
        core: { snapshotChunkBytes: 1 + random.int(8), checkQuorum: true, preVote: true },
        snapshotEvery: 4,
        random: (i) => new SeededRandom(seed * 7 + i),
      });
      const leader = net.electLeader();
      const lagging = [(leader + 1) % 5, (leader + 2) % 5];
      for (const i of lagging) net.isolate(i);
      for (let k = 0; k < 20; k++) net.propose(leader, `s${seed}-${k}`);
      net.run(4);
      net.heal();
      for (let round = 0; round < 60; round++) {
        net.tick();
        for (let step = 0; step < 40 && net.queue.length > 0; step++) {
          const k = random.int(net.queue.length);
          if (random.int(10) === 0) net.dropAt(k);
          else net.deliverAt(k);
        }
        net.processAll();
      }
      net.deliverAll();
      net.run(20);
      const current = net.leader();
      if (current === undefined) throw new Error(`seed ${seed}: no leader`);
      net.propose(current, `final-${seed}`);
      net.run(20);
      net.checkLogMatching();
      net.checkAppliedPrefixes();
      for (let i = 0; i < 5; i++)
        expect(net.applied[i]?.at(-1), `seed ${seed} node ${i}`).toBe(`final-${seed}`);
    }
  });
});

describe('InstallSnapshot shape checks', () => {
  const good = snapshotArgs({ term: 2, lastIncludedIndex: 5, offset: 16, done: false });

  it('accepts a chunk and a reply of the right shape', () => {
    expect(isArgs.InstallSnapshot(good)).toBe(true);
    expect(isReply.InstallSnapshot(snapshotNext(2, 32))).toBe(true);
    expect(isReply.InstallSnapshot(snapshotDone(2))).toBe(true);
  });

  it.each([
    ['a negative offset', { offset: -1 }],
    ['a fractional offset', { offset: 1.5 }],
    ['no offset', { offset: undefined }],
    ['an offset whose chunk ends past 2^53', { offset: Number.MAX_SAFE_INTEGER - 1 }],
    ['no done', { done: undefined }],
    ['a done that is not a boolean', { done: 1 }],
    ['data that is not bytes', { data: [1, 2] }],
  ])('refuses a chunk with %s', (_, override) => {
    expect(isArgs.InstallSnapshot({ ...good, ...override })).toBe(false);
  });

  it.each([
    ['no done', { term: 2, nextOffset: 0 }],
    ['no nextOffset', { term: 2, done: false }],
    ['a negative nextOffset', { term: 2, done: false, nextOffset: -16 }],
    ['the old reply shape', { term: 2 }],
  ])('refuses a reply with %s', (_, reply) => {
    expect(isReply.InstallSnapshot(reply)).toBe(false);
  });
});

/** The offsets of every InstallSnapshot `from` sent to `to`, in order. */
function offsetsSentTo(net: CoreNet, from: number, to: number): number[] {
  return (net.readies[from] ?? [])
    .flatMap((r) => requestsOf(r, 'InstallSnapshot', to))
    .map((r) => r.args.offset);
}

/**
 * Three servers (elections won by 0, then 1), 4-byte chunks, each service compacting every 5
 * entries: 0 and 1 commit 12 commands while 2 is cut off, then 2 is back and needs a
 * snapshot of many chunks. Nothing is delivered yet.
 */
function laggingFollowerNet(): CoreNet {
  const net = new CoreNet({
    n: 3,
    core: { snapshotChunkBytes: 4 },
    snapshotEvery: 5,
    random: (i) => fixedRandom(i === 0 ? 0 : i === 1 ? 2 : 6),
  });
  expect(net.electLeader()).toBe(0);
  net.isolate(2);
  for (let k = 0; k < 12; k++) net.propose(0, `cmd-${k}`);
  net.run(3);
  expect(net.core(0).snapshotIndex).toBe(10);
  net.heal();
  return net;
}

/** Delivers the oldest RPC on the wire (ticking when it is empty) until `done()`. */
function deliverUntil(net: CoreNet, done: () => boolean, limit = 10_000): void {
  for (let step = 0; step < limit; step++) {
    if (done()) return;
    if (net.queue.length === 0) net.tick();
    else net.deliverAt(0);
  }
  throw new Error(`not done after ${limit} steps`);
}
