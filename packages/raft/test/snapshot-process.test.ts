/**
 * Chunked InstallSnapshot between processes: three Raft servers, each a process of its own
 * (test/fixtures/snapshot-node.ts) with a FilePersister, talking over WebSocket with a frame
 * limit far below the size of their snapshot. A follower is SIGKILLed, the others go on and
 * compact their logs past everything it holds, and the follower is restarted on its own data
 * dir: the only way back is the leader's snapshot, which crosses the wire in chunks under the
 * frame limit. The check: "a snapshot 4× the frame limit over WebSocket between
 * processes" (snapshot-transfer-cluster.test.ts does the same inside one process).
 *
 * Real time, bounded: every wait polls with a deadline, and every child is SIGKILLed by pid in
 * afterEach. About 5–10 s on an idle 2-core machine, most of it spent starting processes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Proc, Procs, waitForOutput } from '@flotilla/devkit/proc/procs';
import { poll, within } from '@flotilla/devkit/time/within';
import { silentLogger, WsClient } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/snapshot-node.ts', import.meta.url));

/** The WebSocket frame limit of every server and peer client. */
const FRAME = 64 * 1024;
/** snapshotChunkBytes: a quarter of a frame, so a chunk's RPC fits with room to spare. */
const CHUNK = 16 * 1024;
/** Each command carries this much; the snapshot is the msgpack of every command applied. */
const PAYLOAD = 4 * 1024;
/** The service snapshots at every index divisible by this. */
const EVERY = 16;
/** Commands written while all three run: past one snapshot, so the follower restores one too. */
const BEFORE_KILL = 24;
/** Commands in all, once the follower is down: a snapshot of ~TOTAL × PAYLOAD ≈ 7.5 × FRAME. */
const TOTAL = 120;
const TOKEN = randomBytes(16).toString('hex');

interface SnapshotRecord {
  readonly index: number;
  readonly bytes: number;
}

/** What Ctl.status answers (test/fixtures/snapshot-node.ts). */
interface NodeStatus {
  readonly me: number;
  readonly role: string;
  readonly term: number;
  readonly leaderId: number | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly commands: number;
  readonly digest: string;
  readonly taken: number;
  readonly lastTaken: SnapshotRecord | null;
  readonly persistedSnapshotIndex: number;
  readonly persistedSnapshotBytes: number;
  readonly restored: SnapshotRecord | null;
  readonly installed: readonly SnapshotRecord[];
  readonly refusals: readonly string[];
}

interface ProposeReply {
  readonly isLeader: boolean;
  readonly term: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

/** One server process and the test's control client to it. */
class NodeProc {
  constructor(
    readonly id: number,
    readonly proc: Proc,
    readonly url: string,
    readonly control: WsClient,
  ) {}

  /** Calls Ctl.<method>; a call that gets no reply fails the test, with the child's stderr. */
  async ctl<R>(method: string, args: unknown = {}): Promise<R> {
    const result = await this.control.call<R>(`Ctl.${method}`, args, { timeoutMs: 5000 });
    if (!result.ok) {
      throw new Error(
        `node ${this.id} (pid ${this.proc.pid}): Ctl.${method} got ${result.code} ` +
          `${result.message ?? ''}\nstderr:\n${this.proc.stderr}`,
      );
    }
    return result.reply;
  }

  status(): Promise<NodeStatus> {
    return this.ctl<NodeStatus>('status');
  }
}

const procs = new Procs();
const controls: WsClient[] = [];
let baseDir: string | undefined;

afterEach(async () => {
  try {
    await within(
      Promise.all(controls.splice(0).map((client) => client.close())),
      5000,
      'the control clients to close',
    ).catch((err: unknown) => console.error(err));
  } finally {
    await procs.killAll();
    if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true });
    baseDir = undefined;
  }
});

