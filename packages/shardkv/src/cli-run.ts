import { type Logger, stderrLogger } from '@flotilla/transport';
import {
  type ClerkCommand,
  type CliCommand,
  parseCli,
  type ServeCommand,
  USAGE,
} from './cli-args.js';
import { ShardKvError } from './errors.js';
import { connectClerk, listenShardKv } from './ws.js';

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopped: Promise<void>;
  /** Structured logs of `serve` (default: JSON lines on stderr). */
  readonly logger?: Logger;
}

/** Runs `flotilla-shardkv`; resolves to the exit code. Errors print one line, never a stack. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv, io.env);
  } catch (err) {
    io.stderr(`flotilla-shardkv: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    switch (command.command) {
      case 'help':
        io.stdout(USAGE);
        return 0;
      case 'serve':
        return await serve(command, io);
      case 'get':
      case 'put':
      case 'append':
        return await clerkCommand(command, io);
      default: {
        const unreachable: never = command;
        throw new TypeError(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  } catch (err) {
    const code = err instanceof ShardKvError ? ` [${err.code}]` : '';
    io.stderr(`flotilla-shardkv: ${(err as Error).message}${code}`);
    return 1;
  }
}

/**
 * One replica until SIGINT/SIGTERM. A node that stops on its own (a failed fsync, a broken
 * invariant) exits 1 at once: its disk state is unknown, and a supervisor restarts it from
 * its data dir.
 */
async function serve(command: ServeCommand, io: CliIo): Promise<number> {
  const logger = io.logger ?? stderrLogger;
  let fatal: ((err: unknown) => void) | undefined;
  const failed = new Promise<unknown>((resolve) => {
    fatal = resolve;
  });
  const handle = await listenShardKv({
    gid: command.gid,
    me: command.id,
    peers: command.peers,
    ctrlers: command.ctrlers,
    dataDir: command.dataDir,
    authToken: command.authToken,
    maxraftstate: command.maxraftstate,
    logger,
    onFatal: (err) => fatal?.(err),
  });
  const { gid, id } = command;
  handle.server.raft.onStateChange(({ term, role, leaderId }) =>
    logger.info({ gid, id, term, role, leaderId }, 'raft state'),
  );
  io.stdout(`listening ${handle.url}`);
  const outcome = await Promise.race([io.stopped.then(() => undefined), failed]);
  await handle.close();
  if (outcome === undefined) return 0;
  const err = outcome as { code?: string; message?: string };
  io.stderr(`flotilla-shardkv: replica stopped: ${err.message ?? String(outcome)} [${err.code}]`);
  return 1;
}

async function clerkCommand(command: ClerkCommand, io: CliIo): Promise<number> {
  const clerk = connectClerk(command.ctrlers, { authToken: command.authToken });
  // The clerk retries an unreachable service forever; Ctrl-C ends it with ClerkClosedError.
  void io.stopped.then(() => clerk.close());
  try {
    if (command.command === 'get') io.stdout(await clerk.get(command.key));
    else if (command.command === 'put') await clerk.put(command.key, command.value);
    else await clerk.append(command.key, command.value);
    return 0;
  } finally {
    await clerk.close();
  }
}
