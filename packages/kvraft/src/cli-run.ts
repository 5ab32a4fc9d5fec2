import { serveUntilStopped } from '@flotilla/rsm';
import { failureLine, type Logger, stderrLogger } from '@flotilla/transport';
import type { Clerk } from './clerk.js';
import {
  type BenchCommand,
  type ClerkCommand,
  type CliCommand,
  parseCli,
  type ServeCommand,
  USAGE,
} from './cli-args.js';
import { formatLoad, runLoad } from './load.js';
import { connectClerk, listenKvServer } from './ws.js';

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopped: Promise<void>;
  /** Structured logs of `serve` (default: JSON lines on stderr). */
  readonly logger?: Logger;
}

/** Runs `flotilla-kvraft`; resolves to the exit code. Errors print one line, never a stack. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv, io.env);
  } catch (err) {
    io.stderr(`flotilla-kvraft: ${(err as Error).message}\n${USAGE}`);
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
        return await withClerks(command, 1, io, (clerks) =>
          clerkCommand(command, clerks[0] as Clerk, io),
        );
      case 'bench':
        return await withClerks(command, command.clients, io, (clerks) =>
          bench(command, clerks, io),
        );
      default: {
        const unreachable: never = command;
        throw new TypeError(`unknown command ${JSON.stringify(unreachable)}`);
      }
    }
  } catch (err) {
    io.stderr(failureLine('flotilla-kvraft', err));
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
      listenKvServer({
        me: command.id,
        peers: command.peers,
        dataDir: command.dataDir,
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
    name: 'flotilla-kvraft',
  });
}

async function withClerks(
  command: ClerkCommand | BenchCommand,
  count: number,
  io: CliIo,
  body: (clerks: readonly Clerk[]) => Promise<number>,
): Promise<number> {
  const clerks = Array.from({ length: count }, () =>
    connectClerk(command.servers, { authToken: command.authToken }),
  );
  // The clerks retry an unreachable cluster forever; Ctrl-C ends them with ClerkClosedError.
  void io.stopped.then(() => Promise.all(clerks.map((clerk) => clerk.close())));
  try {
    return await body(clerks);
  } finally {
    await Promise.all(clerks.map((clerk) => clerk.close()));
  }
}

async function clerkCommand(command: ClerkCommand, clerk: Clerk, io: CliIo): Promise<number> {
  if (command.command === 'get') io.stdout(await clerk.get(command.key));
  else if (command.command === 'put') await clerk.put(command.key, command.value);
  else await clerk.append(command.key, command.value);
  return 0;
}

async function bench(command: BenchCommand, clerks: readonly Clerk[], io: CliIo): Promise<number> {
  const report = await runLoad(clerks, command);
  io.stdout(command.json ? JSON.stringify(report) : formatLoad(report));
  return report.errors === 0 ? 0 : 1;
}
