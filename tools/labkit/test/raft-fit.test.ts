import { type LabServer, type StartServer, withServiceConfig } from '@flotilla/labkit';
import { RaftNode } from '@flotilla/raft';
import { silentLogger } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { run } from './support/run.js';

interface RaftOnly extends LabServer {
  readonly node: RaftNode;
}

/** The contract with a real Raft peer behind it: what kvraft's servers will wrap. */
const startRaftOnly: StartServer<RaftOnly> = async (ends, me, persister, _max, env) => {
  const node = await RaftNode.create({
    me,
    peers: ends,
    persister,
    clock: env.clock,
    random: env.random,
    logger: silentLogger,
  });
  return {
    node,
    services: { Raft: node.service },
    raft: node,
    kill: () => node.kill(),
    close: () => node.close(),
  };
};

describe('the contract fits a RaftNode', () => {
  it('elects over the harness links, loses the leader to makePartition, keeps state across restart', async () => {
    await run('raft-fit', (sim) =>
      withServiceConfig(
        sim,
        { n: 5, maxraftstate: -1, startServer: startRaftOnly, log: () => {} },
        async (cfg) => {
          await sim.sleep(3000);
          const first = cfg.leader();
          expect(first.found).toBe(true);
          const [p1, p2] = cfg.makePartition();
          expect(p2.at(-1)).toBe(first.leader);
          cfg.partition(p1, p2);
          await sim.sleep(3000);
          expect(p1.some((i) => cfg.server(i)?.raft.getState().isLeader)).toBe(true);
          cfg.connectAll();

          const term = cfg.server(2)?.raft.getState().term ?? 0;
          expect(cfg.persister(2)?.raftStateSize()).toBeGreaterThan(0);
          cfg.shutdownServer(2);
          await cfg.startServer(2);
          // Restarted from the copied persister: the term it had saved, before it hears anyone.
          expect(cfg.server(2)?.raft.getState().term).toBe(term);
          cfg.connectAll();
          await sim.sleep(2000);
          expect(cfg.leader().found).toBe(true);
        },
      ),
    );
  });
});
