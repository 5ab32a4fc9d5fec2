/**
 * Support for the process-level tests: a cluster of `flotilla-kvraft serve` child processes
 * run from the package's sources through tsx (`node --import tsx src/cli.ts serve …`, cwd
 * the package so tsx reads its tsconfig: the workspace packages are their src), so the tests
 * need no build. Each server listens on a loopback port chosen before the first start (every
 * server's --peers holds all of them) and keeps it across restarts, with its data dir under
 * the test's temp dir.
 *
 * The plumbing (captured output, a time limit, kill by pid) is @flotilla/devkit's `Procs`;
 * the test's afterEach calls `procs.killAll()`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Exit, type Proc, type Procs, waitForOutput } from '@flotilla/devkit/proc/procs';
// Read-only inspection of a data dir with raft's own WAL reader: the same code recovery runs,
// minus the repair (nothing on disk is changed).
import { applyRecord, emptyState } from '../../../raft/src/persister/file-state.js';
import { WAL_FILE } from '../../../raft/src/persister/file-wal.js';
import { scanWal } from '../../../raft/src/persister/file-wal-scan.js';

export const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const CLI_TS = join(PACKAGE_DIR, 'src/cli.ts');

const LISTENING = /^listening (ws:\/\/\S+)$/m;

/** One run of one server: from its spawn to its exit. */
export interface Incarnation {
  readonly id: number;
  /** 0 for the first start, then 1, 2, … */
  readonly generation: number;
  readonly proc: Proc;
  /** Set just before the test sends it a signal: an exit without it is the server's own. */
  signalled: NodeJS.Signals | undefined;
  /** From the spawn to its "listening" line. */
  startMs: number | undefined;
}

export interface ClusterOptions {
  readonly procs: Procs;
  readonly baseDir: string;
  readonly ports: readonly number[];
  readonly authToken: string;
  readonly maxraftstate: number;
}

/** The servers of one test, by id; `start`, `kill`, `terminateAll` and what they printed. */
export class ProcessCluster {
  readonly urls: readonly string[];
  readonly dirs: readonly string[];
  /** Every incarnation of every server, in start order. */
  readonly incarnations: Incarnation[] = [];
  readonly #options: ClusterOptions;
  readonly #current: Array<Incarnation | undefined>;

  constructor(options: ClusterOptions) {
    this.#options = options;
    this.urls = options.ports.map((port) => `ws://127.0.0.1:${port}`);
    this.dirs = options.ports.map((_, id) => join(options.baseDir, `server-${id}`));
    this.#current = options.ports.map(() => undefined);
  }

  get n(): number {
    return this.urls.length;
  }

  /** The running incarnation of server `id`, if any. */
  current(id: number): Incarnation | undefined {
    const inc = this.#current[id];
    return inc?.proc.running ? inc : undefined;
  }

  /** Starts server `id` on its port and data dir; resolves once it prints "listening <url>". */
  async start(id: number, timeoutMs = 20_000): Promise<Incarnation> {
    if (this.current(id) !== undefined) throw new Error(`server ${id} is already running`);
    const { procs, authToken, maxraftstate } = this.#options;
    const generation = this.incarnations.filter((inc) => inc.id === id).length;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.FLOTILLA_AUTH_TOKEN;
    const started = performance.now();
    const proc = procs.spawn(
      `server ${id}#${generation}`,
      process.execPath,
      [
        '--import',
        'tsx',
        CLI_TS,
        'serve',
        ...['--id', String(id), '--peers', this.urls.join(',')],
        ...['--data-dir', this.dirs[id] as string, '--auth-token', authToken],
        ...['--maxraftstate', String(maxraftstate)],
      ],
      { cwd: PACKAGE_DIR, env, limitMs: 120_000 },
    );
    const inc: Incarnation = { id, generation, proc, signalled: undefined, startMs: undefined };
    this.incarnations.push(inc);
    this.#current[id] = inc;
    const url = await waitForOutput(proc, (out) => LISTENING.exec(out)?.[1], {
      what: '"listening <url>"',
      timeoutMs,
    });
    inc.startMs = performance.now() - started;
    if (url !== this.urls[id]) {
      throw new Error(`server ${id} listens at ${url}, not at its --peers entry ${this.urls[id]}`);
    }
    return inc;
  }

