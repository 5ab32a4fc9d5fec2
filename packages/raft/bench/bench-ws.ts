/**
 * Setup 2 of raft-bench.ts: three Raft servers, each in its own process (bench-node.ts), over
 * WebSocket on 127.0.0.1, each with a FilePersister in a fresh temp directory (one fdatasync
 * per Ready). This process finds the leader and drives the closed loops through one WsClient
 * to it (`Bench.propose`, which resolves once the leader has applied the entry), and reads
 * each server's CPU time and counters over IPC around the measured window.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAll, track, waitExit } from '@flotilla/devkit/proc/child';
import { poll, within } from '@flotilla/devkit/time/within';
import { silentLogger, WsClient } from '@flotilla/transport';
import {
  type Counters,
  closedLoop,
  diffCounters,
  type LoopResult,
  makeCommand,
  type ProposeOutcome,
  type RaftKnobs,
  type Warmup,
} from './bench-common.js';
import type { ChildMessage, ParentMessage, StatusReply } from './bench-node.js';

export interface WsLevelResult extends LoopResult {
  readonly concurrency: number;
  /** CPU of the three server processes together, % of one core (the machine has 200%). */
  readonly serverCpuPct: number;
  readonly perServerCpuPct: readonly number[];
  /** CPU of this (load-generating) process, % of one core. */
  readonly clientCpuPct: number;
  /** Server CPU time (all three) divided by the commits. */
  readonly cpuUsPerCommit: number;
  readonly leader: number;
  /** What each server did in the measured window (index = server id). */
  readonly counters: readonly Counters[];
}

const N = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = path.resolve(here, '..');
const nodeFile = path.join(here, 'bench-node.ts');
const CALL_TIMEOUT_MS = 5000;
const IPC_TIMEOUT_MS = 10_000;

// Everything alive, so that an exit on any path (error, signal, watchdog) can clean up: the
// children are tracked (devkit's track), the temp dirs here.
const liveDirs = new Set<string>();

