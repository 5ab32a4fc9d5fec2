/**
 * Property: under any sequence of controller operations (Join/Leave/Move over gids 1..5,
 * including every group leaving and groups rejoining), with one `ShardKvMachine` per gid
 * applying the same configurations and a synchronous network that moves pages (small ones, so
 * shards travel in several) and releases between them in any order, with clients' writes,
 * retries, replica restarts from snapshots and stale re-proposals interleaved:
 * - every machine's custody is the one `custodyStep` gives for its configuration, and
 *   `checkCustody` holds;
 * - a shard is served by at most one group at a time, only by its owner, and holds exactly what
 *   a plain Map applying the accepted writes holds; a shard nobody serves is kept whole by a
 *   group handing it off (nothing is lost when all groups leave);
 * - a write retried with the same session is never applied twice, wherever its shard moved;
 * - once every delivery happens, every group reaches the latest configuration (no deadlock).
 * `FLOTILLA_SEED=<n>` runs other cases; `SHARDKV_PROPERTY_RUNS=<n>` more of them.
 */
import type { Session } from '@flotilla/rsm';
import { type CtrlerOp, gidsOf, NSHARDS, ShardCtrlerMachine } from '@flotilla/shardctrler';
import { decode, encode, seedFor } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Custody, checkCustody, custodyStep, initialCustody } from '../src/custody.js';
import { key2shard } from '../src/key2shard.js';
import { ShardKvMachine, type ShardKvOp, type ShardKvResult } from '../src/machine.js';

const GIDS = [1, 2, 3, 4, 5];
/** "0".."9" land on ten shards, three keys each ("é" is on "7"'s shard: 0xC3 % 10 = 5). */
const KEYS = [...'0123456789'].flatMap((d) => [d, `${d}a`, `${d}b`]).concat('é');
const CLIENTS = 4;
const seed = seedFor('shardkv custody property');
const numRuns = Number(process.env.SHARDKV_PROPERTY_RUNS ?? 100);

type Write = { readonly op: ShardKvOp & { key: string }; readonly session: Session };

const gid = fc.constantFrom(...GIDS);
const gids = fc.uniqueArray(gid, { minLength: 1, maxLength: 3 });
const pick = fc.nat();
const client = fc.nat(CLIENTS - 1);
const cmd = <T extends string, V>(
  weight: number,
  t: T,
  fields: { [K in keyof V]: fc.Arbitrary<V[K]> },
) => ({ weight, arbitrary: fc.record(fields).map((v) => ({ ...v, t })) });
const cmdArb = fc.oneof(
  cmd(2, 'join', { gids }),
  cmd(1, 'leave', { gids }),
  cmd(1, 'leaveAll', {}),
  cmd(1, 'move', { shard: fc.nat(NSHARDS - 1), gid }),
  cmd(4, 'config', { g: gid }),
  cmd(4, 'pull', { g: gid, pick, maxBytes: fc.integer({ min: 1, max: 60 }) }),
  cmd(3, 'release', { g: gid, pick, lost: fc.boolean() }),
  cmd(10, 'write', { c: client, key: fc.constantFrom(...KEYS), put: fc.boolean(), from: pick }),
  cmd(2, 'retry', { c: client }),
  cmd(2, 'catchup', { pick }),
  cmd(1, 'restart', { g: gid }),
  cmd(1, 'replay', { g: gid, pick }),
);
type Cmd = typeof cmdArb extends fc.Arbitrary<infer C> ? C : never;

const wire = <T>(x: T): T => decode(encode(x)) as T;
const sorted = (data: Map<string, string>): [string, string][] => [...data].sort();
const sameData = (a: [string, string][], b: [string, string][]): boolean =>
  a.length === b.length && a.every(([k, v], i) => b[i]?.[0] === k && b[i]?.[1] === v);
/** Holder by holder; an absent one is undefined or null alike (msgpack makes one the other). */
const sameCustody = (a: Custody, b: Custody): boolean =>
  a.every((x, i) => {
    const y = b[i];
    if (x == null || y == null) return x == null && y == null;
    return x.gid === y.gid && x.handoff === y.handoff && x.servers.join() === y.servers.join();
  });
