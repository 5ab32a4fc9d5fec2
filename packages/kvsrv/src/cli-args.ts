import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export const USAGE = `usage:
  flotilla-kvsrv serve --listen HOST:PORT [--auth-token T] [--max-key-bytes N] [--max-value-bytes N]
  flotilla-kvsrv get    --server URL KEY
  flotilla-kvsrv put    --server URL KEY VALUE
  flotilla-kvsrv append --server URL KEY VALUE

serve prints "listening <url>" once the port is bound (PORT 0 picks a free one) and stops
on SIGINT/SIGTERM. The shared secret may also come from FLOTILLA_AUTH_TOKEN.
append prints the value before the append; get prints the value.`;

export type CliCommand =
  | {
      readonly command: 'serve';
      readonly host: string;
      readonly port: number;
      readonly authToken: string | undefined;
      readonly maxKeyBytes: number | undefined;
      readonly maxValueBytes: number | undefined;
    }
  | {
      readonly command: 'get' | 'put' | 'append';
      readonly server: string;
      readonly authToken: string | undefined;
      readonly key: string;
      readonly value: string;
    }
  | { readonly command: 'help' };

const OPTIONS = {
  listen: { type: 'string' },
  server: { type: 'string' },
  'auth-token': { type: 'string' },
  'max-key-bytes': { type: 'string' },
  'max-value-bytes': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const SERVE_ONLY = ['listen', 'max-key-bytes', 'max-value-bytes'] as const;
const CLERK_ONLY = ['server'] as const;
const CLERK_COMMANDS: ReadonlySet<string> = new Set(['get', 'put', 'append']);

/** Parses `flotilla-kvsrv`'s arguments; throws `UsageError` with what is wrong. */
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
  const authToken = values['auth-token'] ?? (env.FLOTILLA_AUTH_TOKEN || undefined);
  const unused = (command === 'serve' ? CLERK_ONLY : SERVE_ONLY).filter(
    (flag) => values[flag] !== undefined,
  );
  if (unused.length > 0 && (command === 'serve' || CLERK_COMMANDS.has(command)))
    throw new UsageError(`${command} does not take --${unused.join(', --')}`);
  if (command === 'serve') {
    if (rest.length > 0) throw new UsageError(`serve takes no arguments, got ${rest.join(' ')}`);
    if (values.listen === undefined) throw new UsageError('serve needs --listen HOST:PORT');
    return {
      command,
      ...parseListen(values.listen),
      authToken,
      maxKeyBytes: positiveInt('--max-key-bytes', values['max-key-bytes']),
      maxValueBytes: positiveInt('--max-value-bytes', values['max-value-bytes']),
    };
  }
  if (command === 'get' || command === 'put' || command === 'append') {
    const arity = command === 'get' ? 1 : 2;
    if (rest.length !== arity)
      throw new UsageError(`${command} needs ${arity === 1 ? 'KEY' : 'KEY VALUE'}`);
    if (values.server === undefined) throw new UsageError(`${command} needs --server URL`);
    return {
      command,
      server: values.server,
      authToken,
      key: rest[0] as string,
      value: rest[1] ?? '',
    };
  }
  throw new UsageError(`unknown command ${JSON.stringify(command)}`);
}

function parseListen(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  const host = colon > 0 ? listen.slice(0, colon).replace(/^\[(.*)\]$/, '$1') : '';
  const portText = listen.slice(colon + 1);
  const port = Number(portText);
  if (host === '' || !/^\d{1,5}$/.test(portText) || port > 65535)
    throw new UsageError(`--listen wants HOST:PORT, got ${JSON.stringify(listen)}`);
  return { host, port };
}

function positiveInt(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!(/^\d+$/.test(text) && Number.isSafeInteger(n) && n > 0))
    throw new UsageError(`${flag} wants a positive integer, got ${JSON.stringify(text)}`);
  return n;
}
