import { parseArgs } from 'node:util';
import { integerFlag, urlListFlag } from '@flotilla/transport';
import { UsageError } from './errors.js';

export const USAGE = `usage:
  flotilla-shardkv serve  --gid G --id I --peers URL,URL,… --ctrlers URL,URL,… --data-dir DIR
                          [--auth-token T] [--maxraftstate BYTES]
  flotilla-shardkv get    --ctrlers URL,URL,… KEY
  flotilla-shardkv put    --ctrlers URL,URL,… KEY VALUE
  flotilla-shardkv append --ctrlers URL,URL,… KEY VALUE

serve runs replica I of group G (--peers: ws://host:port of every replica of the group, by id)
on the host and port of its own entry, with its state in DIR (fsync on every save), following
the controller at --ctrlers (flotilla-shardctrler's replicas). Join the group to the controller
under its --peers urls: other groups and the clerks reach its servers at those names. It prints
"listening <url>" once it serves, logs one JSON line per event on stderr, and stops on
SIGINT/SIGTERM. --maxraftstate snapshots once the Raft state reaches that many bytes (default
-1: never).
get prints the value ("" for a key never written). The clerk reads the configuration from the
controller and retries until the owning group answers; Ctrl-C ends it.
The shared secret may also come from FLOTILLA_AUTH_TOKEN.`;

export interface ServeCommand {
  readonly command: 'serve';
  readonly gid: number;
  readonly id: number;
  readonly peers: readonly string[];
  readonly ctrlers: readonly string[];
  readonly dataDir: string;
  readonly authToken: string | undefined;
  readonly maxraftstate: number;
}

export interface ClerkCommand {
  readonly command: 'get' | 'put' | 'append';
  readonly ctrlers: readonly string[];
  readonly authToken: string | undefined;
  readonly key: string;
  readonly value: string;
}

export type CliCommand = ServeCommand | ClerkCommand | { readonly command: 'help' };

const OPTIONS = {
  gid: { type: 'string' },
  id: { type: 'string' },
  peers: { type: 'string' },
  ctrlers: { type: 'string' },
  'data-dir': { type: 'string' },
  maxraftstate: { type: 'string' },
  'auth-token': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;

/** The flags each command takes, besides --auth-token and --help. */
const FLAGS: Readonly<Record<string, readonly Flag[]>> = {
  serve: ['gid', 'id', 'peers', 'ctrlers', 'data-dir', 'maxraftstate'],
  get: ['ctrlers'],
  put: ['ctrlers'],
  append: ['ctrlers'],
};

const usage = (message: string): UsageError => new UsageError(message);

/** Parses `flotilla-shardkv`'s arguments; throws `UsageError` with what is wrong. */
export function parseCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw usage((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { command: 'help' };
  const allowed = FLAGS[command];
  if (allowed === undefined) throw usage(`unknown command ${JSON.stringify(command)}`);
  const unused = (Object.keys(values) as Flag[]).filter(
    (flag) => flag !== 'auth-token' && flag !== 'help' && !allowed.includes(flag),
  );
  if (unused.length > 0) throw usage(`${command} does not take --${unused.join(', --')}`);
  const authToken = values['auth-token'] ?? (env.FLOTILLA_AUTH_TOKEN || undefined);
  const ctrlers = urlListFlag('--ctrlers', values.ctrlers, usage);

  if (command === 'serve') {
    if (rest.length > 0) throw usage(`serve takes no arguments, got ${rest.join(' ')}`);
    const peers = urlListFlag('--peers', values.peers, usage);
    const id = integerFlag('--id', values.id, 0, usage);
    if (id >= peers.length) {
      throw usage(`--id ${id} is not an index of --peers (${peers.length} urls)`);
    }
    if (values['data-dir'] === undefined || values['data-dir'] === '') {
      throw usage('serve needs --data-dir DIR');
    }
    const maxraftstate =
      values.maxraftstate === undefined || values.maxraftstate === '-1'
        ? -1
        : integerFlag('--maxraftstate', values.maxraftstate, 1, usage);
    return {
      command,
      gid: integerFlag('--gid', values.gid, 1, usage),
      id,
      peers,
      ctrlers,
      dataDir: values['data-dir'],
      authToken,
      maxraftstate,
    };
  }
  const clerkCommand = command as ClerkCommand['command'];
  const arity = clerkCommand === 'get' ? 1 : 2;
  if (rest.length !== arity) throw usage(`${command} needs ${arity === 1 ? 'KEY' : 'KEY VALUE'}`);
  return {
    command: clerkCommand,
    ctrlers,
    authToken,
    key: rest[0] as string,
    value: rest[1] ?? '',
  };
}
