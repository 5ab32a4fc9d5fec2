import { RpcServer, silentLogger, simulate } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { ApplyMsg, OutgoingRequest } from '../src/core/ready.js';
import { RaftNode } from '../src/node.js';
import { MemoryPersister } from '../src/persister/memory-persister.js';
import { fixedRandom, newCore } from './support/core-config.js';
import { appendArgs, ok, stateOf } from './support/core-fixtures.js';
import { CoreNet, noopMarker, type Rpc } from './support/core-net.js';
import { cycle, deliver, electLeader, requestsOf } from './support/core-steps.js';

const NOOP = { noopOnElection: true } as const;

/** Node 0 times out first, then 1, then 2: elections are won in that order. */
const staggered = (i: number) => fixedRandom(i === 0 ? 0 : i === 1 ? 2 : 5);

const isRequest = (from: number, to: number) => (rpc: Rpc) =>
  rpc.from === from && rpc.to === to && rpc.phase === 'request';
const isReply = (from: number, to: number) => (rpc: Rpc) =>
  rpc.from === from && rpc.to === to && rpc.phase === 'reply';

/**
 * Leader 0 of three commits 'w' with node 1's acknowledgement and applies it (a client would
 * now hear success), then crashes before any follower learns 'w' is committed.
 */
function writeAcknowledgedThenLeaderDies(noopOnElection: boolean): CoreNet {
  const net = new CoreNet({ n: 3, core: { noopOnElection }, random: staggered });
  expect(net.electLeader()).toBe(0);
  net.run(3);
  net.propose(0, 'w');
  expect(net.deliverWhere(isRequest(0, 1))).toBe(true);
  expect(net.deliverWhere(isReply(0, 1))).toBe(true);
  expect(net.applied[0]?.at(-1)).toBe('w');
  expect(net.core(1).commitIndex).toBeLessThan(net.core(0).commitIndex);
  net.crash(0);
  return net;
}

describe('RaftCore no-op on election (noopOnElection)', () => {
  it('a new leader appends a no-op of its term, and its first probes carry it', () => {
    const leader = newCore(0, 3, NOOP, stateOf(1, null, [1, 1]));
    const probes = requestsOf(electLeader(leader), 'AppendEntries');
    expect(leader.lastIndex).toBe(3);
    expect(probes.map((p) => p.to).sort()).toEqual([1, 2]);
    for (const probe of probes) {
      expect(probe.args.prevLogIndex).toBe(2);
      expect(probe.args.entries).toEqual([{ term: 2, command: null, noop: true }]);
    }
  });

  it('the no-op is applied as { type: "noop" }, between the commands around it', () => {
    const follower = newCore(1, 3, NOOP);
    const entries = [
      { term: 1, command: null, noop: true as const },
      { term: 1, command: 'x' },
    ];
    const { ready } = deliver(
      follower,
      'AppendEntries',
      appendArgs({ term: 1, entries, leaderCommit: 2 }),
    );
    expect(ready.apply).toEqual([
      { type: 'noop', index: 1, term: 1 },
      { type: 'command', index: 2, term: 1, command: 'x' },
    ]);
  });

  it('a write acknowledged by the old leader just before it dies is applied on the survivors without a new proposal', () => {
    const net = writeAcknowledgedThenLeaderDies(true);
    expect(net.electLeader()).toBe(1);
    net.run(4);
    const expected = [noopMarker(1), 'w', noopMarker(2)];
    expect(net.applied[1]).toEqual(expected);
    expect(net.applied[2]).toEqual(expected);
  });

  it('(without the no-op, the survivors do not apply that write until a client proposes again)', () => {
    const net = writeAcknowledgedThenLeaderDies(false);
    expect(net.electLeader()).toBe(1);
    net.run(40);
    expect(net.applied[1]).toEqual([]);
    expect(net.applied[2]).toEqual([]);
  });

  it('after a full restart of every node, the whole log is applied again without a new write', () => {
    for (const noopOnElection of [true, false]) {
      const net = new CoreNet({ n: 3, core: { noopOnElection }, random: staggered });
      net.electLeader();
      for (const c of ['a', 'b', 'c']) net.propose(0, c);
      net.run(4);
      const before = net.applied[0] as unknown[];
      expect(before.slice(-3)).toEqual(['a', 'b', 'c']);
      for (let i = 0; i < 3; i++) net.restart(i);
      expect(net.applied).toEqual([[], [], []]);
      net.electLeader();
      net.run(4);
      for (let i = 0; i < 3; i++) {
        if (noopOnElection) expect(net.applied[i]).toEqual([...before, noopMarker(2)]);
        else expect(net.applied[i]).toEqual([]);
      }
    }
  });
});

