/**
 * Our side of kv-bench.ts: a fresh 3-replica kvraft cluster, each replica its own process
 * (`flotilla-kvraft serve`, the built bin: FilePersister in a temp dir, fsync on every save),
 * on free loopback ports. It follows each replica's JSON log lines on stderr for the leader
 * (the `raft state` events) and passes on anything logged above info; `WalCounter`s follow the
 * WALs for the entries per fsync.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuProfArgs } from '@flotilla/devkit/bench/profile';
import { freePorts } from '@flotilla/devkit/net/ports';
import { track, waitExit, waitForLine } from '@flotilla/devkit/proc/child';
import { poll } from '@flotilla/devkit/time/within';
import { WalCounter } from './wal-count.js';

const N = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
/** The bin, as `pnpm bench` builds it (`pnpm --filter @flotilla/kvraft... build`). */
export const CLI = path.resolve(here, '../dist/cli.js');

/** Why our side cannot run, or undefined. */
export function cliMissing(): string | undefined {
  return existsSync(CLI)
    ? undefined
    : `${CLI} is missing: build it with pnpm --filter @flotilla/kvraft... build (pnpm bench does)`;
}

// Temp dirs alive, for the synchronous cleanup on any exit path (children are devkit-tracked).
const liveDirs = new Set<string>();

/** Synchronous last-resort cleanup for process 'exit' (after killAll): deletes the temp dirs. */
export function cleanupKvSync(): void {
  for (const dir of liveDirs) {
    try {
      // A replica that got the same Ctrl-C may still be removing its lock: retry.
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    } catch (err) {
      process.stderr.write(`could not delete ${dir}: ${(err as Error).message}\n`);
    }
  }
  liveDirs.clear();
}

interface RaftStateLine {
  readonly term: number;
  readonly role: string;
}

class Replica {
  readonly id: number;
  readonly child: ChildProcess;
  readonly wal: WalCounter;
  /** The last `raft state` it logged. */
  state: RaftStateLine | undefined;
  stopping = false;
  /** Until the cluster is up, warnings wait here (peers refuse connections while starting). */
  early: string[] | undefined = [];
  /** Rejects if it exits before it is told to stop. */
  readonly failed: Promise<never>;

  constructor(id: number, child: ChildProcess, dataDir: string, log: (line: string) => void) {
    this.id = id;
    this.child = child;
    this.wal = new WalCounter(path.join(dataDir, 'raft.wal'));
    let fail: (err: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failed.catch(() => {});
    child.once('exit', (code, signal) => {
      if (!this.stopping) fail(new Error(`kvraft replica ${id} exited (${code ?? signal})`));
    });
    child.once('error', fail);
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#onLog(line, log);
    });
  }

  #onLog(line: string, log: (line: string) => void): void {
    if (line === '') return;
    let event: Record<string, unknown> | undefined;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      event = undefined;
    }
    if (event?.msg === 'raft state' && typeof event.term === 'number') {
      this.state = { term: event.term, role: String(event.role) };
      return;
    }
    if (event?.level === 'info' || this.stopping) return;
    const text = `  kvraft replica ${this.id}: ${line}`;
    if (this.early === undefined) log(text);
    else if (this.early.length < 50) this.early.push(text);
  }
}

export interface KvCluster {
  readonly urls: readonly string[];
  /** For the load process: the cluster's shared secret. */
  readonly env: NodeJS.ProcessEnv;
  readonly pids: readonly number[];
  /** The replica that says it leads (the highest term among those that do), if any. */
  leader(): number | undefined;
  /** The highest term any replica has logged (a new election shows here). */
  term(): number;
  /** Per replica: WAL records (fsyncs) and entries since the previous call. */
  walDeltas(): ReturnType<WalCounter['take']>[];
  /** Rejects when a replica dies on its own. */
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

/**
 * Starts the three replicas and waits for a leader. `profileDir`: each replica runs under
 * `--cpu-prof` (written when it stops) as `<profileDir>/<tag>-replica-<i>.cpuprofile`.
 */
export async function startKvCluster(options: {
  readonly log: (line: string) => void;
  readonly profileDir?: string;
  readonly tag: string;
}): Promise<KvCluster> {
  const base = await mkdtemp(path.join(tmpdir(), 'flotilla-kvraft-bench-'));
  liveDirs.add(base);
  const env = { ...process.env, FLOTILLA_AUTH_TOKEN: randomBytes(24).toString('base64url') };
  const urls = (await freePorts(N)).map((port) => `ws://127.0.0.1:${port}`);
  const replicas: Replica[] = [];
  const stop = async (): Promise<void> => {
    for (const r of replicas) r.stopping = true;
    // SIGTERM: `serve` closes cleanly (and writes its profile); SIGKILL past 10 s.
    await Promise.all(
      replicas.map((r) => {
        const exited = waitExit(r.child, 10_000);
        r.child.kill('SIGTERM');
        return exited;
      }),
    );
    await rm(base, { recursive: true, force: true });
    liveDirs.delete(base);
  };
  try {
    for (let i = 0; i < N; i++) {
      const dataDir = path.join(base, `replica-${i}`);
      const profile =
        options.profileDir === undefined
          ? []
          : [
              ...cpuProfArgs(options.profileDir),
              '--cpu-prof-name',
              `${options.tag}-replica-${i}.cpuprofile`,
            ];
      const child = track(
        spawn(
          process.execPath,
          [
            ...profile,
            CLI,
            'serve',
            '--id',
            String(i),
            '--peers',
            urls.join(','),
            '--data-dir',
            dataDir,
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      replicas.push(new Replica(i, child, dataDir, options.log));
    }
    const failed = Promise.race(replicas.map((r) => r.failed));
    failed.catch(() => {});
    await Promise.race([
      Promise.all(
        replicas.map((r) =>
          waitForLine(r.child, /^listening (ws:\/\/\S+)$/m, 30_000, `kvraft replica ${r.id}`),
        ),
      ),
      failed,
    ]);
    const leader = (): number | undefined => {
      let best: Replica | undefined;
      for (const r of replicas) {
        if (
          r.state?.role === 'leader' &&
          (best === undefined || r.state.term > (best.state?.term ?? 0))
        )
          best = r;
      }
      return best?.id;
    };
    await Promise.race([
      poll('a kvraft leader', leader, { timeoutMs: 30_000, everyMs: 20 }),
      failed,
    ]);
    return {
      urls,
      env,
      pids: replicas.map((r) => r.child.pid as number),
      leader,
      term: () => Math.max(...replicas.map((r) => r.state?.term ?? 0)),
      walDeltas: () => replicas.map((r) => r.wal.take()),
      failed,
      stop,
    };
  } catch (err) {
    for (const line of replicas.flatMap((r) => r.early ?? [])) options.log(line);
    await stop();
    throw err;
  }
}
