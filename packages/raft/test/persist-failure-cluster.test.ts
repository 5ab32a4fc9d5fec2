/**
 * Issue 17, "a node that cannot persist stops serving rather than acknowledging", end to end:
 * three RaftNodes with FilePersisters in a temp dir, on a reliable SimNetwork driven by the
 * real clock (a FilePersister's I/O is real, so virtual time would race past it). The
 * leader's WAL fsync fails; it must stop with the persister's error and apply nothing more,
 * while the other two elect a leader, keep committing and hold every entry acknowledged
 * before the failure.
 *
 * The network's and the nodes' random draws come from the seed (`FLOTILLA_SEED` replays
 * them); the timing is real, so a replay is close, not exact. Every wait is bounded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { RpcServer, realClock, SeededRandom, SimNetwork, seedFor } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeKilledError, PersisterFailedError, PersisterIoError } from '../src/errors.js';
import { type ApplyMsg, FilePersister, RaftNode } from '../src/index.js';
import { WAL_FILE } from '../src/persister/file-wal.js';
import { FaultyIo } from './support/faulty-io.js';
import { recordingLogger } from './support/node-fixtures.js';

const N = 3;
/** Short ticks keep elections (100–200 ms) and the test fast on the real clock. */
const TICK_MS = 10;
const WAIT_MS = 5000;

interface Member {
  readonly id: number;
  readonly faults: FaultyIo;
  readonly persister: FilePersister;
  readonly node: RaftNode;
  /** Applied messages by index. */
  readonly applied: Map<number, ApplyMsg>;
  /** What onFatal got. */
  readonly fatal: unknown[];
  readonly logger: ReturnType<typeof recordingLogger>;
}

let root: string | undefined;
let net: SimNetwork | undefined;
let members: Member[] = [];

afterEach(async () => {
  await Promise.all(members.map((m) => m.node.close()));
  await Promise.all(members.map((m) => m.persister.close().catch(() => {})));
  net?.cleanup();
  net = undefined;
  members = [];
  if (root !== undefined) await rm(root, { recursive: true, force: true });
  root = undefined;
});

