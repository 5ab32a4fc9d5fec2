import { RpcServer, type Sim, silentLogger, simulate } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { type ApplyMsg, MemoryPersister, RaftNode } from '../src/index.js';

async function cluster(sim: Sim, n: number) {
  const applied: ApplyMsg[][] = Array.from({ length: n }, () => []);
  const nodes: RaftNode[] = [];
  for (let i = 0; i < n; i++) {
    const peers = Array.from({ length: n }, (_, j) => {
      const name = `${i}->${j}`;
      const end = sim.net.makeEnd(name);
      sim.net.connect(name, String(j));
      sim.net.enable(name, true);
      return end;
    });
    const node = await RaftNode.create({
      me: i,
      peers,
      persister: new MemoryPersister(),
      clock: sim.clock,
      random: sim.random.fork(),
      onApply: (msg) => applied[i]?.push(msg),
    });
    sim.net.addServer(
      String(i),
      new RpcServer({ logger: silentLogger }).addService('Raft', node.service),
    );
    nodes.push(node);
  }
  return { nodes, applied };
}

describe('RaftNode basics', () => {
  it('elects one leader and replicates commands to every node in order', async () => {
    await simulate(
      async (sim) => {
        const { nodes, applied } = await cluster(sim, 3);
        const changes: string[][] = nodes.map(() => []);
        for (const [i, node] of nodes.entries()) {
          node.onStateChange((s) => changes[i]?.push(`${s.term}:${s.role}:${s.leaderId}`));
        }
        await sim.sleep(2000);
        const leaders = nodes.filter((n) => n.getState().isLeader);
        expect(leaders).toHaveLength(1);
        const leader = leaders[0] as RaftNode;
        expect(leader.role).toBe('leader');
        expect(changes[leader.me]).toEqual([
          '0:precandidate:null',
          `1:candidate:null`,
          `1:leader:${leader.me}`,
        ]);
        for (const node of nodes) {
          if (node !== leader) expect(changes[node.me]?.at(-1)).toBe(`1:follower:${leader.me}`);
        }
        // Index 1 is the leader's no-op (noopOnElection is on by default).
        for (let i = 1; i <= 100; i++) expect(leader.start(i * 10).index).toBe(i + 1);
        await sim.sleep(1000);
        for (const log of applied) {
          expect(log[0]).toEqual({ type: 'noop', index: 1, term: 1 });
          expect(log.slice(1).map((m) => (m.type === 'command' ? m.command : null))).toEqual(
            Array.from({ length: 100 }, (_, i) => (i + 1) * 10),
          );
        }
        expect(await leader.readIndex()).toBe(101);
      },
      { seed: 1 },
    );
  });
});
