/**
 * etcd's side of kv-bench.ts, as packages/raft/bench/bench-etcd.ts runs it: a fresh 3-member
 * etcd 3.4 on 127.0.0.1 (../shared/bench/etcd-cluster.sh start3, WAL on disk, fsync before
 * every acknowledgement), its data and pid files in a temp dir of our own (so that neither its
 * `stop` nor its wipe touches anyone else's cluster), read through its Prometheus /metrics for
 * the leader, WAL fsyncs and committed proposals.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { isAlive } from '@flotilla/devkit/proc/child';
import { sleep } from '@flotilla/devkit/time/within';

const run = promisify(execFile);

const MEMBERS = ['m1', 'm2', 'm3'] as const;
const CLIENT_PORTS = [23791, 23792, 23793] as const;
const PEER_PORTS = [23801, 23802, 23803] as const;
export const ETCD_ENDPOINTS = CLIENT_PORTS.map((p) => `http://127.0.0.1:${p}`);

/** Why etcd cannot be measured here, or undefined if it can. */
export function etcdMissing(sharedBench: string): string | undefined {
  for (const file of ['etcd-cluster.sh', 'etcd-load.mjs']) {
    if (!existsSync(path.join(sharedBench, file))) return `no ${path.join(sharedBench, file)}`;
  }
  const which = spawnSync('sh', ['-c', 'command -v etcd && command -v curl'], { stdio: 'ignore' });
  if (which.status !== 0) {
    return 'etcd (or curl) is not on PATH: apt-get update && apt-get install -y etcd-server etcd-client';
  }
  return undefined;
}

/** The cluster script's environment while members may be running, for the sync cleanup. */
let started: { script: string; root: string; env: NodeJS.ProcessEnv; pids: number[] } | undefined;

/** Synchronous cleanup for process 'exit': stops the members the script started. */
export function cleanupEtcdSync(): void {
  if (started === undefined) return;
  // On this path (a signal, an error, the watchdog) nothing of the members is kept: SIGKILL
  // them all at once rather than wait for the script to stop them one after the other.
  for (const pid of started.pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Pids not read yet (still starting): the script knows them from its pid files.
  if (started.pids.length === 0)
    spawnSync('bash', [started.script, 'stop'], {
      env: started.env,
      stdio: 'ignore',
      timeout: 30_000,
    });
  try {
    rmSync(started.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  } catch (err) {
    process.stderr.write(`could not delete ${started.root}: ${(err as Error).message}\n`);
  }
  started = undefined;
}

/** The counters kv-bench.ts reads from one member's /metrics. */
export interface MemberMetrics {
  readonly isLeader: boolean;
  readonly walFsyncs: number;
  readonly proposalsCommitted: number;
}

export interface EtcdCluster {
  readonly endpoints: readonly string[];
  readonly pids: readonly number[];
  metrics(): Promise<MemberMetrics[]>;
  stop(): Promise<void>;
}

/** Throws unless every port etcd-cluster.sh uses is free (another etcd would answer for ours). */
async function checkPortsFree(): Promise<void> {
  for (const port of [...CLIENT_PORTS, ...PEER_PORTS]) {
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', () =>
        reject(
          new Error(`port ${port} is in use: is another etcd running? (etcd-cluster.sh stop)`),
        ),
      );
      server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
    });
  }
}

/**
 * True once `pid` has exited. A zombie counts: here the members are reparented to a PID 1
 * that may reap them late, and the script's `kill -0` then waits 5 s for nothing.
 */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return !isAlive(pid); // no /proc (not Linux), or gone
  }
}

/** SIGTERMs the members together, SIGKILLs any left after 10 s, and drops their pid files. */
async function stopMembers(pids: readonly number[], pidDir: string): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const deadline = performance.now() + 10_000;
  while (pids.some((pid) => !exited(pid)) && performance.now() < deadline) await sleep(50);
  for (const pid of pids) {
    if (!exited(pid)) process.kill(pid, 'SIGKILL');
  }
  if (pids.length === MEMBERS.length) {
    for (const m of MEMBERS) rmSync(path.join(pidDir, `${m}.pid`), { force: true });
  }
}

function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

export async function startEtcd(sharedBench: string): Promise<EtcdCluster> {
  const script = path.join(sharedBench, 'etcd-cluster.sh');
  await checkPortsFree();
  const root = await mkdtemp(path.join(tmpdir(), 'flotilla-kvraft-bench-etcd-'));
  const pidDir = path.join(root, 'pids');
  const env = { ...process.env, ETCD_DATA_ROOT: path.join(root, 'data'), ETCD_PID_DIR: pidDir };
  started = { script, root, env, pids: [] };
  const stop = async (): Promise<void> => {
    await stopMembers(started?.pids ?? [], pidDir);
    // Whatever is left (e.g. a member whose pid was never read), the script's way.
    await run('bash', [script, 'stop'], { env, timeout: 30_000 }).catch(() => {});
    await rm(root, { recursive: true, force: true });
    started = undefined;
  };
  try {
    await run('bash', [script, 'start3'], { env, timeout: 60_000 });
    await sleep(1000);
    const pids = MEMBERS.map((m) =>
      Number(readFileSync(path.join(pidDir, `${m}.pid`), 'utf8').trim()),
    );
    started.pids = pids;
    const metrics = (): Promise<MemberMetrics[]> =>
      Promise.all(
        ETCD_ENDPOINTS.map(async (url) => {
          const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
          if (!res.ok) throw new Error(`${url}/metrics: HTTP ${res.status}`);
          const text = await res.text();
          return {
            isLeader: metricValue(text, 'etcd_server_is_leader') === 1,
            walFsyncs: metricValue(text, 'etcd_disk_wal_fsync_duration_seconds_count'),
            proposalsCommitted: metricValue(text, 'etcd_server_proposals_committed_total'),
          };
        }),
      );
    return { endpoints: ETCD_ENDPOINTS, pids, metrics, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