async function startCluster(random: SeededRandom): Promise<void> {
  root = await mkdtemp(join(tmpdir(), 'flotilla-persist-failure-'));
  const network = new SimNetwork({ clock: realClock, random: random.fork() });
  net = network;
  for (let id = 0; id < N; id++) {
    const peers = Array.from({ length: N }, (_, j) => {
      const name = `${id}->${j}`;
      const end = network.makeEnd(name);
      network.connect(name, String(j));
      network.enable(name, true);
      return end;
    });
    const faults = new FaultyIo();
    const logger = recordingLogger();
    const persister = await FilePersister.open(join(root, String(id)), { io: faults.io, logger });
    const applied = new Map<number, ApplyMsg>();
    const fatal: unknown[] = [];
    const node = await RaftNode.create({
      me: id,
      peers,
      persister,
      clock: realClock,
      random: random.fork(),
      tickMs: TICK_MS,
      // Commands are counted by index below: a leader's no-op would shift them.
      noopOnElection: false,
      logger,
      onFatal: (err) => fatal.push(err),
      onApply: (msg) => {
        if (applied.has(msg.index)) throw new Error(`node ${id}: index ${msg.index} applied twice`);
        applied.set(msg.index, msg);
      },
    });
    network.addServer(String(id), new RpcServer({ logger }).addService('Raft', node.service));
    members.push({ id, faults, persister, node, applied, fatal, logger });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined): Promise<T> {
  const deadline = performance.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${WAIT_MS} ms: ${what}`);
    await sleep(5);
  }
}

/** The leader of `among`, once every one of them follows it in its term. */
function settledLeader(among: readonly Member[]): Member | undefined {
  const leaders = among.filter((m) => m.node.getState().isLeader);
  if (leaders.length !== 1) return undefined;
  const leader = leaders[0] as Member;
  const { term } = leader.node.getState();
  const settled = among.every(
    (m) => m.node.getState().term === term && m.node.leaderId === leader.id,
  );
  return settled ? leader : undefined;
}

/** Proposes `command` until the leader of `among` applies it at the index and term it got. */
async function commit(among: readonly Member[], command: unknown): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const leader = await waitFor('a leader', () => settledLeader(among));
    const { index, term, isLeader } = leader.node.start(command);
    if (!isLeader) continue;
    const msg = await waitFor(`index ${index} applied`, () => leader.applied.get(index));
    if (msg.term === term) return index;
  }
  throw new Error(`could not commit ${JSON.stringify(command)}`);
}

type Triple = [index: number, term: number, command: unknown];

function log(member: Member): Triple[] {
  return [...member.applied.values()]
    .sort((a, b) => a.index - b.index)
    .map((msg) => [msg.index, msg.term, msg.type === 'command' ? msg.command : msg.type]);
}

/** Every one of `among` has applied the same log, through at least `index`. */
function converged(among: readonly Member[], index: number): Promise<Triple[]> {
  return waitFor(`${among.map((m) => m.id)} applied the same log through ${index}`, () => {
    const logs = among.map(log);
    const first = logs[0] as Triple[];
    if (first.length < index) return undefined;
    return logs.every((l) => JSON.stringify(l) === JSON.stringify(first)) ? first : undefined;
  });
}

/** A valid AppendEntries from `leaderId`: a live node would answer it. */
const heartbeat = (leaderId: number, term: number) => ({
  term,
  leaderId,
  prevLogIndex: 0,
  prevLogTerm: 0,
  entries: [],
  leaderCommit: 0,
});

const NAME =
  'a leader whose WAL fsync fails stops; the others elect a leader and keep every acknowledged entry';

describe('a cluster whose leader cannot persist (issue 17)', () => {
  it(NAME, async () => {
    const seed = seedFor(NAME);
    try {
      await leaderFsyncFails(new SeededRandom(seed));
    } catch (err) {
      if (err instanceof Error) {
        err.message += `\n  [seed ${seed}; FLOTILLA_SEED=${seed} replays the random draws]`;
      }
      throw err;
    }
  }, 30_000);
});

async function leaderFsyncFails(random: SeededRandom): Promise<void> {
  await startCluster(random);

  // Acknowledged: committed and applied by all three before anything fails.
  for (let n = 0; n < 20; n++) await commit(members, { phase: 'before', n });
  const acknowledged = await converged(members, 20);
  const old = await waitFor('a settled leader', () => settledLeader(members));
  const oldTerm = old.node.getState().term;
  const survivors = members.filter((m) => m !== old);

  // From now on every fsync of the leader's WAL fails, as a dying disk's would.
  const walPath = join(old.persister.dir, WAL_FILE);
  expect(basename(walPath)).toBe(WAL_FILE);
  old.faults.inject({ op: 'datasync', path: walPath, code: 'EIO' });
  const doomed = old.node.start({ phase: 'doomed' });
  expect(doomed.isLeader).toBe(true);

  // The old leader stops on its own, with the persister's error.
  const fatal = await waitFor('onFatal on the old leader', () => old.fatal[0]);
  expect(old.fatal).toHaveLength(1);
  expect(fatal).toBeInstanceOf(PersisterFailedError);
  const cause = (fatal as PersisterFailedError).cause;
  expect(cause).toBeInstanceOf(PersisterIoError);
  expect(cause).toMatchObject({ code: 'ERR_PERSISTER_IO', operation: 'fsync', path: walPath });
  expect(old.faults.fired[0]).toEqual({ op: 'datasync', path: walPath });
  expect(old.node.killed).toBe(true);
  expect(old.logger.lines).toContainEqual(
    expect.objectContaining({ level: 'warn', message: 'raft: persist failed; stopping node' }),
  );

  // It stops serving: it proposes nothing and refuses reads and RPCs.
  expect(old.node.start({ phase: 'after-fatal' }).isLeader).toBe(false);
  await expect(old.node.readIndex()).rejects.toBeInstanceOf(NodeKilledError);
  await expect(
    old.node.service.AppendEntries(heartbeat((old.id + 1) % N, oldTerm + 1)),
  ).rejects.toBeInstanceOf(NodeKilledError);

  // The other two elect a leader of a later term and keep committing, with the old leader
  // still on the network (answering nothing but errors).
  const next = await waitFor('a new leader', () => settledLeader(survivors));
  expect(next.id).not.toBe(old.id);
  expect(next.node.getState().term).toBeGreaterThan(oldTerm);
  for (let n = 0; n < 10; n++) await commit(survivors, { phase: 'after', n });
  const after = await converged(survivors, acknowledged.length + 10);

  // Every acknowledged entry is on the survivors, at its index and term. The doomed entry
  // may or may not have committed (its AppendEntries left before the failed fsync): either
  // outcome is allowed, like any proposal whose leader died, but only at the index it got.
  expect(after.slice(0, acknowledged.length)).toEqual(acknowledged);
  const doomedThere = after.filter(([, , c]) => JSON.stringify(c) === '{"phase":"doomed"}');
  for (const [index, term] of doomedThere)
    expect([index, term]).toEqual([doomed.index, doomed.term]);
  for (const m of survivors) {
    const entries = m.persister.load()?.entries ?? [];
    expect(entries.slice(0, acknowledged.length).map((e) => e.command)).toEqual(
      acknowledged.map(([, , command]) => command),
    );
  }

  // The old leader applied nothing after the failure: not the doomed entry, nothing later.
  expect(log(old)).toEqual(acknowledged);
  expect(old.applied.has(doomed.index)).toBe(false);
  expect(old.fatal).toHaveLength(1);

  // Its persister refuses every later save, and its directory reopens with every acknowledged
  // entry: what it acknowledged was durable.
  await expect(old.persister.save({ hardState: { term: 99, votedFor: 0 } })).rejects.toMatchObject({
    code: 'ERR_PERSISTER_FAILED',
  });
  await old.persister.close();
  const reopened = await FilePersister.open(old.persister.dir, { logger: recordingLogger() });
  try {
    const entries = reopened.load()?.entries ?? [];
    expect(entries.slice(0, acknowledged.length).map((e) => e.command)).toEqual(
      acknowledged.map(([, , command]) => command),
    );
  } finally {
    await reopened.close();
  }
}