/** Starts server `id` on `dataDir` and waits until it listens (the node is not created yet). */
async function launch(id: number, dataDir: string): Promise<NodeProc> {
  const proc = procs.spawn(
    `node ${id}`,
    process.execPath,
    [
      '--import',
      'tsx',
      FIXTURE,
      ...['--id', String(id), '--data-dir', dataDir],
      ...['--frame-bytes', String(FRAME), '--chunk-bytes', String(CHUNK)],
      ...['--snapshot-every', String(EVERY), '--payload-bytes', String(PAYLOAD)],
    ],
    // cwd: the package, so tsx finds its tsconfig (@flotilla/transport → its src).
    { cwd: PACKAGE_DIR, env: { ...process.env, SNAPSHOT_NODE_TOKEN: TOKEN }, limitMs: 60_000 },
  );
  const url = await waitForOutput(proc, (out) => /^listening (ws:\/\/\S+)$/m.exec(out)?.[1], {
    what: '"listening <url>"',
    timeoutMs: 20_000,
  });
  const control = new WsClient({
    url,
    authToken: TOKEN,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    logger: silentLogger,
  });
  controls.push(control);
  return new NodeProc(id, proc, url, control);
}

/** The leader among `nodes` (the highest term's, should an old one not know yet), if any. */
async function findLeader(
  nodes: readonly NodeProc[],
): Promise<{ node: NodeProc; status: NodeStatus } | undefined> {
  const statuses = await Promise.all(nodes.map((node) => node.status()));
  let leader: { node: NodeProc; status: NodeStatus } | undefined;
  statuses.forEach((status, i) => {
    if (status.role === 'leader' && (leader === undefined || status.term > leader.status.term)) {
      leader = { node: nodes[i] as NodeProc, status };
    }
  });
  return leader;
}

/**
 * Proposes on the leader until it has applied `total` commands. Should the leadership move
 * mid-way (a loaded machine can miss an election timeout), commands of the old term may be
 * lost: the count on the new leader says how many more to propose.
 */
async function writeUntil(nodes: readonly NodeProc[], total: number): Promise<NodeStatus> {
  return poll(
    `a leader that applied ${total} commands`,
    async () => {
      const leader = await findLeader(nodes);
      if (leader === undefined) return undefined;
      if (leader.status.commands >= total) return leader.status;
      const sent = await leader.node.ctl<ProposeReply>('propose', {
        count: total - leader.status.commands,
      });
      if (!sent.isLeader) return undefined;
      await poll(
        `node ${leader.node.id} to apply through ${sent.lastIndex} or lose its office`,
        async () => {
          const s = await leader.node.status();
          return s.lastApplied >= sent.lastIndex || s.role !== 'leader' || s.term !== sent.term
            ? true
            : undefined;
        },
        { timeoutMs: 10_000, everyMs: 20 },
      );
      return undefined;
    },
    { timeoutMs: 20_000, everyMs: 20 },
  );
}

/**
 * Waits until every node has applied all the leader committed and holds the same state. On a
 * timeout the error carries what each node last said (a refused chunk shows up there).
 */
