import { parseArgs } from 'node:util';
import { integerFlag, urlListFlag } from '@flotilla/transport';
import { UsageError } from './errors.js';

export const USAGE = `usage:
  flotilla-kvraft serve  --id I --peers URL,URL,… --data-dir DIR [--auth-token T] [--maxraftstate BYTES]
  flotilla-kvraft get    --servers URL,URL,… KEY
  flotilla-kvraft put    --servers URL,URL,… KEY VALUE
  flotilla-kvraft append --servers URL,URL,… KEY VALUE
  flotilla-kvraft bench  --servers URL,URL,… [--op put|get] [--clients C] [--n OPS]
                         [--warmup OPS] [--keys K] [--value-bytes B] [--max-seconds S] [--json]

serve runs replica I of the cluster --peers (ws://host:port of every replica, by id), on the
host and port of its own entry, with its state in DIR (fsync on every save). It prints
"listening <url>" once it serves, logs one JSON line per event on stderr (a change of term,
role or leader among them), and stops on SIGINT/SIGTERM. --maxraftstate snapshots once the
Raft state reaches that many bytes (default -1: never).
get prints the value ("" for a key never written). The clerk retries until a leader answers;
Ctrl-C ends it. bench runs C clerks in a closed loop, one op in flight each: --n measured ops
(default 10000) after --warmup (default min(200, n/10)), puts of 16-byte keys picked at random
among --keys (10000) with --value-bytes (128), or linearizable gets of those keys (2,000 of
them written first); it stops issuing after --max-seconds (60) and prints throughput and
latency (--json: one line with etcd-load.mjs's fields).
The shared secret may also come from FLOTILLA_AUTH_TOKEN.`;

export interface ServeCommand {
  readonly command: 'serve';
  readonly id: number;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly authToken: string | undefined;
  readonly maxraftstate: number;
}

export interface ClerkCommand {
  readonly command: 'get' | 'put' | 'append';
  readonly servers: readonly string[];
  readonly authToken: string | undefined;
  readonly key: string;
  readonly value: string;
}

export interface BenchCommand {
  readonly command: 'bench';
  readonly servers: readonly string[];
  readonly authToken: string | undefined;
  readonly op: 'put' | 'get';
  readonly clients: number;
  readonly n: number;
  readonly warmup: number;
  readonly keys: number;
  readonly valueBytes: number;
  readonly maxSeconds: number;
  readonly json: boolean;
}

export type CliCommand = ServeCommand | ClerkCommand | BenchCommand | { readonly command: 'help' };

const OPTIONS = {
  id: { type: 'string' },
  peers: { type: 'string' },
  'data-dir': { type: 'string' },
  maxraftstate: { type: 'string' },
  servers: { type: 'string' },
  'auth-token': { type: 'string' },
  op: { type: 'string' },
  clients: { type: 'string' },
  n: { type: 'string' },
  warmup: { type: 'string' },
  'max-seconds': { type: 'string' },
  keys: { type: 'string' },
  'value-bytes': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;

/** The flags each command takes, besides --auth-token and --help. */
const FLAGS: Readonly<Record<string, readonly Flag[]>> = {
  serve: ['id', 'peers', 'data-dir', 'maxraftstate'],
  get: ['servers'],
  put: ['servers'],
  append: ['servers'],
  bench: ['servers', 'op', 'clients', 'n', 'warmup', 'keys', 'value-bytes', 'max-seconds', 'json'],
};

/** Parses `flotilla-kvraft`'s arguments; throws `UsageError` with what is wrong. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { command: 'help' };
  const allowed = FLAGS[command];
  if (allowed === undefined) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  const unused = (Object.keys(values) as Flag[]).filter(
    (flag) => flag !== 'auth-token' && flag !== 'help' && !allowed.includes(flag),
  );
  if (unused.length > 0) throw new UsageError(`${command} does not take --${unused.join(', --')}`);
  const authToken = values['auth-token'] ?? (env.FLOTILLA_AUTH_TOKEN || undefined);

  if (command === 'serve') {
    noPositionals(command, rest);
    const peers = urlList('--peers', values.peers);
    const id = integer('--id', values.id, 0);
    if (id >= peers.length)
      throw new UsageError(`--id ${id} is not an index of --peers (${peers.length} urls)`);
    if (values['data-dir'] === undefined || values['data-dir'] === '')
      throw new UsageError('serve needs --data-dir DIR');
    const maxraftstate =
      values.maxraftstate === undefined || values.maxraftstate === '-1'
        ? -1
        : integer('--maxraftstate', values.maxraftstate, 1);
    return { command, id, peers, dataDir: values['data-dir'], authToken, maxraftstate };
  }
  const servers = urlList('--servers', values.servers);
  if (command === 'bench') {
    noPositionals(command, rest);
    const op = values.op ?? 'put';
    if (op !== 'put' && op !== 'get') throw new UsageError(`--op wants put or get, got ${op}`);
    const n = integer('--n', values.n ?? '10000', 1);
    return {
      command,
      servers,
      authToken,
      op,
      clients: integer('--clients', values.clients ?? '1', 1),
      n,
      warmup: integer('--warmup', values.warmup ?? String(Math.min(200, Math.floor(n / 10))), 0),
      keys: integer('--keys', values.keys ?? '10000', 1),
      valueBytes: integer('--value-bytes', values['value-bytes'] ?? '128', 0),
      maxSeconds: integer('--max-seconds', values['max-seconds'] ?? '60', 1),
      json: values.json ?? false,
    };
  }
  const clerkCommand = command as ClerkCommand['command'];
  const arity = clerkCommand === 'get' ? 1 : 2;
  if (rest.length !== arity)
    throw new UsageError(`${command} needs ${arity === 1 ? 'KEY' : 'KEY VALUE'}`);
  return {
    command: clerkCommand,
    servers,
    authToken,
    key: rest[0] as string,
    value: rest[1] ?? '',
  };
}

function noPositionals(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(`${command} takes no arguments, got ${rest.join(' ')}`);
}

const usage = (message: string): UsageError => new UsageError(message);

function urlList(flag: string, text: string | undefined): string[] {
  return urlListFlag(flag, text, usage);
}

function integer(flag: string, text: string | undefined, min: number): number {
  return integerFlag(flag, text, min, usage);
}
