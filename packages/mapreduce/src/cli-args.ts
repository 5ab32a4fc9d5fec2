import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export const USAGE = `Usage: flotilla-mapreduce <command> [options]

Commands:
  run <files...>           a coordinator and --workers worker processes, with a progress bar
  coordinator <files...>   the coordinator alone; start workers with \`worker\`
  worker                   one worker: asks the coordinator for tasks until the job is over
  sequential <files...>    the lab's mrsequential: one process, no combiner, writes mr-out-0

Options:
  --app <wc|indexer|path>  the app (run, worker, sequential): a built-in, or an ES module
                           exporting map, reduce and optionally combine
  --workers <n>            run: worker processes (default 2)
  --nreduce <n>            reduce tasks (default 10)
  --dir <path>             where mr-X-Y and mr-out-Y go (default: the current directory)
  --task-timeout <s>       hand a task to another worker after this many seconds (default 10)
  --max-task-failures <n>  fail the job once a task has failed this often (default 3)
  --listen <host:port>     coordinator: where to listen (default 127.0.0.1:0, an ephemeral port)
  --coordinator <url>      worker: the coordinator's URL (ws://host:port)
  --connect-timeout <s>    worker: give up if the coordinator is unreachable this long
                           (default 2; run's workers wait 10 for the coordinator to start)
  --auth-token <secret>    shared secret of coordinator and workers (or FLOTILLA_AUTH_TOKEN)
  --out <file>             sequential: the output file (default mr-out-0)
  --json                   JSON lines on stdout instead of text
  --progress, --no-progress  the progress bar on stderr (default: when stderr is a terminal)
  --verbose                worker (and run's workers): a line per task
  -h, --help               this text

Exit status: 0 done, 1 the job failed or a process could not do its part, 2 bad usage.`;

const OPTIONS = {
  app: { type: 'string' },
  workers: { type: 'string' },
  nreduce: { type: 'string' },
  dir: { type: 'string' },
  'task-timeout': { type: 'string' },
  'max-task-failures': { type: 'string' },
  listen: { type: 'string' },
  coordinator: { type: 'string' },
  'connect-timeout': { type: 'string' },
  'auth-token': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean', default: false },
  progress: { type: 'boolean', default: false },
  'no-progress': { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export type Command = 'run' | 'coordinator' | 'worker' | 'sequential';

export interface CliArgs {
  readonly command: Command | 'help';
  readonly files: readonly string[];
  readonly app: string | undefined;
  readonly workers: number;
  readonly nReduce: number;
  readonly dir: string | undefined;
  readonly taskTimeoutMs: number;
  readonly maxTaskFailures: number;
  readonly listen: { host: string; port: number };
  readonly coordinator: string | undefined;
  /** undefined: the worker's default, which depends on how it learns the URL (cli-worker.ts). */
  readonly connectTimeoutMs: number | undefined;
  readonly authToken: string | undefined;
  readonly out: string | undefined;
  readonly json: boolean;
  /** undefined: decide by whether stderr is a terminal. */
  readonly progress: boolean | undefined;
  readonly verbose: boolean;
}

/** Parses argv (without node and the script). Throws `UsageError` on anything wrong. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const [command, ...files] = positionals;
  if (values.help || command === undefined || command === 'help') {
    return { ...defaults(), command: 'help' };
  }
  if (!['run', 'coordinator', 'worker', 'sequential'].includes(command)) {
    throw new UsageError(`unknown command "${command}"`);
  }
  const cmd = command as Command;
  const args: CliArgs = {
    command: cmd,
    files,
    app: values.app,
    workers: positiveInt('--workers', values.workers, 2),
    nReduce: positiveInt('--nreduce', values.nreduce, 10),
    dir: values.dir,
    taskTimeoutMs: seconds('--task-timeout', values['task-timeout'], 10),
    maxTaskFailures: positiveInt('--max-task-failures', values['max-task-failures'], 3),
    listen: hostPort(values.listen ?? '127.0.0.1:0'),
    coordinator: values.coordinator,
    connectTimeoutMs: optionalSeconds('--connect-timeout', values['connect-timeout']),
    authToken: values['auth-token'] ?? env.FLOTILLA_AUTH_TOKEN,
    out: values.out,
    json: values.json,
    progress: values['no-progress'] ? false : values.progress ? true : undefined,
    verbose: values.verbose,
  };
  if (cmd !== 'worker' && files.length === 0) {
    throw new UsageError(`${cmd} needs at least one input file`);
  }
  if (cmd === 'worker' && files.length > 0) {
    throw new UsageError(`worker takes no files (got ${files.join(' ')})`);
  }
  if (cmd !== 'coordinator' && args.app === undefined) throw new UsageError(`${cmd} needs --app`);
  if (cmd === 'worker' && args.coordinator === undefined) {
    throw new UsageError('worker needs --coordinator ws://host:port');
  }
  return args;
}

function defaults(): Omit<CliArgs, 'command'> {
  return {
    files: [],
    app: undefined,
    workers: 2,
    nReduce: 10,
    dir: undefined,
    taskTimeoutMs: 10_000,
    maxTaskFailures: 3,
    listen: { host: '127.0.0.1', port: 0 },
    coordinator: undefined,
    connectTimeoutMs: undefined,
    authToken: undefined,
    out: undefined,
    json: false,
    progress: undefined,
    verbose: false,
  };
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${name} must be a positive integer, got "${value}"`);
  }
  return n;
}

function seconds(name: string, value: string | undefined, fallback: number): number {
  return optionalSeconds(name, value) ?? fallback * 1000;
}

function optionalSeconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`${name} must be a positive number of seconds, got "${value}"`);
  }
  return n * 1000;
}

function hostPort(value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  const host = at < 0 ? value : value.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = at < 0 ? 0 : Number(value.slice(at + 1));
  if (host === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen must be host:port, got "${value}"`);
  }
  return { host, port };
}
