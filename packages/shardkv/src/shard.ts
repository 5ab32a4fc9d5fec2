import { ClientSessions, type ClientSessionsSnapshot } from '@flotilla/rsm';
import type { Source } from './custody.js';
import type { SessionRow } from './protocol.js';

/**
 * A shard's life in one group (see the README's diagram):
 *
 *     absent ──create──────────────────────────────► serving
 *     absent ──gain──► pulling ──last page──► serving (told: no) ──delete confirmed──► serving
 *     serving ──lose──► handing-off ──new holder has it (DeleteShard)──► absent
 *     handing-off ──owned again before anyone pulled it──► serving
 *
 * - `absent`: not this group's, no data.
 * - `pulling`: this group's in its current configuration; its pages are coming from `source`.
 *   Not served.
 * - `serving`: this group's and present: Get, Put and Append are applied. While `source` is
 *   set, the previous holder still keeps its copy and has yet to be told it may delete it.
 * - `handing-off`: the configuration `handoff` took it from this group; the data waits,
 *   unchanging, until the new holder has all of it. Not served.
 *
 * Every transition happens while a log entry is applied, so each replica of the group makes
 * it at the same index.
 */
export type ShardStatus = 'absent' | 'pulling' | 'serving' | 'handing-off';

/** The result a Put or Append records in its shard's duplicate table. */
export type WriteResult = 'OK';

/** One shard as saved in the group's snapshot. */
export interface ShardSnapshot {
  readonly status: ShardStatus;
  readonly data: readonly (readonly [string, string])[];
  readonly sessions: ClientSessionsSnapshot<WriteResult>;
  readonly source: Source | null;
  readonly handoff: number | null;
  readonly received: number;
}

/** One page of a shard being handed off, and whether it is the last. */
export interface ShardPage {
  readonly data: readonly (readonly [string, string])[];
  readonly sessions: readonly SessionRow[];
  readonly done: boolean;
}

/** Bytes a page item is reckoned at beyond its strings (msgpack array and string headers). */
const ITEM_OVERHEAD_BYTES = 16;

const byKey = ([a]: readonly [string, string], [b]: readonly [string, string]): number =>
  a < b ? -1 : a > b ? 1 : 0;

export class Shard {
  #status: ShardStatus = 'absent';
  readonly data = new Map<string, string>();
  /** The shard's duplicate table: it moves with the shard, so exactly-once holds across moves. */
  readonly sessions = new ClientSessions<WriteResult>();
  #source: Source | undefined;
  #handoff: number | undefined;
  /** `pulling`: page items applied so far (keys, then duplicate-table rows). */
  #received = 0;
  /** `handing-off`: the items in page order, built once (the data no longer changes). */
  #items: { data: [string, string][]; sessions: SessionRow[] } | undefined;

  get status(): ShardStatus {
    return this.#status;
  }

  get source(): Source | undefined {
    return this.#source;
  }

  get handoff(): number | undefined {
    return this.#handoff;
  }

  get received(): number {
    return this.#received;
  }

  /** Gets, Puts and Appends of its keys are applied here. */
  get serves(): boolean {
    return this.#status === 'serving';
  }

  /** Its first owner ever: present, empty. */
  create(): void {
    this.#become('serving');
  }

  /** This group's from now on, held by `source`: fetch it page by page. */
  gain(source: Source): void {
    this.#clear();
    this.#source = source;
    this.#become('pulling');
  }

