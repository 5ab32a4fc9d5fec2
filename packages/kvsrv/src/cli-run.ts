import { failureLine, stderrLogger } from '@flotilla/transport';
import { type CliCommand, parseCli, USAGE } from './cli-args.js';
import { connectClerk, listenKvServer } from './ws.js';

export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopped: Promise<void>;
}

/** Runs `flotilla-kvsrv`; resolves to the exit code. Errors print one line, never a stack. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCli(argv, io.env);
  } catch (err) {
    io.stderr(`flotilla-kvsrv: ${(err as Error).message}\n${USAGE}`);
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
    io.stderr(failureLine('flotilla-kvsrv', err));
    return 1;
  }
}

async function serve(
  command: Extract<CliCommand, { command: 'serve' }>,
  io: CliIo,
): Promise<number> {
  const handle = await listenKvServer({
    host: command.host,
    port: command.port,
    authToken: command.authToken,
    maxKeyBytes: command.maxKeyBytes,
    maxValueBytes: command.maxValueBytes,
    logger: stderrLogger,
  });
  io.stdout(`listening ${handle.url}`);
  await io.stopped;
  await handle.close();
  return 0;
}

async function clerkCommand(
  command: Extract<CliCommand, { command: 'get' | 'put' | 'append' }>,
  io: CliIo,
): Promise<number> {
  const clerk = connectClerk(command.server, { authToken: command.authToken });
  // The clerk retries an unreachable server forever; Ctrl-C ends it with ClerkClosedError.
  void io.stopped.then(() => clerk.close());
  try {
    if (command.command === 'get') io.stdout(await clerk.get(command.key));
    else if (command.command === 'put') await clerk.put(command.key, command.value);
    else io.stdout(await clerk.append(command.key, command.value));
    return 0;
  } finally {
    await clerk.close();
  }
}
