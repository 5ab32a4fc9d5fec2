/**
 * One group's state machine (`ShardKvMachine`) driven op by op: which Config ops it takes,
 * what it answers for keys it does not serve (and that such writes leave no session behind), a
 * shard's move between two groups through its ops, all groups leaving and one coming back, and
 * snapshots that round-trip through msgpack to the same bytes and the same behaviour.
 */
import { type Config, type CtrlerOp, ShardCtrlerMachine } from '@flotilla/shardctrler';
import { decode, encode } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import type { Source } from '../src/custody.js';
import { key2shard } from '../src/key2shard.js';
import { ShardKvMachine, type ShardKvOp, type ShardKvSnapshot } from '../src/machine.js';

/** The controller's configurations 0..n for `ops`, in order. */
function configs(...ops: CtrlerOp[]): Config[] {
  const ctrler = new ShardCtrlerMachine();
  for (const op of ops) expect(ctrler.apply(op).ok).toBe(true);
  return Array.from({ length: ctrler.latestNum + 1 }, (_, num) => ctrler.query(num));
}

const join = (...gids: number[]): CtrlerOp => ({
  type: 'Join',
  groups: gids.map((gid) => [gid, [`s${gid}a`, `s${gid}b`]]),
});
const leave = (...gids: number[]): CtrlerOp => ({ type: 'Leave', gids });
const configOp = (config: Config): ShardKvOp => ({ type: 'Config', config });
const put = (key: string, value: string): ShardKvOp => ({ type: 'Put', key, value });
const append = (key: string, value: string): ShardKvOp => ({ type: 'Append', key, value });
/** Keys "0".."9": one per shard. */
const TEN = [...'0123456789'];

/** Moves every shard `to` pulls from `from`, page by page (`maxBytes`), then releases it. */
function transfer(from: ShardKvMachine, to: ShardKvMachine, maxBytes = 1): void {
  for (const { shard, source } of to.pulls()) {
    expect(source.gid).toBe(from.gid);
    for (let offset = to.shard(shard).received; to.shard(shard).status === 'pulling'; ) {
      const page = from.page(shard, source.handoff, offset, maxBytes);
      if (page === undefined) throw new Error(`shard ${shard} not handed off by ${from.gid}`);
      const op: ShardKvOp = { type: 'Pulled', shard, handoff: source.handoff, offset, ...page };
      expect(to.apply(op)).toBe('OK');
      expect(to.apply(op)).toBe('ignored'); // a resend
      offset += page.data.length + page.sessions.length;
    }
  }
  for (const { shard, source } of to.releases()) {
    expect(from.apply({ type: 'Drop', shard, handoff: source.handoff })).toBe('OK');
    expect(from.apply({ type: 'Drop', shard, handoff: source.handoff })).toBe('ignored');
    expect(to.apply({ type: 'Released', shard, handoff: source.handoff })).toBe('OK');
    expect(to.apply({ type: 'Released', shard, handoff: source.handoff })).toBe('ignored');
  }
}