  /** SIGKILLs server `id` by pid and waits until it is gone (its output read to the end). */
  async kill(id: number): Promise<Exit> {
    const inc = this.current(id);
    if (inc === undefined) throw new Error(`server ${id} is not running`);
    inc.signalled = 'SIGKILL';
    return this.#options.procs.stop(inc.proc, 'SIGKILL');
  }

  /** SIGTERMs every running server; resolves with their exits, by id (undefined: not running). */
  async terminateAll(): Promise<Array<Exit | undefined>> {
    return Promise.all(
      this.#current.map((inc) => {
        if (inc === undefined || !inc.proc.running) return undefined;
        inc.signalled = 'SIGTERM';
        return this.#options.procs.stop(inc.proc, 'SIGTERM');
      }),
    );
  }

  /**
   * The server whose running incarnation last logged `"raft state"` with role leader, at the
   * highest term of those (a deposed leader logs its step-down, so its last line says so).
   */
  leader(): { id: number; term: number } | undefined {
    let found: { id: number; term: number } | undefined;
    for (let id = 0; id < this.n; id++) {
      const inc = this.current(id);
      if (inc === undefined) continue;
      const last = raftStates(inc).at(-1);
      if (last?.role === 'leader' && (found === undefined || last.term > found.term)) {
        found = { id, term: last.term };
      }
    }
    return found;
  }

  /** Incarnations that exited although the test sent them no signal. */
  unexpectedExits(): Incarnation[] {
    return this.incarnations.filter((inc) => !inc.proc.running && inc.signalled === undefined);
  }
}

/** An incarnation's `{"msg":"raft state",…}` lines, in order. */
export function raftStates(inc: Incarnation): Array<{ term: number; role: string }> {
  const states: Array<{ term: number; role: string }> = [];
  for (const raw of inc.proc.stderr.split('\n')) {
    if (!raw.includes('"raft state"')) continue;
    try {
      const line = JSON.parse(raw) as { msg?: unknown; term?: unknown; role?: unknown };
      if (
        line.msg === 'raft state' &&
        typeof line.term === 'number' &&
        typeof line.role === 'string'
      )
        states.push({ term: line.term, role: line.role });
    } catch {
      // A line cut short by the kill.
    }
  }
  return states;
}

/** What a data dir's WAL says: the snapshot's index and the last log index (0: none). */
export interface DiskState {
  readonly snapshotIndex: number;
  readonly lastIndex: number;
}

/**
 * Reads `dir`'s WAL the way recovery does (scan, then apply every valid record; a torn tail
 * is left out), without changing anything. Of a live server it may catch an append mid-write:
 * that is a torn tail too, and the state is the one before it. undefined: no WAL yet, or one
 * caught between a compaction's rename and the read (try again).
 */
export async function readDiskState(dir: string): Promise<DiskState | undefined> {
  const path = join(dir, WAL_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined;
  }
  try {
    const state = emptyState();
    for (const { record } of scanWal(bytes, path).records) applyRecord(state, record);
    const snapshotIndex = state.snapshot?.index ?? 0;
    return { snapshotIndex, lastIndex: snapshotIndex + state.entries.length };
  } catch {
    return undefined;
  }
}

/** One stderr line of a server: its JSON fields, or the raw text if it is not JSON. */
export interface LogLine {
  readonly server: string;
  readonly level: string;
  readonly msg: string;
  readonly raw: string;
}

export function logLines(incarnations: readonly Incarnation[]): LogLine[] {
  const lines: LogLine[] = [];
  for (const inc of incarnations) {
    for (const raw of inc.proc.stderr.split('\n')) {
      if (raw.trim() === '') continue;
      let level = 'text';
      let msg = raw;
      try {
        const parsed = JSON.parse(raw) as { level?: unknown; msg?: unknown };
        if (typeof parsed.level === 'string') level = parsed.level;
        if (typeof parsed.msg === 'string') msg = parsed.msg;
      } catch {
        // Not a JSON line (a stack trace, the CLI's own one-line error): kept as text.
      }
      lines.push({ server: inc.proc.name, level, msg, raw });
    }
  }
  return lines;
}

/** "level msg": count, most frequent first. */
export function summarizeLogs(lines: readonly LogLine[]): string {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const key =
      line.level === 'text' ? `text ${line.raw.slice(0, 120)}` : `${line.level} ${line.msg}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${count}× ${key}`)
    .join('; ');
}