/** A cheap assertion for the hot paths: `expect` is slow in loops this large. */
function ok(cond: boolean, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

class World {
  readonly ctrler = new ShardCtrlerMachine();
  readonly machines = new Map(GIDS.map((g) => [g, new ShardKvMachine(g)]));
  /** Each group's own steps that were taken, to propose again later (a stale leader's). */
  readonly own = new Map<number, ShardKvOp[]>(GIDS.map((g) => [g, []]));
  /** custody[num]: the custody after configuration num, as custodyStep computes it. */
  readonly custody: Custody[] = [initialCustody()];
  readonly model = new Map<string, string>();
  readonly applied = new Set<string>();
  readonly clients = Array.from({ length: CLIENTS }, () => ({
    seq: 0,
    last: undefined as Write | undefined,
    done: true,
  }));

  m(g: number): ShardKvMachine {
    return this.machines.get(g) as ShardKvMachine;
  }

  ctrl(op: CtrlerOp): void {
    const result = this.ctrler.apply(op);
    if (!result.ok) return;
    const prev = this.custody[result.num - 1] as Custody;
    this.custody.push(custodyStep(prev, this.ctrler.query(result.num)).custody);
  }

  /** A group's own step, through the log (msgpack), as the reconfigurer proposes it. */
  step(g: number, op: ShardKvOp): ShardKvResult {
    const result = this.m(g).apply(wire(op));
    if (result === 'OK') this.own.get(g)?.push(op);
    return result;
  }

  /** What rsm's Applier does with a clerk's write: the shard's duplicate table first. */
  submit(g: number, { op, session }: Write): ShardKvResult | 'stale' {
    const m = this.m(g);
    const serves = m.shard(key2shard(op.key)).serves;
    const table = m.sessionsFor(op);
    const check = table.check(session);
    if (check.status === 'stale') return 'stale';
    if (check.status === 'duplicate') {
      ok(serves, `a duplicate found at group ${g}, which does not serve ${op.key}`);
      return check.result;
    }
    const result = m.apply(wire(op));
    table.record(session, result);
    ok(result === (serves ? 'OK' : 'ErrWrongGroup'), `write at group ${g}: ${result}`);
    if (result === 'OK') {
      const id = `${session.clientId}:${session.seq}`;
      ok(!this.applied.has(id), `write ${id} applied twice`);
      this.applied.add(id);
      const before = op.type === 'Append' ? (this.model.get(op.key) ?? '') : '';
      this.model.set(op.key, before + (op as { value: string }).value);
    }
    return result;
  }

  /** A clerk sends its pending write (or a new one) to the owner in the latest configuration. */
  write(c: number, key: string, put: boolean, from = 0): void {
    const client = this.clients[c] as (typeof this.clients)[number];
    if (client.done) {
      client.seq++;
      const value = `${c}.${client.seq};`;
      const op = { type: put ? ('Put' as const) : ('Append' as const), key, value };
      client.last = { op, session: { clientId: c, seq: client.seq } };
      client.done = false;
    }
    // The owner in the latest configuration first, then every group in turn (the clerk
    // retrying on ErrWrongGroup), until one takes it.
    const last = client.last as Write;
    const owner = this.ctrler.query(-1).shards[key2shard(last.op.key)] as number;
    const at = from % GIDS.length;
    for (const g of [owner, ...GIDS.slice(at), ...GIDS.slice(0, at)]) {
      if (g === 0) continue;
      const result = this.submit(g, last);
      ok(result !== 'stale', `write ${c}:${client.seq} stale`);
      if (result === 'OK') {
        client.done = true;
        return;
      }
    }
  }

  pull(g: number, which: number, maxBytes: number): boolean {
    const pulls = this.m(g).pulls();
    if (pulls.length === 0) return false;
    const { shard, source, offset } = pulls[which % pulls.length] as (typeof pulls)[number];
    const page = this.m(source.gid).page(shard, source.handoff, offset, maxBytes);
    if (page === undefined) return false; // ErrNotReady: the holder is not there yet
    const op = { type: 'Pulled' as const, shard, handoff: source.handoff, offset, ...wire(page) };
    ok(this.step(g, op) === 'OK', `page of shard ${shard} refused by group ${g}`);
    return true;
  }

  /** The puller tells the holder (DeleteShard: Drop if still held), then records Released. */
  release(g: number, which: number, lost: boolean): boolean {
    const releases = this.m(g).releases();
    if (releases.length === 0) return false;
    const { shard, source } = releases[which % releases.length] as (typeof releases)[number];
    const held = this.m(source.gid).shard(shard);
    if (held.status === 'handing-off' && held.handoff === source.handoff) {
      const dropped = this.step(source.gid, { type: 'Drop', shard, handoff: source.handoff });
      ok(dropped === 'OK', `Drop of shard ${shard} refused by group ${source.gid}`);
    }
    if (lost) return true; // the reply is lost: told again later, answered OK at once
    const released = this.step(g, { type: 'Released', shard, handoff: source.handoff });
    ok(released === 'OK', `Released of shard ${shard} refused by group ${g}`);
    return true;
  }

  config(g: number): boolean {
    const m = this.m(g);
    if (m.config.num >= this.ctrler.latestNum) return false;
    const settled = m.settled;
    const result = this.step(g, { type: 'Config', config: this.ctrler.query(m.config.num + 1) });
    ok(
      result === (settled ? 'OK' : 'ignored'),
      `group ${g} settled: ${settled}, Config: ${result}`,
    );
    return result === 'OK';
  }

  restart(g: number): void {
    const bytes = encode(this.m(g).snapshot());
    const fresh = new ShardKvMachine(g);
    fresh.restore(decode(bytes) as ReturnType<ShardKvMachine['snapshot']>);
    expect(encode(fresh.snapshot()).equals(bytes)).toBe(true);
    this.machines.set(g, fresh);
  }

  /** Each group in turn pulls all it can, tells all it can, and takes the next config. */
  round(pick: number): boolean {
    let progress = false;
    for (const g of GIDS) {
      while (this.pull(g, pick, 40)) progress = true;
      while (this.release(g, pick, false)) progress = true;
      if (this.config(g)) progress = true;
    }
    return progress;
  }

  /** Every delivery happens until nothing moves; then all are at the latest, settled. */
  quiesce(): void {
    for (let rounds = 0; this.round(0); rounds++) {
      ok(rounds < 500, 'groups deadlocked');
      this.check();
    }
    for (const m of this.machines.values()) {
      expect(m.config.num).toBe(this.ctrler.latestNum);
      expect(m.settled).toBe(true);
    }
  }

  check(): void {
    const servers = new Array<number>(NSHARDS).fill(0);
    for (const [g, m] of this.machines) {
      const custody = m.snapshot().custody;
      checkCustody(custody, m.config);
      const expected = this.custody[m.config.num] as Custody;
      ok(sameCustody(custody, expected), `group ${g} custody at ${m.config.num} differs`);
      for (let s = 0; s < NSHARDS; s++) {
        const { status, serves } = m.shard(s);
        const owned = m.config.shards[s] === g;
        const allowed = owned ? ['pulling', 'serving'] : ['absent', 'handing-off'];
        ok(allowed.includes(status), `group ${g} shard ${s}: ${status}, owned: ${owned}`);
        if (serves) {
          servers[s] = (servers[s] as number) + 1;
          ok(
            sameData(sorted(m.shard(s).data), this.modelOf(s)),
            `group ${g} serves shard ${s} wrong`,
          );
        }
      }
    }
    for (let s = 0; s < NSHARDS; s++) {
      ok((servers[s] as number) <= 1, `shard ${s} served by two groups`);
      const data = this.modelOf(s);
      if (servers[s] === 0 && data.length > 0) {
        const kept = [...this.machines.values()].some(
          (m) => m.shard(s).status === 'handing-off' && sameData(sorted(m.shard(s).data), data),
        );
        ok(kept, `shard ${s} lost`);
      }
    }
  }

  modelOf(s: number): [string, string][] {
    return [...this.model].filter(([k]) => key2shard(k) === s).sort();
  }

  run(cmd: Cmd): void {
    switch (cmd.t) {
      case 'join':
        this.ctrl({ type: 'Join', groups: cmd.gids.map((g) => [g, [`s${g}a`, `s${g}b`]]) });
        break;
      case 'leave':
        this.ctrl({ type: 'Leave', gids: cmd.gids });
        break;
      case 'leaveAll': {
        const present = gidsOf(this.ctrler.query(-1));
        if (present.length > 0) this.ctrl({ type: 'Leave', gids: present });
        break;
      }
      case 'move':
        this.ctrl({ type: 'Move', shard: cmd.shard, gid: cmd.gid });
        break;
      case 'config':
        this.config(cmd.g);
        break;
      case 'pull':
        this.pull(cmd.g, cmd.pick, cmd.maxBytes);
        break;
      case 'release':
        this.release(cmd.g, cmd.pick, cmd.lost);
        break;
      case 'write':
        this.write(cmd.c, cmd.key, cmd.put, cmd.from);
        break;
      case 'retry': {
        // The reply was lost: the clerk sends it again, to every group.
        const last = this.clients[cmd.c]?.last;
        for (const g of GIDS) if (last !== undefined) ok(this.submit(g, last) !== 'stale', 'stale');
        break;
      }
      case 'catchup':
        this.round(cmd.pick);
        break;
      case 'restart':
        this.restart(cmd.g);
        break;
      case 'replay': {
        // A step proposed again (a resend, a stale leader): taken already, so ignored.
        const ops = this.own.get(cmd.g) as ShardKvOp[];
        const op = ops[cmd.pick % Math.max(1, ops.length)];
        if (op !== undefined) ok(this.step(cmd.g, op) === 'ignored', `${op.type} taken twice`);
        break;
      }
    }
  }

  /** Every group joins; every pending write gets through; every key reads back as the model. */
  finish(): void {
    const missing = GIDS.filter((g) => !gidsOf(this.ctrler.query(-1)).includes(g));
    if (missing.length > 0) this.run({ t: 'join', gids: missing });
    this.quiesce();
    this.clients.forEach((client, c) => {
      if (!client.done) this.write(c, '', true);
      expect(client.done).toBe(true);
    });
    const latest = this.ctrler.query(-1);
    for (const key of KEYS) {
      const value = this.model.get(key);
      const got = this.m(latest.shards[key2shard(key)] as number).get(key);
      expect(got).toEqual(value === undefined ? { err: 'ErrNoKey' } : { err: 'OK', value });
    }
  }
}

describe('shard custody across groups (property)', () => {
  it('keeps every write exactly once, one server per shard, and no group stuck', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { minLength: 10, maxLength: 80, size: 'max' }), (cmds) => {
        const world = new World();
        for (const cmd of cmds) {
          world.run(cmd);
          world.check();
        }
        world.finish();
        // All groups leave, then some come back: nothing is lost in between.
        world.run({ t: 'leaveAll' });
        world.quiesce();
        world.run({ t: 'join', gids: [3, 5] });
        world.finish();
      }),
      { seed, numRuns },
    );
  }, 60_000);
});
