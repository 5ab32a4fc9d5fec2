import { encode } from './codec.js';
import { isSession, type Session } from './sessions.js';

/**
 * What rsm writes into the Raft log. Entries are tuples, not objects, because the log's size
 * is what `maxraftstate` bounds: `[1, op]`, `[1, op, clientId, seq]`, or `[2]` for a read sent
 * through the log (`reads: 'log'`).
 */
const COMMAND = 1;
const READ = 2;

export type Entry =
  | { readonly kind: 'command'; readonly op: unknown; readonly session: Session | undefined }
  | { readonly kind: 'read' };

export function commandEntry(op: unknown, session: Session | undefined): unknown {
  return session === undefined ? [COMMAND, op] : [COMMAND, op, session.clientId, session.seq];
}

/**
 * Why `entry` cannot go into the log, or undefined if it can. Raft encodes each entry with
 * msgpack when it persists it; one that does not encode (a symbol, a BigInt beyond 64 bits,
 * a cycle) would fail that save and stop the node, so it is refused before it is proposed.
 */
export function unencodable(entry: unknown): string | undefined {
  try {
    encode(entry);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function readEntry(): unknown {
  return [READ];
}

/**
 * The entry a Raft command holds, or undefined for one rsm did not write (someone called
 * `raft.start` directly). Every replica decodes the same bytes the same way, so skipping an
 * unknown entry keeps replicas identical.
 */
export function decodeEntry(command: unknown): Entry | undefined {
  if (!Array.isArray(command)) return undefined;
  if (command[0] === READ && command.length === 1) return { kind: 'read' };
  if (command[0] !== COMMAND) return undefined;
  if (command.length === 2) return { kind: 'command', op: command[1], session: undefined };
  const session = { clientId: command[2], seq: command[3] };
  if (command.length !== 4 || !isSession(session)) return undefined;
  return { kind: 'command', op: command[1], session };
}
