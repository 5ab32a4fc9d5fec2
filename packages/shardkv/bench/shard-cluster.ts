/**
 * The bench's cluster, as examples/sharded-cluster runs it: a controller of 3
 * `flotilla-shardctrler serve` processes and `groups` groups of 3 `flotilla-shardkv serve`
 * processes (the built bins: FilePersister in a temp dir, fsync on every save) on free loopback
 * ports. It follows each server's JSON log lines on stderr: the `shardkv: shard received`
 * events time the migration; anything logged above info is passed on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { freePorts } from '@flotilla/devkit/net/ports';
import { track, waitExit, waitForLine } from '@flotilla/devkit/proc/child';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The bins, as `pnpm bench:shard` builds them. */
const SHARDKV_CLI = path.resolve(here, '../dist/cli.js');
const CTRLER_CLI = path.resolve(here, '../../shardctrler/dist/cli.js');
const REPLICAS = 3;

/** Why the cluster cannot run, or undefined. */
export function cliMissing(): string | undefined {
  const missing = [SHARDKV_CLI, CTRLER_CLI].filter((cli) => !existsSync(cli));
  return missing.length === 0
    ? undefined
    : `${missing.join(', ')} missing: build with pnpm --filter @flotilla/shardkv... build`;
}

const liveDirs = new Set<string>();

/** Synchronous last-resort cleanup for process 'exit' (after killAll): deletes the temp dirs. */
export function cleanupSync(): void {
  for (const dir of liveDirs)
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  liveDirs.clear();
}

/** A `shardkv: shard received` event: group `gid` serves `shard` from `at` (ms, performance.now()). */
export interface ShardReceived {
  readonly gid: number;
  readonly shard: number;
  readonly at: number;
}

/** A `shardkv: configuration applied` event: group `gid`'s leader took `config` at `at`. */
export interface ConfigApplied {
  readonly gid: number;
  readonly config: number;
  readonly at: number;
}

class Server {
  readonly name: string;
  readonly child: ChildProcess;
  stopping = false;
  readonly failed: Promise<never>;

  constructor(
    name: string,
    child: ChildProcess,
    onEvent: (event: Record<string, unknown>) => void,
    log: (line: string) => void,
  ) {
    this.name = name;
    this.child = child;
    let fail: (err: Error) => void = () => {};
    this.failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    this.failed.catch(() => {});
    child.once('exit', (code, signal) => {
      if (!this.stopping) fail(new Error(`${name} exited (${code ?? signal})`));
    });
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        let event: Record<string, unknown> | undefined;
        try {
          event = JSON.parse(line) as Record<string, unknown>;
        } catch {
          event = undefined;
        }
        if (event !== undefined) onEvent(event);
        if (event?.level !== 'info' && !this.stopping) log(`  ${name}: ${line}`);
      }
    });
  }
}

export interface ShardCluster {
  readonly ctrlers: readonly string[];
  /** Each group's server urls, by gid (1, 2, …): the names its Join gives. */
  readonly groups: ReadonlyMap<number, readonly string[]>;
  readonly authToken: string;
  /** Every server's pid, by name (`ctrler-0`, `group-1-2`, …). */
  readonly pids: ReadonlyMap<string, number>;
  /** Every `shard received` event so far. */
  readonly received: readonly ShardReceived[];
  /** Every `configuration applied` event so far. */
  readonly applied: readonly ConfigApplied[];
  readonly failed: Promise<never>;
  stop(): Promise<void>;
}

export async function startShardCluster(options: {
  readonly groups: number;
  readonly maxraftstate: number;
  readonly log: (line: string) => void;
}): Promise<ShardCluster> {
  const base = await mkdtemp(path.join(tmpdir(), 'flotilla-shardkv-bench-'));
  liveDirs.add(base);
  const authToken = randomBytes(24).toString('base64url');
  const env = { ...process.env, FLOTILLA_AUTH_TOKEN: authToken };
  const ports = await freePorts(REPLICAS * (1 + options.groups));
  const urls = ports.map((port) => `ws://127.0.0.1:${port}`);
  const ctrlers = urls.slice(0, REPLICAS);
  const groups = new Map<number, string[]>();
  for (let g = 1; g <= options.groups; g++)
    groups.set(g, urls.slice(REPLICAS * g, REPLICAS * (g + 1)));
  const received: ShardReceived[] = [];
  const applied: ConfigApplied[] = [];
  const onEvent = (event: Record<string, unknown>): void => {
    if (event.msg === 'shardkv: shard received') {
      received.push({ gid: Number(event.gid), shard: Number(event.shard), at: performance.now() });
    }
    if (event.msg === 'shardkv: configuration applied') {
      applied.push({ gid: Number(event.gid), config: Number(event.config), at: performance.now() });
    }
  };
  const servers: Server[] = [];
  const spawnServer = (name: string, args: string[]): void => {
    const child = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    servers.push(new Server(name, child, onEvent, options.log));
  };
  const stop = async (): Promise<void> => {
    for (const s of servers) s.stopping = true;
    await Promise.all(
      servers.map((s) => {
        const exited = waitExit(s.child, 10_000);
        s.child.kill('SIGTERM');
        return exited;
      }),
    );
    await rm(base, { recursive: true, force: true });
    liveDirs.delete(base);
  };
  try {
    ctrlers.forEach((_, i) => {
      spawnServer(`ctrler-${i}`, [
        CTRLER_CLI,
        'serve',
        ...['--id', String(i), '--peers', ctrlers.join(',')],
        ...['--data-dir', path.join(base, `ctrler-${i}`)],
      ]);
    });
    for (const [gid, peers] of groups) {
      peers.forEach((_, i) => {
        spawnServer(`group-${gid}-${i}`, [
          SHARDKV_CLI,
          'serve',
          ...['--gid', String(gid), '--id', String(i), '--peers', peers.join(',')],
          ...['--ctrlers', ctrlers.join(','), '--data-dir', path.join(base, `group-${gid}-${i}`)],
          `--maxraftstate=${options.maxraftstate}`,
        ]);
      });
    }
    const failed = Promise.race(servers.map((s) => s.failed));
    failed.catch(() => {});
    await Promise.race([
      Promise.all(
        servers.map((s) => waitForLine(s.child, /^listening (ws:\/\/\S+)$/m, 60_000, s.name)),
      ),
      failed,
    ]);
    return {
      ctrlers,
      groups,
      authToken,
      pids: new Map(servers.map((s) => [s.name, s.child.pid as number])),
      received,
      applied,
      failed,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
