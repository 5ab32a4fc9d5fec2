/**
 * Runs the lab scenarios over many seeds:
 *
 *   pnpm --filter @flotilla/raft stress --seeds 500 [--only Name[,Name…]] [--jobs 2]
 *                                       [--from 1] [--timeout-ms 120000]
 *
 * Seeds `from … from+seeds-1` for every scenario (or those named by --only: exact names, or a
 * regular expression), spread over `jobs` worker threads. Prints a line per scenario, every
 * failure with its scenario, seed and first line of error, and a summary; exits 1 on any
 * failure. Replay one with `FLOTILLA_SEED=<seed> npx vitest run --project raft -t <Name>`.
 */
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { scenarios } from '../lab/scenarios.js';

interface Task {
  readonly name: string;
  readonly seed: number;
}

interface Outcome extends Task {
  readonly ok: boolean;
  readonly error?: string;
  readonly virtualMs?: number;
}

/** Worker side: run each task it is sent, quietly, and report its outcome. */
function serve(): void {
  const port = parentPort;
  if (port === null) throw new Error('stress worker without a parent port');
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  port.on('message', async (task: Task) => {
    const scenario = byName.get(task.name);
    let outcome: Outcome;
    try {
      if (scenario === undefined) throw new Error(`no scenario ${task.name}`);
      const report = await scenario.run(task.seed, { quiet: true });
      outcome = { ...task, ok: true, virtualMs: report.virtualMs };
    } catch (err) {
      outcome = { ...task, ok: false, error: firstLine(err) };
    }
    port.postMessage(outcome);
  });
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0] ?? text;
}

interface Options {
  seeds: number;
  from: number;
  jobs: number;
  only: string | undefined;
  timeoutMs: number;
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { seeds: 100, from: 1, jobs: 2, only: undefined, timeoutMs: 120_000 };
  const positive = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--':
        break;
      case '--seeds':
        options.seeds = positive(flag, value());
        break;
      case '--from':
        options.from = positive(flag, value());
        break;
      case '--jobs':
        options.jobs = positive(flag, value());
        break;
      case '--timeout-ms':
        options.timeoutMs = positive(flag, value());
        break;
      case '--only':
        options.only = value();
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return options;
}

function select(only: string | undefined): string[] {
  const names = scenarios.map((s) => s.name);
  if (only === undefined) return names;
  const wanted = only.split(',').map((s) => s.trim());
  if (wanted.every((w) => names.includes(w))) return wanted;
  const pattern = new RegExp(only);
  const matched = names.filter((n) => pattern.test(n));
  if (matched.length === 0) throw new Error(`--only ${only} matches no scenario`);
  return matched;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const names = select(options.only);
  if (process.env.FLOTILLA_SEED) {
    console.log(
      `stress: ignoring FLOTILLA_SEED=${process.env.FLOTILLA_SEED} (seeds come from --from/--seeds)`,
    );
    delete process.env.FLOTILLA_SEED;
  }
  const last = options.from + options.seeds - 1;
  console.log(
    `stress: ${names.length} scenario(s) × seeds ${options.from}..${last}, ${options.jobs} job(s)`,
  );
  const started = performance.now();
  const pool = new Pool(options.jobs, options.timeoutMs);
  const failures: Outcome[] = [];
  try {
    for (const name of names) {
      const t0 = performance.now();
      const tasks: Task[] = [];
      for (let seed = options.from; seed <= last; seed++) tasks.push({ name, seed });
      let maxVirtualMs = 0;
      let failed = 0;
      await pool.runAll(tasks, (outcome) => {
        if (outcome.ok) {
          maxVirtualMs = Math.max(maxVirtualMs, outcome.virtualMs ?? 0);
          return;
        }
        failed++;
        failures.push(outcome);
        console.log(`  FAIL ${outcome.name} seed ${outcome.seed}: ${outcome.error}`);
      });
      const seconds = ((performance.now() - t0) / 1000).toFixed(1);
      const status = failed === 0 ? 'ok  ' : 'FAIL';
      console.log(
        `${status} ${name.padEnd(28)} ${tasks.length - failed}/${tasks.length} passed` +
          `  ${seconds.padStart(6)} s wall, max ${(maxVirtualMs / 1000).toFixed(1)} s virtual`,
      );
    }
  } finally {
    await pool.close();
  }

  const total = names.length * options.seeds;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (failures.length > 0) {
    console.log('\nfailures:');
    for (const f of failures) console.log(`  ${f.name} seed ${f.seed}: ${f.error}`);
  }
  console.log(
    `\nstress: ${total - failures.length}/${total} runs passed, ${failures.length} failed ` +
      `(${names.length} scenario(s) × ${options.seeds} seed(s), ${seconds} s)`,
  );
  return failures.length === 0 ? 0 : 1;
}

/** Worker threads running one task at a time each; a hung or crashed worker is replaced. */
class Pool {
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();

  constructor(size: number, timeoutMs: number) {
    this.#size = size;
    this.#timeoutMs = timeoutMs;
  }

  async runAll(tasks: readonly Task[], onOutcome: (outcome: Outcome) => void): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < tasks.length) {
        const task = tasks[next++] as Task;
        onOutcome(await this.#run(task));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#size, tasks.length) }, lane));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#all].map((w) => w.terminate()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  #spawn(): Worker {
    // A worker thread does not inherit tsx's loader, so it registers tsx before importing
    // this file (tsx also applies tsconfig `paths`, mapping @flotilla/transport to its src).
    const tsx = import.meta.resolve('tsx/esm/api');
    const bootstrap =
      `import { register } from ${JSON.stringify(tsx)}; register();\n` +
      `await import(${JSON.stringify(import.meta.url)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`));
    this.#all.add(worker);
    return worker;
  }

  #run(task: Task): Promise<Outcome> {
    const worker = this.#idle.pop() ?? this.#spawn();
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome, healthy: boolean): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (healthy) {
          this.#idle.push(worker);
        } else {
          this.#all.delete(worker);
          void worker.terminate();
        }
        resolve(outcome);
      };
      const onMessage = (outcome: Outcome): void => done(outcome, true);
      const onError = (err: Error): void =>
        done({ ...task, ok: false, error: `worker crashed: ${firstLine(err)}` }, false);
      const onExit = (code: number): void =>
        done({ ...task, ok: false, error: `worker exited with code ${code}` }, false);
      const timer = setTimeout(() => {
        const error = `no result after ${this.#timeoutMs / 1000} s of wall time (hung?)`;
        done({ ...task, ok: false, error }, false);
      }, this.#timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(task);
    });
  }
}

// Entry point last: the classes above must be initialized before main() uses them.
if (isMainThread) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 2;
    },
  );
} else {
  serve();
}