/** Synchronous last-resort cleanup for process 'exit': SIGKILL children, delete temp dirs. */
export function cleanupWsSync(): void {
  killAll();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

interface Sample {
  readonly micros: number;
  readonly counters: Counters;
}

class Server {
  readonly child: ChildProcess;
  readonly #replies = new Map<number, (message: ChildMessage) => void>();
  #seq = 0;
  #port: ((port: number) => void) | undefined;
  #connected: (() => void) | undefined;
  /** Rejects if the child fails or exits before it is told to stop. */
  readonly failed: Promise<never>;
  stopping = false;

  constructor(child: ChildProcess, i: number) {
    this.child = child;
    let fail: (err: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failed.catch(() => {});
    child.on('message', (raw) => {
      const message = raw as ChildMessage;
      if (message.type === 'listening') this.#port?.(message.port);
      else if (message.type === 'connected') this.#connected?.();
      else if (message.type === 'sample' || message.type === 'ack') {
        this.#replies.get(message.seq)?.(message);
        this.#replies.delete(message.seq);
      } else if (message.type === 'error') fail(new Error(`server ${i}: ${message.message}`));
    });
    child.once('exit', (code, signal) => {
      if (!this.stopping) fail(new Error(`server ${i} exited (${code ?? signal})`));
    });
    child.once('error', (err) => fail(err));
  }

  port(): Promise<number> {
    return new Promise((resolve) => {
      this.#port = resolve;
    });
  }

  connected(): Promise<void> {
    return new Promise((resolve) => {
      this.#connected = resolve;
    });
  }

  send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Sends a request and waits for the reply carrying its seq. */
  #request(make: (seq: number) => ParentMessage): Promise<ChildMessage> {
    const seq = ++this.#seq;
    return within(
      new Promise<ChildMessage>((resolve) => {
        this.#replies.set(seq, resolve);
        this.send(make(seq));
      }),
      IPC_TIMEOUT_MS,
      `server's answer to ${make(seq).type}`,
    );
  }

  /** The server's CPU time so far (user + system, µs) and its counters. */
  async sample(): Promise<Sample> {
    const reply = await this.#request((seq) => ({ type: 'sample', seq }));
    if (reply.type !== 'sample') throw new Error(`unexpected reply ${reply.type}`);
    return { micros: reply.micros, counters: reply.counters };
  }

  async profileStart(): Promise<void> {
    await this.#request((seq) => ({ type: 'profile-start', seq }));
  }

  async profileStop(file: string, meta: Record<string, unknown>): Promise<void> {
    await this.#request((seq) => ({ type: 'profile-stop', seq, file, meta }));
  }

  /** Asks the child to stop; SIGKILLs it if it has not exited within `ms`. */
  stop(ms: number): Promise<void> {
    this.stopping = true;
    const exited = waitExit(this.child, ms);
    this.send({ type: 'stop' });
    return exited;
  }
}

/** Races `work` against any server failing. */
function guarded<T>(servers: readonly Server[], work: Promise<T>): Promise<T> {
  return Promise.race([work, ...servers.map((s) => s.failed)]);
}

/**
 * `profileDir`: CPU-profile every server over each measured window (not startup or warmup),
 * into `<profileDir>/<profileTag>-c<C>-server-<i>.cpuprofile` (+ `.meta.json`).
 */
export async function runWs(
  levels: readonly number[],
  warmup: Warmup,
  measureMs: number,
  knobs: RaftKnobs,
  profileDir: string | undefined,
  profileTag = 'ws',
): Promise<WsLevelResult[]> {
  const base = await mkdtemp(path.join(tmpdir(), 'flotilla-raft-bench-'));
  liveDirs.add(base);
  const authToken = randomBytes(24).toString('base64url');
  const servers: Server[] = [];
  const clients: WsClient[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const child = fork(nodeFile, [], {
        cwd: packageDir,
        execArgv: ['--import', import.meta.resolve('tsx')],
        env: {
          ...process.env,
          BENCH_ME: String(i),
          BENCH_N: String(N),
          BENCH_DIR: path.join(base, `server-${i}`),
          BENCH_AUTH_TOKEN: authToken,
          BENCH_KNOBS: JSON.stringify(knobs),
        },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      track(child);
      servers.push(new Server(child, i));
    }
    const ports = await guarded(
      servers,
      within(Promise.all(servers.map((s) => s.port())), 60_000, 'the servers to listen'),
    );
    const urls = ports.map((port) => `ws://127.0.0.1:${port}`);
    const connected = Promise.all(servers.map((s) => s.connected()));
    for (const s of servers) s.send({ type: 'peers', urls });
    await guarded(servers, within(connected, 20_000, 'the servers to connect'));

    for (const url of urls) {
      clients.push(new WsClient({ url, authToken, logger: silentLogger, reconnect: false }));
    }
    await guarded(servers, Promise.all(clients.map((c) => c.ready())));

    const findLeader = (): Promise<number> =>
      guarded(
        servers,
        poll(
          'a leader in the WebSocket cluster',
          async () => {
            const states = await Promise.all(
              clients.map((c) => c.call<StatusReply>('Bench.status', null, { timeoutMs: 1000 })),
            );
            const leaders = states.flatMap((s) => (s.ok && s.reply.isLeader ? [s.reply] : []));
            const newest = leaders.sort((a, b) => b.term - a.term)[0];
            return newest?.me;
          },
          { timeoutMs: 20_000, everyMs: 20 },
        ),
      );
    let leader = await findLeader();
    let rediscovery: Promise<void> | undefined;

    const results: WsLevelResult[] = [];
    for (const c of levels) {
      let before: Sample[] = [];
      let after: Sample[] = [];
      let client0 = process.cpuUsage();
      let client = client0;
      const loop = await guarded(
        servers,
        closedLoop({
          concurrency: c,
          warmup,
          measureMs,
          propose: async (id, seq) => {
            const result = await (clients[leader] as WsClient).call<ProposeOutcome>(
              'Bench.propose',
              makeCommand(id, seq),
              { timeoutMs: CALL_TIMEOUT_MS },
            );
            if (result.ok && result.reply.ok) return true;
            rediscovery ??= findLeader()
              .then((l) => {
                leader = l;
              })
              .finally(() => {
                rediscovery = undefined;
              });
            await rediscovery;
            return false;
          },
          beforeMeasure: async () => {
            if (profileDir !== undefined) await Promise.all(servers.map((s) => s.profileStart()));
            before = await Promise.all(servers.map((s) => s.sample()));
            client0 = process.cpuUsage();
          },
          afterMeasure: async (window) => {
            client = process.cpuUsage(client0);
            after = await Promise.all(servers.map((s) => s.sample()));
            if (profileDir !== undefined) {
              await Promise.all(
                servers.map((s, i) =>
                  s.profileStop(path.join(profileDir, `${profileTag}-c${c}-server-${i}`), {
                    ...window,
                    setup: 'ws',
                    concurrency: c,
                    server: i,
                  }),
                ),
              );
            }
          },
        }),
      );
      const pct = (micros: number): number => (micros / 1e6 / loop.seconds) * 100;
      const perServer = after.map((a, i) => pct(a.micros - (before[i] as Sample).micros));
      const serverCpuPct = perServer.reduce((a, b) => a + b, 0);
      results.push({
        ...loop,
        concurrency: c,
        serverCpuPct,
        perServerCpuPct: perServer,
        clientCpuPct: pct(client.user + client.system),
        cpuUsPerCommit:
          loop.commits > 0 ? (serverCpuPct / 100 / loop.commitsPerSecond) * 1e6 : Number.NaN,
        leader,
        counters: after.map((a, i) => diffCounters((before[i] as Sample).counters, a.counters)),
      });
    }
    return results;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(servers.map((s) => s.stop(5000)));
    await rm(base, { recursive: true, force: true });
    liveDirs.delete(base);
  }
}
