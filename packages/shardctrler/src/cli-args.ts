import { parseArgs } from 'node:util';
import { integerFlag, urlListFlag } from '@flotilla/transport';
import { UsageError } from './errors.js';

export const USAGE = `usage:
  flotilla-shardctrler serve --id I --peers URL,URL,… --data-dir DIR [--listen HOST:PORT]
                             [--auth-token T] [--maxraftstate BYTES]
  flotilla-shardctrler query --servers URL,URL,… [NUM]
  flotilla-shardctrler join  --servers URL,URL,… GID=SERVER,SERVER,… [GID=SERVER,… …]
  flotilla-shardctrler leave --servers URL,URL,… GID [GID …]
  flotilla-shardctrler move  --servers URL,URL,… SHARD GID

serve runs controller replica I of the cluster --peers (ws://host:port of every replica, by
id), with its state in DIR (fsync on every save). It listens on --listen, by default on the
host and port of its own --peers entry. It prints "listening <url>" once it serves, logs one
JSON line per event on stderr, and stops on SIGINT/SIGTERM. --maxraftstate snapshots once the
Raft state reaches that many bytes (default -1: never).
query prints configuration NUM (default -1: the latest) as one JSON line. join adds one or
more groups at once, leave removes one or more, move puts shard SHARD on group GID; each
prints the number of the configuration it made. A refused change (a gid 0, one already
joined, an unknown one, a shard out of range, an empty server list) prints why and exits 1.
The clerk retries until a leader answers; Ctrl-C ends it.
The shared secret may also come from FLOTILLA_AUTH_TOKEN.`;

export interface ServeCommand {
  readonly command: 'serve';
  readonly id: number;
  readonly peers: readonly string[];
  readonly dataDir: string;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly authToken: string | undefined;
  readonly maxraftstate: number;
}

interface ClerkBase {
  readonly servers: readonly string[];
  readonly authToken: string | undefined;
}

export type ClerkCommand = ClerkBase &
  (
    | { readonly command: 'query'; readonly num: number }
    | { readonly command: 'join'; readonly groups: ReadonlyMap<number, readonly string[]> }
    | { readonly command: 'leave'; readonly gids: readonly number[] }
    | { readonly command: 'move'; readonly shard: number; readonly gid: number }
  );

export type CliCommand = ServeCommand | ClerkCommand | { readonly command: 'help' };

const OPTIONS = {
  id: { type: 'string' },
  peers: { type: 'string' },
  'data-dir': { type: 'string' },
  listen: { type: 'string' },
  maxraftstate: { type: 'string' },
  servers: { type: 'string' },
  'auth-token': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;

/** The flags each command takes, besides --auth-token and --help. */
const FLAGS: Readonly<Record<string, readonly Flag[]>> = {
  serve: ['id', 'peers', 'data-dir', 'listen', 'maxraftstate'],
  query: ['servers'],
  join: ['servers'],
  leave: ['servers'],
  move: ['servers'],
};

/**
 * Parses `flotilla-shardctrler`'s arguments; throws `UsageError` with what is wrong. Numbers
 * must be integers here; whether they make a valid change (gid ≥ 1, shard in range, a
 * non-empty server list) is the clerk's check, which answers `InvalidArgumentError`.
 */
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
    if (rest.length > 0) throw new UsageError(`serve takes no arguments, got ${rest.join(' ')}`);
    const peers = urlList('--peers', values.peers);
    const id = natural('--id', values.id);
    if (id >= peers.length) {
      throw new UsageError(`--id ${id} is not an index of --peers (${peers.length} urls)`);
    }
    if (values['data-dir'] === undefined || values['data-dir'] === '') {
      throw new UsageError('serve needs --data-dir DIR');
    }
    const maxraftstate =
      values.maxraftstate === undefined || values.maxraftstate === '-1'
        ? -1
        : natural('--maxraftstate', values.maxraftstate, 1);
    const listen = values.listen === undefined ? undefined : hostPort(values.listen);
    return {
      command,
      id,
      peers,
      dataDir: values['data-dir'],
      host: listen?.host,
      port: listen?.port,
      authToken,
      maxraftstate,
    };
  }
  const base = { servers: urlList('--servers', values.servers), authToken };
  switch (command) {
    case 'query':
      if (rest.length > 1) throw new UsageError('query takes at most one NUM');
      return { ...base, command, num: rest[0] === undefined ? -1 : integer('NUM', rest[0]) };
    case 'join':
      if (rest.length === 0) throw new UsageError('join needs GID=SERVER,SERVER,…');
      return { ...base, command, groups: joinGroups(rest) };
    case 'leave':
      if (rest.length === 0) throw new UsageError('leave needs GID [GID …]');
      return { ...base, command, gids: rest.map((gid) => integer('GID', gid)) };
    default:
      if (rest.length !== 2) throw new UsageError('move needs SHARD GID');
      return {
        ...base,
        command: 'move',
        shard: integer('SHARD', rest[0] as string),
        gid: integer('GID', rest[1] as string),
      };
  }
}

/** `GID=SERVER,SERVER,…` arguments; `GID=` is an empty list (which the clerk refuses). */
function joinGroups(specs: readonly string[]): Map<number, string[]> {
  const groups = new Map<number, string[]>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq < 0) throw new UsageError(`join wants GID=SERVER,SERVER,…, got ${JSON.stringify(spec)}`);
    const gid = integer('GID', spec.slice(0, eq));
    if (groups.has(gid)) throw new UsageError(`join lists gid ${gid} twice`);
    const list = spec.slice(eq + 1);
    groups.set(gid, list === '' ? [] : list.split(',').map((s) => s.trim()));
  }
  return groups;
}

const usage = (message: string): UsageError => new UsageError(message);

function urlList(flag: string, text: string | undefined): string[] {
  return urlListFlag(flag, text, usage);
}

function hostPort(text: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) {
    throw new UsageError(`--listen wants HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return { host: (match[1] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

function natural(flag: string, text: string | undefined, min = 0): number {
  return integerFlag(flag, text, min, usage);
}

/** Any integer: the clerk says whether it is a valid gid, shard or config number. */
function integer(what: string, text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`${what} wants an integer, got ${JSON.stringify(text)}`);
  }
  return n;
}
