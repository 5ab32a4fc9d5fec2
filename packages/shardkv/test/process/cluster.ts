/**
 * Support for the process-level test: a controller of `flotilla-shardctrler serve` processes
 * and groups of `flotilla-shardkv serve` processes, run from the packages' sources through tsx
 * (`node --import tsx src/cli.ts serve …`, cwd the package so tsx reads its tsconfig), so the
 * test needs no build. Every server keeps its loopback port and data dir across restarts.
 * The plumbing (captured output, a time limit, kill by pid) is @flotilla/devkit's `Procs`.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Exit, type Proc, type Procs, waitForOutput } from '@flotilla/devkit/proc/procs';

const SHARDKV_DIR = fileURLToPath(new URL('../..', import.meta.url));
const SHARDCTRLER_DIR = fileURLToPath(new URL('../../../shardctrler', import.meta.url));
const LISTENING = /^listening (ws:\/\/\S+)$/m;

/** One run of one server: from its spawn to its exit. */
export interface Incarnation {
  readonly name: string;
  readonly proc: Proc;
  /** Set just before the test sends it a signal: an exit without it is the server's own. */
  signalled: NodeJS.Signals | undefined;
}

/** A replicated cluster of server processes: the controller, or one shardkv group. */
export class ServerSet {
  readonly label: string;
  readonly urls: readonly string[];
  readonly dirs: readonly string[];
  readonly incarnations: Incarnation[] = [];
  readonly #procs: Procs;
  readonly #args: (id: number) => { cwd: string; argv: string[] };
  readonly #current: Array<Incarnation | undefined>;

  constructor(
    procs: Procs,
    label: string,
    ports: readonly number[],
    baseDir: string,
    args: (id: number, set: ServerSet) => { cwd: string; argv: string[] },
  ) {
    this.#procs = procs;
    this.label = label;
    this.urls = ports.map((port) => `ws://127.0.0.1:${port}`);
    this.dirs = ports.map((_, id) => join(baseDir, `${label}-${id}`));
    this.#args = (id) => args(id, this);
    this.#current = ports.map(() => undefined);
  }

  running(id: number): boolean {
    return this.#current[id]?.proc.running === true;
  }

  /** Starts server `id`; resolves once it prints "listening <its url>". */
  async start(id: number, timeoutMs = 30_000): Promise<number> {
    if (this.running(id)) throw new Error(`${this.label} ${id} is already running`);
    const { cwd, argv } = this.#args(id);
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.FLOTILLA_AUTH_TOKEN;
    const generation = this.incarnations.filter((inc) =>
      inc.name.startsWith(`${this.label} ${id}#`),
    ).length;
    const name = `${this.label} ${id}#${generation}`;
    const started = performance.now();
    const proc = this.#procs.spawn(name, process.execPath, ['--import', 'tsx', ...argv], {
      cwd,
      env,
      limitMs: 180_000,
    });
    const inc: Incarnation = { name, proc, signalled: undefined };
    this.incarnations.push(inc);
    this.#current[id] = inc;
    const url = await waitForOutput(proc, (out) => LISTENING.exec(out)?.[1], {
      what: '"listening <url>"',
      timeoutMs,
    });
    if (url !== this.urls[id]) throw new Error(`${name} listens at ${url}, not ${this.urls[id]}`);
    return performance.now() - started;
  }

  startAll(): Promise<number[]> {
    return Promise.all(this.urls.map((_, id) => this.start(id)));
  }

  async kill(id: number): Promise<Exit> {
    const inc = this.#current[id];
    if (inc === undefined || !inc.proc.running)
      throw new Error(`${this.label} ${id} is not running`);
    inc.signalled = 'SIGKILL';
    return this.#procs.stop(inc.proc, 'SIGKILL');
  }

  /** SIGTERMs every running server; their exits (undefined: not running). */
  terminateAll(): Promise<Array<Exit | undefined>> {
    return Promise.all(
      this.#current.map((inc) => {
        if (inc === undefined || !inc.proc.running) return undefined;
        inc.signalled = 'SIGTERM';
        return this.#procs.stop(inc.proc, 'SIGTERM');
      }),
    );
  }

  /** The running server whose last "raft state" line says leader, at the highest term. */
  leader(): number | undefined {
    let found: { id: number; term: number } | undefined;
    this.#current.forEach((inc, id) => {
      if (inc === undefined || !inc.proc.running) return;
      const last = raftStates(inc.proc.stderr).at(-1);
      if (last?.role === 'leader' && (found === undefined || last.term > found.term)) {
        found = { id, term: last.term };
      }
    });
    return found?.id;
  }

  unexpectedExits(): Incarnation[] {
    return this.incarnations.filter((inc) => !inc.proc.running && inc.signalled === undefined);
  }
}

/** A controller of `flotilla-shardctrler serve` processes. */
export function ctrlerSet(procs: Procs, ports: readonly number[], baseDir: string, token: string) {
  return new ServerSet(procs, 'ctrler', ports, baseDir, (id, set) => ({
    cwd: SHARDCTRLER_DIR,
    argv: [
      join(SHARDCTRLER_DIR, 'src/cli.ts'),
      'serve',
      ...['--id', String(id), '--peers', set.urls.join(',')],
      ...['--data-dir', set.dirs[id] as string, '--auth-token', token],
    ],
  }));
}

/** Group `gid` of `flotilla-shardkv serve` processes following the controller at `ctrlers`. */
export function groupSet(
  procs: Procs,
  gid: number,
  ports: readonly number[],
  baseDir: string,
  options: {
    readonly ctrlers: readonly string[];
    readonly token: string;
    readonly maxraftstate: number;
  },
) {
  return new ServerSet(procs, `group-${gid}`, ports, baseDir, (id, set) => ({
    cwd: SHARDKV_DIR,
    argv: [
      join(SHARDKV_DIR, 'src/cli.ts'),
      'serve',
      ...['--gid', String(gid), '--id', String(id), '--peers', set.urls.join(',')],
      ...['--ctrlers', options.ctrlers.join(','), '--data-dir', set.dirs[id] as string],
      ...['--auth-token', options.token, '--maxraftstate', String(options.maxraftstate)],
    ],
  }));
}

/** A server's `{"msg":"raft state",…}` lines, in order. */
export function raftStates(stderr: string): Array<{ term: number; role: string }> {
  const states: Array<{ term: number; role: string }> = [];
  for (const raw of stderr.split('\n')) {
    if (!raw.includes('"raft state"')) continue;
    try {
      const line = JSON.parse(raw) as { msg?: unknown; term?: unknown; role?: unknown };
      if (
        line.msg === 'raft state' &&
        typeof line.term === 'number' &&
        typeof line.role === 'string'
      ) {
        states.push({ term: line.term, role: line.role });
      }
    } catch {
      // A line cut short by the kill.
    }
  }
  return states;
}