describe('ShardKvMachine: configurations', () => {
  it('starts at config 0, serving nothing, settled', () => {
    const m = new ShardKvMachine(1);
    expect(m.config.num).toBe(0);
    expect(m.settled).toBe(true);
    expect(m.pulls()).toEqual([]);
    expect(m.releases()).toEqual([]);
    expect(m.get('a')).toEqual({ err: 'ErrWrongGroup' });
    expect(m.apply(put('a', '1'))).toBe('ErrWrongGroup');
  });

  it('takes only the next configuration: not one it has, nor one past it', () => {
    const [, c1, c2] = configs(join(1), join(2)) as Config[];
    const m = new ShardKvMachine(1);
    expect(m.apply(configOp(c2 as Config))).toBe('ignored');
    expect(m.apply(configOp({ ...(c1 as Config), num: 0 }))).toBe('ignored');
    expect(m.config.num).toBe(0);
    expect(m.apply(configOp(c1 as Config))).toBe('OK');
    expect(m.apply(configOp(c1 as Config))).toBe('ignored');
    expect(m.config).toEqual(c1);
    for (const key of TEN) expect(m.get(key)).toEqual({ err: 'ErrNoKey' });
  });

  it('takes no configuration while unsettled: pulling, handing off to an owner, or yet to tell', () => {
    const [, c1, c2, c3] = configs(join(1), join(2), leave(1)) as Config[];
    const m1 = new ShardKvMachine(1);
    const m2 = new ShardKvMachine(2);
    for (const m of [m1, m2]) m.apply(configOp(c1 as Config));
    for (const key of TEN) m1.apply(put(key, `v${key}`));
    for (const m of [m1, m2]) expect(m.apply(configOp(c2 as Config))).toBe('OK');

    const gained = (c2 as Config).shards.flatMap((g, s) => (g === 2 ? [s] : []));
    expect(gained).toHaveLength(5);
    expect(m2.pulls()).toEqual(
      gained.map((shard) => ({
        shard,
        source: { gid: 1, servers: ['s1a', 's1b'], handoff: 2 },
        offset: 0,
      })),
    );
    for (const shard of gained) expect(m1.shard(shard).status).toBe('handing-off');
    for (const m of [m1, m2]) {
      expect(m.settled).toBe(false);
      expect(m.apply(configOp(c3 as Config))).toBe('ignored');
    }

    transfer(m1, m2);
    for (const m of [m1, m2]) {
      expect(m.settled).toBe(true);
      expect(m.apply(configOp(c3 as Config))).toBe('OK');
    }
    transfer(m1, m2); // group 1 left: group 2 now has it all
    for (const key of TEN) {
      expect(m2.get(key)).toEqual({ err: 'OK', value: `v${key}` });
      expect(m1.get(key)).toEqual({ err: 'ErrWrongGroup' });
    }
    for (let s = 0; s < 10; s++) expect(m1.shard(s).status).toBe('absent');
  });

  it('keeps shards when every group leaves, and serves them again when the holder returns', () => {
    const [, c1, c2, c3] = configs(join(1), leave(1), join(1)) as Config[];
    const m = new ShardKvMachine(1);
    m.apply(configOp(c1 as Config));
    m.apply(put('3', 'x'));
    m.apply(configOp(c2 as Config));
    expect(m.shard(key2shard('3')).status).toBe('handing-off');
    expect(m.shard(key2shard('3')).handoff).toBe(2);
    expect(m.settled).toBe(true); // nobody owns them: nobody will pull
    expect(m.get('3')).toEqual({ err: 'ErrWrongGroup' });
    expect(m.apply(append('3', 'y'))).toBe('ErrWrongGroup');
    expect(m.apply(configOp(c3 as Config))).toBe('OK');
    expect(m.pulls()).toEqual([]);
    expect(m.get('3')).toEqual({ err: 'OK', value: 'x' });
    expect(m.apply(append('3', 'y'))).toBe('OK');
    expect(m.get('3')).toEqual({ err: 'OK', value: 'xy' });
  });

  it('hands a frozen shard to a group that joins after everyone left', () => {
    const [, c1, c2, c3] = configs(join(1), leave(1), join(2)) as Config[];
    const m1 = new ShardKvMachine(1);
    const m2 = new ShardKvMachine(2);
    m1.apply(configOp(c1 as Config));
    m1.apply(put('5', 'kept'));
    m1.apply(configOp(c2 as Config));
    expect(m1.apply(put('6', 'late'))).toBe('ErrWrongGroup'); // frozen at config 2
    expect(m1.apply(configOp(c3 as Config))).toBe('OK');
    expect(m1.settled).toBe(false); // group 2 owns them now and has yet to pull
    for (const c of [c1, c2, c3] as Config[]) expect(m2.apply(configOp(c))).toBe('OK');
    const pulls = m2.pulls();
    expect(pulls).toHaveLength(10);
    expect(pulls.every(({ source }) => source.gid === 1 && source.handoff === 2)).toBe(true);
    transfer(m1, m2, 1000);
    expect(m2.get('5')).toEqual({ err: 'OK', value: 'kept' });
    expect(m2.get('6')).toEqual({ err: 'ErrNoKey' });
    expect(m1.settled && m2.settled).toBe(true);
  });
});