  /**
   * Applies one page pulled from `source` if it is the next one (`offset === received`), and
   * ends the pull with the last one. A page pulled twice (a resend, a new leader) is ignored.
   */
  receive(handoff: number, offset: number, page: ShardPage): boolean {
    if (this.#status !== 'pulling' || this.#source?.handoff !== handoff) return false;
    if (offset !== this.#received) return false;
    for (const [key, value] of page.data) this.data.set(key, value);
    for (const [clientId, seq] of page.sessions) this.sessions.record({ clientId, seq }, 'OK');
    this.#received += page.data.length + page.sessions.length;
    if (page.done) this.#status = 'serving';
    return true;
  }

  /** The previous holder has deleted its copy (or never had one to keep). */
  released(handoff: number): boolean {
    if (this.#status !== 'serving' || this.#source?.handoff !== handoff) return false;
    this.#source = undefined;
    return true;
  }

  /** Configuration `handoff` took it from this group: keep it, unchanging, for the next holder. */
  lose(handoff: number): void {
    this.#handoff = handoff;
    this.#become('handing-off');
  }

  /** Owned again while still handed off, before anyone pulled it. */
  thaw(): void {
    this.#handoff = undefined;
    this.#become('serving');
  }

  /** The new holder has all of it as of `handoff`: delete this copy. */
  drop(handoff: number): boolean {
    if (this.#status !== 'handing-off' || this.#handoff !== handoff) return false;
    this.#clear();
    this.#status = 'absent';
    return true;
  }

  /**
   * Whether this shard lets its group move to the next configuration: not while it is being
   * pulled, nor while the previous holder is yet to be told, nor while handed off to a group
   * that has yet to pull it (`ownedInConfig`: some group owns it in the current configuration).
   */
  settled(ownedInConfig: boolean): boolean {
    switch (this.#status) {
      case 'absent':
        return true;
      case 'serving':
        return this.#source === undefined;
      case 'pulling':
        return false;
      case 'handing-off':
        return !ownedInConfig;
    }
  }

  /** The page at `offset` of this shard as handed off at `handoff`, or undefined if it is not. */
  page(handoff: number, offset: number, maxBytes: number): ShardPage | undefined {
    if (this.#status !== 'handing-off' || this.#handoff !== handoff) return undefined;
    this.#items ??= {
      data: [...this.data].sort(byKey),
      sessions: this.sessions.toSnapshot().map(([id, seq]) => [id, seq] as const),
    };
    const { data, sessions } = this.#items;
    const total = data.length + sessions.length;
    const pageData: [string, string][] = [];
    const pageSessions: SessionRow[] = [];
    let bytes = 0;
    let i = offset;
    for (; i < total; i++) {
      if (i < data.length) {
        const [key, value] = data[i] as [string, string];
        const size = Buffer.byteLength(key) + Buffer.byteLength(value) + ITEM_OVERHEAD_BYTES;
        if (bytes > 0 && bytes + size > maxBytes) break;
        bytes += size;
        pageData.push([key, value]);
      } else {
        const row = sessions[i - data.length] as SessionRow;
        const size = (typeof row[0] === 'string' ? Buffer.byteLength(row[0]) : 9) + 9 + 4;
        if (bytes > 0 && bytes + size > maxBytes) break;
        bytes += size;
        pageSessions.push(row);
      }
    }
    return { data: pageData, sessions: pageSessions, done: i >= total };
  }

  toSnapshot(): ShardSnapshot {
    return {
      status: this.#status,
      data: [...this.data].sort(byKey),
      sessions: this.sessions.toSnapshot(),
      source: this.#source ?? null,
      handoff: this.#handoff ?? null,
      received: this.#received,
    };
  }

  static fromSnapshot(snapshot: ShardSnapshot): Shard {
    const shard = new Shard();
    shard.#status = snapshot.status;
    for (const [key, value] of snapshot.data) shard.data.set(key, value);
    shard.sessions.restore(snapshot.sessions);
    shard.#source = snapshot.source ?? undefined;
    shard.#handoff = snapshot.handoff ?? undefined;
    shard.#received = snapshot.received;
    return shard;
  }

  #become(status: ShardStatus): void {
    this.#status = status;
    this.#items = undefined;
  }

  #clear(): void {
    this.data.clear();
    this.sessions.restore([]);
    this.#source = undefined;
    this.#handoff = undefined;
    this.#received = 0;
    this.#items = undefined;
  }
}
