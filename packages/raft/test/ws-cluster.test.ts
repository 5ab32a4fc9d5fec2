import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  RpcServer,
  realClock,
  silentLogger,
  systemRandom,
  WsClient,
  WsServer,
} from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApplyMsg, FilePersister, type RaftClientEnd, RaftNode } from '../src/index.js';

/**
 * A real cluster: three RaftNodes in this process, each behind its own WsServer on 127.0.0.1,
 * talking to each other through WsClients, with FilePersisters in a temp dir and real time.
 */

const N = 3;
const TOKEN = 'ws-cluster-test-token';

interface Member {
  readonly id: number;
  readonly server: WsServer;
  readonly clients: readonly (WsClient | undefined)[];
  readonly persister: FilePersister;
  readonly node: RaftNode;
  /** This incarnation's applied messages, by index. */
  readonly applied: Map<number, ApplyMsg>;
}

let root: string | undefined;
let urls: string[] = [];
const members: Array<Member | undefined> = [];

/** peers[me] is never called; a placeholder end. */
const self: RaftClientEnd = { call: async () => ({ ok: false }) };

async function listen(port: number): Promise<{ rpcServer: RpcServer; server: WsServer }> {
  const rpcServer = new RpcServer({ logger: silentLogger });
  const server = await WsServer.listen({
    rpcServer,
    host: '127.0.0.1',
    port,
    authToken: TOKEN,
    logger: silentLogger,
  });
  return { rpcServer, server };
}

/** Opens server `id`'s persister and starts its node behind an already listening server. */
async function startNode(id: number, rpcServer: RpcServer, server: WsServer): Promise<Member> {
  const clients = urls.map((url, j) =>
    j === id
      ? undefined
      : new WsClient({
          url,
          authToken: TOKEN,
          callTimeoutMs: 500,
          reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
          logger: silentLogger,
        }),
  );
  const persister = await FilePersister.open(join(root as string, String(id)));
  const applied = new Map<number, ApplyMsg>();
  const node = await RaftNode.create({
    me: id,
    peers: clients.map((client) => client ?? self),
    persister,
    clock: realClock,
    random: systemRandom,
    // The checks below count commands by index: a leader's no-op would shift them.
    noopOnElection: false,
    onApply: (msg) => {
      if (applied.has(msg.index)) throw new Error(`node ${id}: index ${msg.index} applied twice`);
      applied.set(msg.index, msg);
    },
  });
  rpcServer.addService('Raft', node.service);
  const member: Member = { id, server, clients, persister, node, applied };
  members[id] = member;
  return member;
}

/** Closes the member's server, kills its node and releases its clients and persister. */
async function stop(member: Member): Promise<void> {
  members[member.id] = undefined;
  await member.server.close();
  member.node.kill();
  await Promise.all(member.clients.map((client) => client?.close()));
  await member.persister.close();
}

const live = (): Member[] => members.filter((m): m is Member => m !== undefined);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}

/** The leader of the highest term among live members, once every live member follows it. */
function settledLeader(): Member | undefined {
  const alive = live();
  const leaders = alive.filter((m) => m.node.getState().isLeader);
  if (leaders.length !== 1) return undefined;
  const leader = leaders[0] as Member;
  const { term } = leader.node.getState();
  const settled = alive.every(
    (m) => m.node.getState().term === term && m.node.leaderId === leader.id,
  );
  return settled ? leader : undefined;
}

/**
 * Proposes `command` on the leader until it commits: resolves once the leader applied it at
 * the index and term it was proposed with; retries only if a different entry took that index.
 */
async function commit(command: unknown): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const leader = await waitFor('a leader', settledLeader, 5000);
    const { index, term, isLeader } = leader.node.start(command);
    if (!isLeader) continue;
    const msg = await waitFor(`index ${index} applied`, () => leader.applied.get(index), 5000);
    if (msg.term === term) return index;
  }
  throw new Error(`could not commit ${JSON.stringify(command)}`);
}

/** The member's applied log as [index, term, command] triples, in order. */
function log(member: Member): Array<[number, number, unknown]> {
  return [...member.applied.values()]
    .sort((a, b) => a.index - b.index)
    .map((msg) => [msg.index, msg.term, msg.type === 'command' ? msg.command : msg.type]);
}

/** Waits until every live member has applied the same log, through at least `index`. */
async function converged(
  index: number,
  timeoutMs = 5000,
): Promise<Array<[number, number, unknown]>> {
  return waitFor(
    `all live members applied the same log through ${index}`,
    () => {
      const logs = live().map(log);
      const first = logs[0] as Array<[number, number, unknown]>;
      if (first.length < index) return undefined;
      const same = logs.every((l) => JSON.stringify(l) === JSON.stringify(first));
      return same ? first : undefined;
    },
    timeoutMs,
  );
}

afterEach(async () => {
  await Promise.all(live().map(stop));
  members.length = 0;
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

describe('a Raft cluster over WebSocket with file persisters', () => {
  it('elects, replicates, survives losing its leader and catches a restarted node up', async () => {
    root = await mkdtemp(join(tmpdir(), 'flotilla-ws-cluster-'));
    const listening = await Promise.all(Array.from({ length: N }, () => listen(0)));
    urls = listening.map(({ server }) => server.url);
    await Promise.all(
      listening.map(({ rpcServer, server }, id) => startNode(id, rpcServer, server)),
    );

    // One leader, followed by everyone.
    const first = await waitFor('the first leader', settledLeader, 5000);
    expect(live().filter((m) => m.node.getState().isLeader)).toHaveLength(1);

    // 200 commands, replicated to all three, applied in the same order everywhere.
    const batch = Array.from({ length: 200 }, (_, i) => ({ phase: 'before', n: i }));
    await Promise.all(batch.map(commit));
    const before = await converged(200);
    expect(before.map(([index]) => index)).toEqual(before.map((_, i) => i + 1));
    const commands = before.map(([, , command]) => command);
    expect(commands).toHaveLength(200); // each committed exactly once…
    expect(new Set(commands.map((c) => JSON.stringify(c))).size).toBe(200);
    expect(commands).toEqual(expect.arrayContaining(batch)); // …and all of them
    for (const member of live()) expect(member.node.commitIndex).toBe(200);

    // The leader goes away: its server closes and its node dies.
    const killedId = first.id;
    const port = first.server.port;
    const killedAt = performance.now();
    await stop(first);
    const second = await waitFor('a new leader', settledLeader, 5000);
    expect(second.id).not.toBe(killedId);
    expect(second.node.getState().term).toBeGreaterThan(first.node.getState().term);
    expect(performance.now() - killedAt).toBeLessThan(5000);

    // The two survivors still make progress.
    for (let i = 0; i < 50; i++) await commit({ phase: 'after-kill', n: i });
    const afterKill = await converged(250);
    expect(afterKill.slice(0, 200)).toEqual(before); // committed entries survive the leader change

    // The killed node restarts from its directory on its old port and catches up.
    const relisten = await listen(port);
    const restarted = await startNode(killedId, relisten.rpcServer, relisten.server);
    const restored = restarted.persister.load();
    expect(restored?.entries.slice(0, 200).map((entry) => entry.command)).toEqual(commands);
    for (let i = 0; i < 20; i++) await commit({ phase: 'after-restart', n: i });
    const final = await converged(afterKill.length + 20);
    expect(log(restarted)).toEqual(final);
    expect(final.slice(0, afterKill.length)).toEqual(afterKill);
    expect(final.map(([index]) => index)).toEqual(final.map((_, i) => i + 1));
  }, 30_000);
});