describe('ShardKvMachine: writes and duplicate tables', () => {
  it('a write of a shard it does not serve: ErrWrongGroup, and a table that keeps nothing', () => {
    const m = new ShardKvMachine(1);
    const op = put('a', '1');
    const table = m.sessionsFor(op);
    expect(table.check({ clientId: 1, seq: 1 })).toEqual({ status: 'new' });
    expect(m.apply(op)).toBe('ErrWrongGroup');
    table.record({ clientId: 1, seq: 1 }, 'ErrWrongGroup');
    expect(table.check({ clientId: 1, seq: 1 })).toEqual({ status: 'new' });
    expect(
      m.sessionsFor({ type: 'Drop', shard: 0, handoff: 1 }).check({ clientId: 1, seq: 1 }),
    ).toEqual({ status: 'new' });
  });

  it("a write of a served shard is checked against that shard's own table", () => {
    const [, c1] = configs(join(1)) as Config[];
    const m = new ShardKvMachine(1);
    m.apply(configOp(c1 as Config));
    const op = append('7', 'x');
    expect(m.sessionsFor(op)).toBe(m.shard(key2shard('7')).sessions);
    m.sessionsFor(op).record({ clientId: 4, seq: 2 }, m.apply(op));
    expect(m.sessionsFor(append('7b', 'y')).check({ clientId: 4, seq: 2 }).status).toBe(
      'duplicate',
    );
    expect(m.sessionsFor(append('8', 'y')).check({ clientId: 4, seq: 2 }).status).toBe('new');
  });

  it('a write retried after its shard moved is found in the table that moved with it', () => {
    const [, c1, c2] = configs(join(1), join(2)) as Config[];
    const m1 = new ShardKvMachine(1);
    const m2 = new ShardKvMachine(2);
    /** rsm's Applier: the key's table first, then apply and record if new. */
    const submit = (m: ShardKvMachine, op: ShardKvOp, seq: number) => {
      const table = m.sessionsFor(op);
      const check = table.check({ clientId: 8, seq });
      if (check.status !== 'new') return check;
      const result = m.apply(op);
      table.record({ clientId: 8, seq }, result);
      return { status: 'new', result };
    };
    for (const m of [m1, m2]) m.apply(configOp(c1 as Config));
    const op = append('9', 'once;'); // shard 7: group 2's from config 2
    expect(submit(m2, op, 1)).toEqual({ status: 'new', result: 'ErrWrongGroup' });
    expect(submit(m1, op, 1)).toEqual({ status: 'new', result: 'OK' }); // its reply is lost
    for (const m of [m1, m2]) m.apply(configOp(c2 as Config));
    expect(submit(m1, op, 1)).toEqual({ status: 'new', result: 'ErrWrongGroup' });
    transfer(m1, m2, 1);
    expect(submit(m2, op, 1)).toEqual({ status: 'duplicate', result: 'OK' });
    expect(m2.get('9')).toEqual({ err: 'OK', value: 'once;' });
    expect(submit(m2, op, 2)).toEqual({ status: 'new', result: 'OK' });
    expect(m2.get('9')).toEqual({ err: 'OK', value: 'once;once;' });
  });

  it('rejects an unknown op', () => {
    const m = new ShardKvMachine(1);
    expect(() => m.apply({ type: 'Get' } as unknown as ShardKvOp)).toThrow(TypeError);
  });
});

