/**
 * Chunked InstallSnapshot end to end: RaftNodes bring a follower that missed a compacted log
 * up to date through a snapshot many chunks long, first on SimNetwork in virtual time (every
 * message msgpack-encoded and shape-checked as on the wire), then over WebSocket with a frame
 * limit a quarter of the snapshot's size, which only chunking gets the snapshot through.
 */
import {
  decode,
  encode,
  RpcServer,
  realClock,
  type Sim,
  silentLogger,
  simulate,
  systemRandom,
  WsClient,
  WsServer,
} from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApplyMsg,
  MemoryPersister,
  type RaftClientEnd,
  RaftNode,
  type RaftNodeOptions,
} from '../src/index.js';

/** A service whose state is the list of commands it applied; it snapshots every `every`. */
class ListService {
  commands: unknown[] = [];
  snapshots = 0;
  installed = 0;
  node: RaftNode | undefined;

  constructor(readonly every: number) {}

  readonly onApply = (msg: ApplyMsg): void => {
    if (msg.type === 'snapshot') {
      this.commands = decode(msg.snapshot) as unknown[];
      this.installed++;
      return;
    }
    if (msg.type === 'command') this.commands.push(msg.command);
    if (msg.index % this.every === 0 && this.node !== undefined) {
      this.node.snapshot(msg.index, encode(this.commands));
      this.snapshots++;
    }
  };
}

const command = (k: number) => `${String(k).padStart(4, '0')}-${'x'.repeat(95)}`;

describe('InstallSnapshot in chunks through RaftNodes', () => {
  it('on SimNetwork (virtual time): a follower cut off while the others compacted catches up through a snapshot of dozens of chunks', async () => {
    await simulate(
      async (sim: Sim) => {
        const n = 3;
        const services = Array.from({ length: n }, () => new ListService(40));
        const persisters = Array.from({ length: n }, () => new MemoryPersister());
        const nodes: RaftNode[] = [];
        for (let i = 0; i < n; i++) {
          const peers = Array.from({ length: n }, (_, j) => {
            const end = sim.net.makeEnd(`${i}->${j}`);
            sim.net.connect(`${i}->${j}`, String(j));
            sim.net.enable(`${i}->${j}`, true);
            return end;
          });
          const node = await RaftNode.create({
            me: i,
            peers,
            persister: persisters[i] as MemoryPersister,
            clock: sim.clock,
            random: sim.random.fork(),
            snapshotChunkBytes: 256,
            onApply: (services[i] as ListService).onApply,
          });
          (services[i] as ListService).node = node;
          sim.net.addServer(
            String(i),
            new RpcServer({ logger: silentLogger }).addService('Raft', node.service),
          );
          nodes.push(node);
        }
        await sim.sleep(2000);
        const leader = nodes.find((node) => node.getState().isLeader) as RaftNode;
        const lagging = (leader.me + 1) % n;
        const links = (on: boolean) => {
          for (let j = 0; j < n; j++) {
            if (j === lagging) continue;
            sim.net.enable(`${lagging}->${j}`, on);
            sim.net.enable(`${j}->${lagging}`, on);
          }
        };
        links(false);
        for (let k = 0; k < 200; k++) leader.start(command(k));
        await sim.sleep(2000);
        const service = services[leader.me] as ListService;
        expect(service.commands).toHaveLength(200);
        expect(service.snapshots).toBeGreaterThan(0);
        expect(persisters[leader.me]?.snapshotSize()).toBeGreaterThan(50 * 256);
        links(true);
        await sim.sleep(3000);
        expect(leader.getState().isLeader).toBe(true);
        const caughtUp = services[lagging] as ListService;
        expect(caughtUp.installed).toBe(1);
        expect(caughtUp.commands).toEqual(service.commands);
      },
      { seed: 7 },
    );
  });
});

describe('InstallSnapshot in chunks over WebSocket', () => {
  const FRAME = 4096;
  const TOKEN = 'snapshot-chunks-token';
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('a snapshot 4× the frame limit reaches a follower that joins late, in chunks under the limit', async () => {
    const n = 3;
    const rpcServers = Array.from({ length: n }, () => new RpcServer({ logger: silentLogger }));
    const servers: WsServer[] = [];
    for (const rpcServer of rpcServers) {
      const server = await WsServer.listen({
        rpcServer,
        host: '127.0.0.1',
        port: 0,
        authToken: TOKEN,
        maxFrameBytes: FRAME,
        logger: silentLogger,
      });
      servers.push(server);
      cleanups.push(() => server.close());
    }
    const services = Array.from({ length: n }, () => new ListService(40));
    const persisters = Array.from({ length: n }, () => new MemoryPersister());
    const nodes: Array<RaftNode | undefined> = [];
    const self: RaftClientEnd = { call: async () => ({ ok: false }) };
    const start = async (i: number): Promise<RaftNode> => {
      const clients = servers.map((server, j) =>
        j === i
          ? undefined
          : new WsClient({
              url: server.url,
              authToken: TOKEN,
              maxFrameBytes: FRAME,
              callTimeoutMs: 500,
              reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
              logger: silentLogger,
            }),
      );
      const options: RaftNodeOptions = {
        me: i,
        peers: clients.map((client) => client ?? self),
        persister: persisters[i] as MemoryPersister,
        clock: realClock,
        random: systemRandom,
        tickMs: 20,
        // Every AppendEntries and every chunk must fit in a frame.
        maxEntriesPerAppend: 8,
        snapshotChunkBytes: 1024,
        onApply: (services[i] as ListService).onApply,
      };
      const node = await RaftNode.create(options);
      (services[i] as ListService).node = node;
      (rpcServers[i] as RpcServer).addService('Raft', node.service);
      nodes[i] = node;
      cleanups.push(async () => {
        await node.close();
        await Promise.all(clients.map((client) => client?.close()));
      });
      return node;
    };
    await start(0);
    await start(1);
    const leader = await waitFor('a leader', () => nodes.find((node) => node?.getState().isLeader));
    for (let k = 0; k < 250; k++) leader.start(command(k));
    const service = services[leader.me] as ListService;
    await waitFor('250 commands applied', () =>
      service.commands.length === 250 ? true : undefined,
    );
    expect((persisters[leader.me] as MemoryPersister).snapshotSize()).toBeGreaterThan(4 * FRAME);

    await start(2);
    const late = services[2] as ListService;
    await waitFor('the late follower caught up', () =>
      late.commands.length === 250 ? true : undefined,
    );
    expect(late.installed).toBe(1);
    expect(late.commands).toEqual(service.commands);
  }, 20_000);
});

async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
