import type { ApplyMsg } from '@flotilla/raft';
import { decodeEntry } from './entry.js';
import { StaleRequestError } from './errors.js';
import { ClientSessions, type Session, type Sessions } from './sessions.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot-codec.js';
import type { StateMachine } from './state-machine.js';

/** The outcome of applying one log entry, for whoever proposed it. */
export type EntryOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly error: Error };

/** What one apply message did. */
export type Applied =
  /** A command or a read-through-log entry at `index` in `term`; `outcome` goes to its proposer. */
  | {
      readonly kind: 'entry';
      readonly index: number;
      readonly term: number;
      readonly outcome: EntryOutcome;
    }
  /** A no-op (a new leader's, or a command rsm did not write): only the index advanced. */
  | { readonly kind: 'skipped'; readonly index: number; readonly term: number }
  /** The state was replaced by a snapshot through `index`. */
  | { readonly kind: 'restored'; readonly index: number };

/**
 * The deterministic part of rsm: Raft's apply stream in, state machine and duplicate table
 * out. It holds no clock and no promises, so it can be driven message by message (the
 * property test does).
 *
 * Invariants: messages come in log order, each index once; after each one, `lastApplied` is
 * its index and the machine and the duplicate table hold exactly the effect of the entries
 * through it.
 */
export class Applier {
  readonly #machine: StateMachine<unknown, unknown, unknown>;
  /** rsm's own table; undefined when the machine keeps its own (`sessionsFor`). */
  readonly #sessions: ClientSessions<unknown> | undefined;
  #lastApplied = 0;

  constructor(machine: StateMachine<unknown, unknown, unknown>) {
    this.#machine = machine;
    this.#sessions = machine.sessionsFor === undefined ? new ClientSessions() : undefined;
  }

  get lastApplied(): number {
    return this.#lastApplied;
  }

  /** Applies one message. Throws what the machine's `apply` or `restore` throws. */
  apply(msg: ApplyMsg): Applied {
    switch (msg.type) {
      case 'snapshot':
        this.restore(msg.snapshot);
        this.#lastApplied = msg.index;
        return { kind: 'restored', index: msg.index };
      case 'noop':
        this.#lastApplied = msg.index;
        return { kind: 'skipped', index: msg.index, term: msg.term };
      case 'command': {
        const entry = decodeEntry(msg.command);
        this.#lastApplied = msg.index;
        const { index, term } = msg;
        if (entry === undefined) return { kind: 'skipped', index, term };
        if (entry.kind === 'read') {
          return { kind: 'entry', index, term, outcome: { ok: true, result: undefined } };
        }
        return { kind: 'entry', index, term, outcome: this.#command(entry.op, entry.session, msg) };
      }
      default: {
        const unreachable: never = msg;
        throw new TypeError(`unknown apply message ${String(unreachable)}`);
      }
    }
  }

  /** The state through `lastApplied`, encoded: the machine's snapshot and rsm's duplicate table. */
  snapshot(): Uint8Array {
    return encodeSnapshot({
      machine: this.#machine.snapshot(),
      sessions: this.#sessions?.toSnapshot() ?? null,
    });
  }

  /** Replaces the machine's state and the duplicate table with a snapshot's. */
  restore(bytes: Uint8Array): void {
    const { machine, sessions } = decodeSnapshot(bytes);
    this.#machine.restore(machine);
    this.#sessions?.restore(sessions ?? []);
  }

  #command(op: unknown, session: Session | undefined, msg: ApplyMsg): EntryOutcome {
    const context = { index: msg.index, term: msg.term, session };
    if (session === undefined) return { ok: true, result: this.#machine.apply(op, context) };
    const sessions: Sessions<unknown> | undefined =
      this.#sessions ?? this.#machine.sessionsFor?.(op);
    if (sessions === undefined) throw new TypeError('the state machine has no duplicate table');
    const check = sessions.check(session);
    switch (check.status) {
      case 'new': {
        const result = this.#machine.apply(op, context);
        sessions.record(session, result);
        return { ok: true, result };
      }
      case 'duplicate':
        return { ok: true, result: check.result };
      case 'stale':
        return {
          ok: false,
          error: new StaleRequestError(session.clientId, session.seq, check.lastSeq),
        };
      default: {
        const unreachable: never = check;
        throw new TypeError(`unknown session check ${String(unreachable)}`);
      }
    }
  }
}