async function inSync(nodes: readonly NodeProc[], what: string): Promise<NodeStatus[]> {
  let last: NodeStatus[] = [];
  try {
    return await poll(
      what,
      async () => {
        last = await Promise.all(nodes.map((node) => node.status()));
        const leader = last.find((s) => s.role === 'leader');
        if (leader === undefined) return undefined;
        const same = last.every(
          (s) => s.lastApplied === leader.commitIndex && s.digest === leader.digest,
        );
        return same ? last : undefined;
      },
      { timeoutMs: 15_000, everyMs: 20 },
    );
  } catch (err) {
    const seen = last.map(({ me, role, term, commitIndex, lastApplied, installed, refusals }) => ({
      me,
      role,
      term,
      commitIndex,
      lastApplied,
      installed,
      refusals,
    }));
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(seen)}`);
  }
}

describe('chunked InstallSnapshot between processes over WebSocket', () => {
  it('a restarted follower installs a snapshot 4× the frame limit, sent in chunks under the limit, and ends with the leader’s state', async () => {
    const t0 = performance.now();
    const lap = (): string => `${Math.round(performance.now() - t0)} ms`;
    const laps: string[] = [];
    baseDir = await mkdtemp(join(tmpdir(), 'raft-snapshot-process-'));
    const dirs = [0, 1, 2].map((id) => join(baseDir as string, `node-${id}`));

    // Three servers; each learns the others' urls once all listen.
    const nodes = await Promise.all(dirs.map((dir, id) => launch(id, dir)));
    const urls = nodes.map((node) => node.url);
    await Promise.all(nodes.map((node) => node.ctl('start', { peers: urls })));
    laps.push(`3 processes up ${lap()}`);

    await writeUntil(nodes, BEFORE_KILL);
    const before = await inSync(nodes, 'all three in step before the kill');
    const leaderBefore = before.find((s) => s.role === 'leader') as NodeStatus;
    laps.push(`${BEFORE_KILL} commands on all three ${lap()}`);

    // Stop a follower. In step, its log ends at the leader's commit index: that is all it has.
    const victimId = (leaderBefore.me + 1) % 3;
    const victim = nodes[victimId] as NodeProc;
    const victimHas = leaderBefore.commitIndex;
    await procs.stop(victim.proc, 'SIGKILL');
    await victim.control.close();
    const survivors = nodes.filter((node) => node !== victim);

    await writeUntil(survivors, TOTAL);
    await inSync(survivors, 'both survivors in step');
    // Both compacted past the victim's last entry (its log cannot be extended, only replaced)
    // and saved their latest snapshot: waited for, since the save lags the apply that took it.
    const compacted = await poll(
      'both survivors to persist the last snapshot they took',
      async () => {
        const statuses = await Promise.all(survivors.map((node) => node.status()));
        const saved = statuses.every((s) => s.persistedSnapshotIndex === s.lastTaken?.index);
        return saved ? statuses : undefined;
      },
      { timeoutMs: 10_000, everyMs: 20 },
    );
    laps.push(`${TOTAL} commands on the two survivors ${lap()}`);
    for (const s of compacted) {
      expect(s.lastTaken?.index ?? 0, `node ${s.me}'s snapshot index`).toBeGreaterThan(victimHas);
      expect(s.persistedSnapshotBytes, `node ${s.me}'s snapshot bytes`).toBeGreaterThan(4 * FRAME);
    }

    // Restart the victim on its data dir, on a new port the survivors are pointed at.
    const restarted = await launch(victimId, dirs[victimId] as string);
    const cluster = [...survivors, restarted];
    await restarted.ctl('start', { peers: nodes.map((n) => (n === victim ? restarted : n).url) });
    await Promise.all(
      survivors.map((node) => node.ctl('peer', { id: victimId, url: restarted.url })),
    );
    const after = await inSync(cluster, 'the restarted follower caught up');
    laps.push(`restarted follower caught up ${lap()}`);

    const caughtUp = after.find((s) => s.me === victimId) as NodeStatus;
    const leader = after.find((s) => s.role === 'leader') as NodeStatus;
    // It came back with its own snapshot (from before the kill), then took the leader's.
    expect(caughtUp.restored?.index ?? 0).toBeLessThanOrEqual(victimHas);
    expect(caughtUp.installed.length).toBeGreaterThanOrEqual(1);
    const install = caughtUp.installed.at(-1) as SnapshotRecord;
    expect(install.index).toBeGreaterThan(victimHas);
    expect(install.bytes).toBeGreaterThan(4 * FRAME);
    expect(caughtUp.digest).toBe(leader.digest);
    expect(caughtUp.commands).toBe(leader.commands);
    expect(caughtUp.commands).toBeGreaterThanOrEqual(TOTAL);
    // No RPC was refused for its size: every AppendEntries and every chunk fit in a frame.
    for (const s of after) {
      expect(
        s.refusals.filter((cause) => /frame|too large/i.test(cause)),
        `node ${s.me}'s refused calls`,
      ).toEqual([]);
    }

    // A clean stop of all three (FilePersisters closed, locks released).
    await Promise.all(cluster.map((node) => node.ctl('exit')));
    const exits = await within(
      Promise.all(cluster.map((node) => node.proc.exited)),
      10_000,
      'the servers to exit',
    );
    expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);

    console.info(
      `snapshot installed on node ${victimId}: ${install.bytes} bytes at index ${install.index} ` +
        `(${(install.bytes / FRAME).toFixed(1)}× the ${FRAME}-byte frame limit, ` +
        `${Math.ceil(install.bytes / CHUNK)} chunks of ≤ ${CHUNK}); restored first: ` +
        `${JSON.stringify(caughtUp.restored)}; victim had ${victimHas}; ${laps.join('; ')}`,
    );
  }, 60_000);
});