describe('RaftCore ReadIndex with the no-op', () => {
  it("a new leader's read waits for its no-op to commit, then for a heartbeat round, and reads at the no-op's index", () => {
    const leader = newCore(0, 3, NOOP, stateOf(1, null, [1, 1]));
    const lead = electLeader(leader);
    leader.requestRead(7);
    const asked = cycle(leader);
    expect(asked.reads).toEqual([]);
    // The no-op (index 3) commits with one follower's acknowledgement.
    const probe = requestsOf(lead, 'AppendEntries', 1)[0] as OutgoingRequest<'AppendEntries'>;
    leader.stepResponse(probe, ok(2));
    expect(leader.commitIndex).toBe(3);
    const round = cycle(leader);
    expect(round.reads).toEqual([]);
    // The round started after the read was asked: its acknowledgement confirms it.
    const heartbeat = requestsOf(round, 'AppendEntries', 2).find((r) => r.round > probe.round);
    if (heartbeat === undefined) throw new Error('no heartbeat of a new read round');
    leader.stepResponse(heartbeat, ok(2));
    expect(cycle(leader).reads).toEqual([{ id: 7, ok: true, index: 3 }]);
  });

  it('a read waiting for the no-op fails with not-leader if the leader steps down first', () => {
    const leader = newCore(0, 3, NOOP);
    electLeader(leader);
    leader.requestRead(1);
    cycle(leader);
    const { ready } = deliver(leader, 'AppendEntries', appendArgs({ term: 5, leaderId: 2 }));
    expect(ready.reads).toEqual([{ id: 1, ok: false, reason: 'not-leader' }]);
  });

  it('a single-server leader commits its no-op once persisted and serves a read asked before that', () => {
    const core = newCore(0, 1, NOOP);
    // Campaign, win at once and append the no-op, nothing persisted yet.
    while (!core.isLeader) core.tick();
    expect(core.commitIndex).toBe(0);
    core.requestRead(9);
    const persisted = cycle(core); // persists the no-op; advance() commits it
    expect(persisted.reads).toEqual([]);
    expect(core.commitIndex).toBe(1);
    expect(cycle(core)).toMatchObject({
      apply: [{ type: 'noop', index: 1, term: 1 }],
      reads: [{ id: 9, ok: true, index: 1 }],
    });
  });

  it('without the no-op, a new leader still refuses reads with not-ready', () => {
    const leader = newCore(0, 3, { noopOnElection: false });
    electLeader(leader);
    leader.requestRead(1);
    expect(cycle(leader).reads).toEqual([{ id: 1, ok: false, reason: 'not-ready' }]);
  });
});

describe('the no-op through RaftNodes (virtual time)', () => {
  it('after every node restarts from its persister, the whole log is applied again with no new write', async () => {
    await simulate(
      async (sim) => {
        const n = 3;
        const persisters = Array.from({ length: n }, () => new MemoryPersister());
        const applied: ApplyMsg[][] = Array.from({ length: n }, () => []);
        let incarnation = 0;
        const startAll = async (): Promise<RaftNode[]> => {
          incarnation++;
          const nodes: RaftNode[] = [];
          for (let i = 0; i < n; i++) {
            const peers = Array.from({ length: n }, (_, j) => {
              const name = `${incarnation}:${i}->${j}`;
              const end = sim.net.makeEnd(name);
              sim.net.connect(name, `${incarnation}:${j}`);
              sim.net.enable(name, true);
              return end;
            });
            applied[i] = [];
            const node = await RaftNode.create({
              me: i,
              peers,
              persister: persisters[i] as MemoryPersister,
              clock: sim.clock,
              random: sim.random.fork(),
              onApply: (msg) => applied[i]?.push(msg),
            });
            sim.net.addServer(
              `${incarnation}:${i}`,
              new RpcServer({ logger: silentLogger }).addService('Raft', node.service),
            );
            nodes.push(node);
          }
          return nodes;
        };
        const commands = (i: number) =>
          (applied[i] ?? []).flatMap((m) => (m.type === 'command' ? [m.command] : []));
        const first = await startAll();
        await sim.sleep(2000);
        const leader = first.find((node) => node.getState().isLeader) as RaftNode;
        for (const c of ['a', 'b', 'c']) leader.start(c);
        await sim.sleep(1000);
        for (let i = 0; i < n; i++) expect(commands(i)).toEqual(['a', 'b', 'c']);
        await Promise.all(first.map((node) => node.close()));
        await startAll();
        await sim.sleep(3000);
        for (let i = 0; i < n; i++) {
          expect(commands(i)).toEqual(['a', 'b', 'c']);
          expect(applied[i]?.at(-1)?.type).toBe('noop');
        }
      },
      { seed: 3 },
    );
  });
});
