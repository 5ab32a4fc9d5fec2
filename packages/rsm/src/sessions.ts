/** A client's identity in the duplicate table: a number (the labs' int64) or a string. */
export type ClientId = number | string;

/**
 * Who sent an op and which of that client's ops it is. A client numbers its ops 1, 2, 3, …
 * and keeps one in flight, retrying it with the same `seq` until it gets an answer; so an op
 * numbered `seq` also says that the client has seen the answers to every earlier one.
 */
export interface Session {
  readonly clientId: ClientId;
  readonly seq: number;
}

/** What the duplicate table knows of an op's session when its entry is applied. */
export type SessionCheck<Result> =
  /** Not applied yet: apply it, then `record` its result. */
  | { readonly status: 'new' }
  /** The client's latest op, already applied: answer `result` again, apply nothing. */
  | { readonly status: 'duplicate'; readonly result: Result }
  /** Older than the client's latest op: its result is gone; apply nothing. */
  | { readonly status: 'stale'; readonly lastSeq: number };

/**
 * A duplicate table: consulted and updated only while an entry is applied, so every replica
 * holds the same table at the same index. It is replicated state: it must be saved in the
 * snapshot along with what it guards (rsm does that for its default table; a machine that
 * keeps its own, through `StateMachine.sessionsFor`, saves them in its own snapshot).
 */
export interface Sessions<Result> {
  check(session: Session): SessionCheck<Result>;
  /** `session`'s op was applied with `result`. */
  record(session: Session, result: Result): void;
}

/** A `ClientSessions` table as saved in a snapshot: `[clientId, seq, result]`, ordered by clientId. */
export type ClientSessionsSnapshot<Result> = readonly (readonly [ClientId, number, Result])[];

/**
 * The default duplicate table: per client, the latest `seq` applied and its result (the labs'
 * table). Memory is one entry per client that ever wrote; a client cannot be told apart from
 * one that is merely slow, so entries are never dropped.
 *
 * Invariant: `toSnapshot()` is a function of the table's contents alone (ordered by
 * clientId: numbers ascending, then strings by code unit), never of the order clients
 * arrived in, so replicas that restored at different points still save identical bytes.
 */
export class ClientSessions<Result> implements Sessions<Result> {
  readonly #latest = new Map<ClientId, { seq: number; result: Result }>();

  check(session: Session): SessionCheck<Result> {
    const latest = this.#latest.get(session.clientId);
    if (latest === undefined || session.seq > latest.seq) return { status: 'new' };
    if (session.seq === latest.seq) return { status: 'duplicate', result: latest.result };
    return { status: 'stale', lastSeq: latest.seq };
  }

  record(session: Session, result: Result): void {
    this.#latest.set(session.clientId, { seq: session.seq, result });
  }

  /** The latest seq applied for `clientId`, or 0. */
  lastSeq(clientId: ClientId): number {
    return this.#latest.get(clientId)?.seq ?? 0;
  }

  /** Clients in the table. */
  get size(): number {
    return this.#latest.size;
  }

  toSnapshot(): ClientSessionsSnapshot<Result> {
    const ids = [...this.#latest.keys()].sort(compareClientIds);
    return ids.map((id) => {
      const { seq, result } = this.#latest.get(id) as { seq: number; result: Result };
      return [id, seq, result] as const;
    });
  }

  /** Replaces the table with a saved one. */
  restore(snapshot: ClientSessionsSnapshot<Result>): void {
    this.#latest.clear();
    for (const [clientId, seq, result] of snapshot) this.#latest.set(clientId, { seq, result });
  }

  static fromSnapshot<Result>(snapshot: ClientSessionsSnapshot<Result>): ClientSessions<Result> {
    const sessions = new ClientSessions<Result>();
    sessions.restore(snapshot);
    return sessions;
  }
}

/** A total order on client ids that does not depend on the runtime: numbers first, then strings. */
export function compareClientIds(a: ClientId, b: ClientId): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether `value` is a session rsm can key a table with. */
export function isSession(value: unknown): value is Session {
  if (typeof value !== 'object' || value === null) return false;
  const { clientId, seq } = value as { clientId?: unknown; seq?: unknown };
  const idOk =
    (typeof clientId === 'number' && Number.isSafeInteger(clientId)) ||
    typeof clientId === 'string';
  return idOk && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1;
}
