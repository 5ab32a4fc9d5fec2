import type { RaftNode } from '@flotilla/raft';
import type { Logger } from '@flotilla/transport';

/** What a replica's `serve` command starts: something with a Raft node, a url and a close. */
export interface ServedHandle {
  readonly url: string;
  readonly server: { readonly raft: RaftNode };
  close(): Promise<void>;
}

export interface ServeUntilStoppedOptions {
  /** Starts the replica; `onFatal` is its rsm's (the node stopped on its own). */
  readonly start: (onFatal: (err: unknown) => void) => Promise<ServedHandle>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopped: Promise<void>;
  readonly logger: Logger;
  /** Fields of every `raft state` line besides term, role and leader (e.g. `{ id }`). */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** The command's name, for the stop line (`flotilla-kvraft`). */
  readonly name: string;
}

/**
 * The `serve` command of an rsm service's CLI: starts the replica, logs `raft state` on every
 * change of term, role or leader, prints `listening <url>`, and runs until the process is told
 * to stop (exit code 0) or the node stops on its own (a failed fsync, a broken invariant: exit
 * 1 at once, its disk state unknown; a supervisor restarts it from its data dir). Either way it
 * closes the replica first.
 */
export async function serveUntilStopped(options: ServeUntilStoppedOptions): Promise<number> {
  let fatal: ((err: unknown) => void) | undefined;
  const failed = new Promise<unknown>((resolve) => {
    fatal = resolve;
  });
  const handle = await options.start((err) => fatal?.(err));
  const { logger, fields } = options;
  handle.server.raft.onStateChange(({ term, role, leaderId }) =>
    logger.info({ ...fields, term, role, leaderId }, 'raft state'),
  );
  options.stdout(`listening ${handle.url}`);
  const outcome = await Promise.race([options.stopped.then(() => undefined), failed]);
  await handle.close();
  if (outcome === undefined) return 0;
  const err = outcome as { code?: string; message?: string };
  options.stderr(
    `${options.name}: replica stopped: ${err.message ?? String(outcome)} [${err.code}]`,
  );
  return 1;
}
