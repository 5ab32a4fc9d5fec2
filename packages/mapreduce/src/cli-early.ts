import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { type CliArgs, parseCli } from './cli-args.js';

/**
 * `run`'s worker processes, started before this process loads the rest of the CLI. Loading
 * the RPC stack is most of a process's start-up (~0.1 s of CPU); started this early, the
 * workers load theirs while the coordinator loads its own, instead of after it. A worker
 * started with `--coordinator -` reads the coordinator's URL from its stdin, written once the
 * coordinator listens (see `runCommand`).
 */
export interface EarlyWorkers {
  /** The shared secret the workers were given (in their environment). */
  readonly token: string;
  readonly children: readonly ChildProcess[];
}

export function startWorkersEarly(
  argv: readonly string[],
  cliPath: string,
): EarlyWorkers | undefined {
  if (argv[0] !== 'run') return undefined;
  let args: CliArgs;
  try {
    args = parseCli(argv, process.env);
  } catch {
    return undefined; // main reports the usage error
  }
  return args.command === 'run' ? spawnWorkers(args, cliPath) : undefined;
}

/** Starts `--workers` processes of `cliPath worker --coordinator - --app <app>`. */
export function spawnWorkers(args: CliArgs, cliPath: string): EarlyWorkers {
  // V8 flags for the workers, first in the list so that a flag given to `run` wins.
  const v8Flags = [
    // A fixed young generation of 4 MB semi-spaces instead of V8's default, which grows to
    // 16 MB: a map task allocates a short-lived string per word, and a young generation that
    // small stays in the CPU's cache. Measured on word count (the README's benchmark): map
    // tasks ~5% faster; end to end, 1 worker ~3% and 2 workers ~7% faster. (2–4 MB did about as
    // well, 6–8 MB a little worse.)
    '--min-semi-space-size=4',
    '--max-semi-space-size=4',
    // With at least as many workers as CPUs, V8's helper threads (concurrent GC and compiler)
    // of one worker can only run by taking a CPU from another worker's map task: measured
    // here, two map tasks at once on two CPUs each ran 10–15% slower than one alone with
    // them, ~2% without. So give them up then.
    ...(args.workers >= availableParallelism() ? ['--single-threaded'] : []),
  ];
  const app = args.app as string;
  const token = randomBytes(16).toString('hex');
  const appSpec = isAppPath(app) ? resolve(app) : app;
  const workerArgs = ['worker', '--coordinator', '-', '--app', appSpec];
  if (args.verbose) workerArgs.push('--verbose');
  if (args.connectTimeoutMs !== undefined) {
    workerArgs.push('--connect-timeout', String(args.connectTimeoutMs / 1000));
  }
  const children = Array.from({ length: args.workers }, () => {
    const child = spawn(
      process.execPath,
      [...v8Flags, ...process.execArgv, cliPath, ...workerArgs],
      {
        env: { ...process.env, FLOTILLA_AUTH_TOKEN: token },
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    // A worker that died early (a bad app) must not take this process down with EPIPE.
    child.stdin?.on('error', () => {});
    return child;
  });
  return { token, children };
}

/** A built-in app is a bare name; anything with a slash or a dot is a module path. */
export function isAppPath(spec: string): boolean {
  return /[/\\.]/.test(spec);
}
