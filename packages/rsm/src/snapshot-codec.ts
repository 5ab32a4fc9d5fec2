import { decode, encode } from './codec.js';
import type { ClientSessionsSnapshot } from './sessions.js';

/** Bumped if the layout below ever changes, so an old snapshot is refused, not misread. */
const FORMAT = 1;

/** What an rsm snapshot holds: the machine's snapshot, and rsm's duplicate table if it keeps one. */
export interface RsmSnapshot {
  readonly machine: unknown;
  /** Null when the machine keeps its own tables (`sessionsFor`). */
  readonly sessions: ClientSessionsSnapshot<unknown> | null;
}

/** Snapshot bytes are `[FORMAT, machine, sessions]`. */
export function encodeSnapshot(snapshot: RsmSnapshot): Uint8Array {
  return encode([FORMAT, snapshot.machine, snapshot.sessions]);
}

/** Throws on bytes rsm did not write: restoring from them would diverge from the other replicas. */
export function decodeSnapshot(bytes: Uint8Array): RsmSnapshot {
  const value: unknown = decode(bytes);
  if (!Array.isArray(value) || value.length !== 3 || value[0] !== FORMAT) {
    throw new TypeError('not an rsm snapshot (unknown format)');
  }
  const sessions: unknown = value[2];
  if (sessions !== null && !Array.isArray(sessions)) {
    throw new TypeError('not an rsm snapshot (bad duplicate table)');
  }
  return { machine: value[1], sessions: sessions as ClientSessionsSnapshot<unknown> | null };
}
