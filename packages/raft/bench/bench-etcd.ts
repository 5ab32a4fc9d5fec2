/**
 * The anchor of raft-bench.ts, measured in the same run: a 3-member etcd on 127.0.0.1 with its
 * WAL on disk (shared/bench/etcd-cluster.sh) under the same closed loop of 128-byte puts
 * (shared/bench/etcd-load.mjs, against the leader). Needs the Debian packages etcd-server and
 * etcd-client. The members' CPU time is read from /proc around each load run.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { procCpuMicros } from '@flotilla/devkit/bench/procstat';
import { sleep } from '@flotilla/devkit/time/within';
import type { LoopResult } from './bench-common.js';

const run = promisify(execFile);

const ENDPOINTS = 'http://127.0.0.1:23791,http://127.0.0.1:23792,http://127.0.0.1:23793';
const MEMBERS = ['m1', 'm2', 'm3'];

/**
 * etcd-load.mjs's figures, in LoopResult's terms (it does not split the window in halves, and
 * warms up by its own rule: 200 ops).
 */
export interface EtcdLevelResult
  extends Omit<LoopResult, 'secondHalfRatio' | 'warmupCommits' | 'warmupSeconds'> {
  readonly concurrency: number;
  /** CPU of the three members together over the load run (warmup included), % of one core. */
  readonly serverCpuPct: number;
  readonly clientCpuPct: number;
  readonly cpuUsPerCommit: number;
}

/** Why etcd cannot be measured here, or undefined if it can. */
export function etcdMissing(sharedBench: string): string | undefined {
  if (!existsSync(path.join(sharedBench, 'etcd-cluster.sh'))) return `no ${sharedBench}`;
  const which = spawnSync('sh', ['-c', 'command -v etcd && command -v curl'], { stdio: 'ignore' });
  if (which.status !== 0) {
    return 'etcd (or curl) is not installed: apt-get update && apt-get install -y etcd-server etcd-client';
  }
  return undefined;
}

/** The cluster script and the temp dir of the members it is running, if any. */
let started: { script: string; root: string; env: NodeJS.ProcessEnv } | undefined;

/** Synchronous cleanup for process 'exit': stops the members the cluster script started. */
export function cleanupEtcdSync(): void {
  if (started === undefined) return;
  spawnSync('bash', [started.script, 'stop'], { env: started.env, stdio: 'ignore' });
  rmSync(started.root, { recursive: true, force: true });
  started = undefined;
}

/** user + system CPU of the members so far, in microseconds (from /proc). */
function membersCpuMicros(pidDir: string): number {
  let micros = 0;
  for (const member of MEMBERS) {
    const pid = Number(readFileSync(path.join(pidDir, `${member}.pid`), 'utf8').trim());
    const cpu = procCpuMicros(pid);
    if (Number.isNaN(cpu)) throw new Error(`etcd member ${member} (pid ${pid}) is not running`);
    micros += cpu;
  }
  return micros;
}

interface LoadJson {
  n: number;
  errors: number;
  seconds: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  client_cpu_pct: number;
}

export async function runEtcd(
  sharedBench: string,
  levels: readonly number[],
  measureSeconds: number,
): Promise<EtcdLevelResult[]> {
  const script = path.join(sharedBench, 'etcd-cluster.sh');
  const load = path.join(sharedBench, 'etcd-load.mjs');
  // Data (on the same disk as the ws setup's temp dirs) and pid files in a fresh temp dir.
  const root = await mkdtemp(path.join(tmpdir(), 'flotilla-raft-bench-etcd-'));
  const pidDir = path.join(root, 'pids');
  const env = {
    ...process.env,
    ETCD_DATA_ROOT: path.join(root, 'data'),
    ETCD_PID_DIR: pidDir,
  };
  started = { script, root, env };
  try {
    await run('bash', [script, 'start3'], { env, timeout: 60_000 });
    await sleep(1000);
    const results: EtcdLevelResult[] = [];
    for (const c of levels) {
      const cpu0 = membersCpuMicros(pidDir);
      const t0 = performance.now();
      const { stdout } = await run(
        process.execPath,
        [
          load,
          '--endpoints',
          ENDPOINTS,
          '--op',
          'put',
          '--c',
          String(c),
          '--n',
          '10000000',
          '--max-seconds',
          String(measureSeconds),
          '--json',
        ],
        { env, timeout: (measureSeconds + 60) * 1000, maxBuffer: 1 << 20 },
      );
      const wallSeconds = (performance.now() - t0) / 1000;
      const cpu = membersCpuMicros(pidDir) - cpu0;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) throw new Error(`etcd-load printed no result: ${stdout}`);
      const r = JSON.parse(line) as LoadJson;
      const serverCpuPct = (cpu / 1e6 / wallSeconds) * 100;
      results.push({
        concurrency: c,
        commits: r.n,
        failures: r.errors,
        seconds: r.seconds,
        commitsPerSecond: r.ops_per_s,
        p50Ms: r.p50_ms,
        p99Ms: r.p99_ms,
        maxMs: r.max_ms,
        serverCpuPct,
        clientCpuPct: r.client_cpu_pct,
        cpuUsPerCommit: (serverCpuPct / 100 / r.ops_per_s) * 1e6,
      });
    }
    return results;
  } finally {
    await run('bash', [script, 'stop'], { env, timeout: 30_000 }).catch(() => {});
    await rm(root, { recursive: true, force: true });
    started = undefined;
  }
}