describe('ShardKvMachine: snapshots', () => {
  /** Two groups mid-move: group 2 has some pages of its shards, group 1 is handing off. */
  function midMove(): { m1: ShardKvMachine; m2: ShardKvMachine; rest: ShardKvOp[] } {
    const [, c1, c2, c3] = configs(join(1), join(2), leave(1)) as Config[];
    const m1 = new ShardKvMachine(1);
    const m2 = new ShardKvMachine(2);
    for (const m of [m1, m2]) m.apply(configOp(c1 as Config));
    for (const key of [...TEN, '0a', '0b']) m1.apply(put(key, `value of ${key}`));
    m1.shard(key2shard('0')).sessions.record({ clientId: 'c', seq: 3 }, 'OK');
    for (const m of [m1, m2]) m.apply(configOp(c2 as Config));
    const shard = key2shard('0'); // three keys and a row: four pages of one item
    const { source } = m2.pulls().find((p) => p.shard === shard) as { source: Source };
    const page = m1.page(shard, source.handoff, 0, 1);
    const pulled = { type: 'Pulled', shard, handoff: source.handoff, offset: 0, ...page } as const;
    expect(m2.apply(pulled as ShardKvOp)).toBe('OK');
    expect(m2.shard(shard).status).toBe('pulling');
    return { m1, m2, rest: [configOp(c3 as Config), put('0', 'late'), append('1', '!')] };
  }

  const roundTrip = (m: ShardKvMachine): ShardKvMachine => {
    const copy = new ShardKvMachine(m.gid);
    copy.restore(decode(encode(m.snapshot())) as ShardKvSnapshot);
    return copy;
  };

  it('round-trips through msgpack to identical bytes, at rest and mid-move', () => {
    const { m1, m2 } = midMove();
    for (const m of [new ShardKvMachine(3), m1, m2]) {
      const bytes = encode(m.snapshot());
      const copy = roundTrip(m);
      expect(encode(copy.snapshot()).equals(bytes)).toBe(true);
      expect(copy.config).toEqual(m.config);
      expect(copy.settled).toBe(m.settled);
      expect(copy.pulls()).toEqual(m.pulls());
      expect(copy.releases()).toEqual(m.releases());
    }
  });

  it('a restored machine behaves as the original from there on', () => {
    const { m1, m2, rest } = midMove();
    const c1 = roundTrip(m1);
    const c2 = roundTrip(m2);
    transfer(m1, m2);
    transfer(c1, c2);
    for (const op of rest) {
      expect(c1.apply(op)).toBe(m1.apply(op));
      expect(c2.apply(op)).toBe(m2.apply(op));
    }
    transfer(m1, m2);
    transfer(c1, c2);
    expect(encode(c1.snapshot()).equals(encode(m1.snapshot()))).toBe(true);
    expect(encode(c2.snapshot()).equals(encode(m2.snapshot()))).toBe(true);
    expect(c2.get('0')).toEqual({ err: 'OK', value: 'late' });
    expect(c2.get('1')).toEqual({ err: 'OK', value: 'value of 1!' });
    expect(c2.sessionsFor(put('0', '')).check({ clientId: 'c', seq: 3 }).status).toBe('duplicate');
  });

  it('restores a snapshot whose absent holders came back as null (as another codec gives them)', () => {
    const [, c1] = configs(join(1)) as Config[];
    const m = new ShardKvMachine(1);
    m.restore(JSON.parse(JSON.stringify(new ShardKvMachine(1).snapshot())) as ShardKvSnapshot);
    expect(m.apply(configOp(c1 as Config))).toBe('OK');
    expect(m.apply(put('1', 'x'))).toBe('OK');
  });

  it("refuses another group's snapshot", () => {
    const snapshot = new ShardKvMachine(1).snapshot();
    expect(() => new ShardKvMachine(2).restore(snapshot)).toThrow(/group 1 .* group 2/);
  });
});
