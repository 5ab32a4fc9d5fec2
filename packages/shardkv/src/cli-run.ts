import { serveUntilStopped } from '@flotilla/rsm';
import { failureLine, type Logger, stderrLogger } from '@flotilla/transport';
import {
  type ClerkCommand,
  type CliCommand,
  parseCli,
  type ServeCommand,
  USAGE,
} from './cli-args.js';
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
    io.stderr(failureLine('flotilla-shardkv', err));
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
      listenShardKv({
        gid: command.gid,
        me: command.id,
        peers: command.peers,
        ctrlers: command.ctrlers,
        dataDir: command.dataDir,
        authToken: command.authToken,
        maxraftstate: command.maxraftstate,
        logger,
        onFatal,
      }),
    stopped: io.stopped,
    logger,
    fields: { gid: command.gid, id: command.id },
    stdout: io.stdout,
    stderr: io.stderr,
    name: 'flotilla-shardkv',
  });
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
