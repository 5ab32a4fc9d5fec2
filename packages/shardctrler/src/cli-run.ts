import { serveUntilStopped } from '@flotilla/rsm';
import { failureLine, type Logger, stderrLogger } from '@flotilla/transport';
import type { Clerk } from './clerk.js';
import {
  type ClerkCommand,
  type CliCommand,
  parseCli,
  type ServeCommand,
  USAGE,
} from './cli-args.js';
import {
  checkLeave,
  checkMove,
  checkQuery,
  type Invalid,
  joinGroups,
  toError,
} from './validate.js';
import { connectClerk, listenShardCtrler } from './ws.js';

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopped: Promise<void>;
  /** Structured logs of `serve` (default: JSON lines on stderr). */
  readonly logger?: Logger;
}

const NAME = 'flotilla-shardctrler';

/** Runs `flotilla-shardctrler`; resolves to the exit code. Errors print one line, never a stack. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv, io.env);
  } catch (err) {
    io.stderr(`${NAME}: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    if (command.command === 'help') {
      io.stdout(USAGE);
      return 0;
    }
    if (command.command === 'serve') return await serve(command, io);
    const invalid = precheck(command);
    if (invalid !== undefined) throw toError(invalid);
    return await withClerk(command, io, (clerk) => clerkCommand(command, clerk, io));
  } catch (err) {
    io.stderr(failureLine(NAME, err));
    return 1;
  }
}

/**
 * One replica until SIGINT/SIGTERM, or exit 1 if its node stops on its own (rsm's
 * `serveUntilStopped`).
 */
async function serve(command: ServeCommand, io: CliIo): Promise<number> {
  const logger = io.logger ?? stderrLogger;
  return serveUntilStopped({
    start: (onFatal) =>
      listenShardCtrler({
        me: command.id,
        peers: command.peers,
        dataDir: command.dataDir,
        ...(command.host === undefined ? {} : { host: command.host }),
        ...(command.port === undefined ? {} : { port: command.port }),
        authToken: command.authToken,
        maxraftstate: command.maxraftstate,
        logger,
        onFatal,
      }),
    stopped: io.stopped,
    logger,
    fields: { id: command.id },
    stdout: io.stdout,
    stderr: io.stderr,
    name: NAME,
  });
}

/** The clerk's own argument checks, made before connecting to anything. */
function precheck(command: ClerkCommand): Invalid | undefined {
  switch (command.command) {
    case 'query':
      return checkQuery(command.num);
    case 'join': {
      const joined = joinGroups(Object.fromEntries(command.groups));
      return 'invalid' in joined ? joined.invalid : undefined;
    }
    case 'leave':
      return checkLeave(command.gids);
    case 'move':
      return checkMove(command.shard, command.gid);
  }
}

async function withClerk(
  command: ClerkCommand,
  io: CliIo,
  body: (clerk: Clerk) => Promise<number>,
): Promise<number> {
  const clerk = connectClerk(command.servers, { authToken: command.authToken });
  // The clerk retries an unreachable cluster forever; Ctrl-C ends it with ClerkClosedError.
  void io.stopped.then(() => clerk.close());
  try {
    return await body(clerk);
  } finally {
    await clerk.close();
  }
}

async function clerkCommand(command: ClerkCommand, clerk: Clerk, io: CliIo): Promise<number> {
  switch (command.command) {
    case 'query':
      io.stdout(JSON.stringify(await clerk.query(command.num)));
      return 0;
    case 'join':
      io.stdout(`config ${await clerk.join(command.groups)}`);
      return 0;
    case 'leave':
      io.stdout(`config ${await clerk.leave(command.gids)}`);
      return 0;
    case 'move':
      io.stdout(`config ${await clerk.move(command.shard, command.gid)}`);
      return 0;
  }
}
