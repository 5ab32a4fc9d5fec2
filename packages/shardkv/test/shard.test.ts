/**
 * One shard's life in one group (`Shard`): its transitions, the pages it hands off (bounded,
 * never empty, keys in order then duplicate-table rows) and how a puller takes them (in order,
 * each once), and whether it lets its group move on (`settled`) in each status.
 */
import { seedFor } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Source } from '../src/custody.js';
import type { SessionRow } from '../src/protocol.js';
import { Shard, type ShardPage } from '../src/shard.js';

const source = (handoff: number): Source => ({ gid: 7, servers: ['s7a', 's7b'], handoff });

/** A serving shard with `data` and one duplicate-table row per client in `sessions`. */
function serving(data: Record<string, string>, sessions: SessionRow[] = []): Shard {
  const shard = new Shard();
  shard.create();
  for (const [k, v] of Object.entries(data)) shard.data.set(k, v);
  for (const [clientId, seq] of sessions) shard.sessions.record({ clientId, seq }, 'OK');
  return shard;
}

/** Every page of `shard` as handed off at `handoff`, `maxBytes` each, from offset 0. */
function pages(shard: Shard, handoff: number, maxBytes: number): ShardPage[] {
  const all: ShardPage[] = [];
  for (let offset = 0; ; ) {
    const page = shard.page(handoff, offset, maxBytes) as ShardPage;
    all.push(page);
    if (page.done) return all;
    if (page.data.length + page.sessions.length === 0) throw new Error(`empty page at ${offset}`);
    offset += page.data.length + page.sessions.length;
  }
}

/** The bytes `page()` reckons an item at: strings plus 16; a row's numeric id as 9. */
const itemBytes = (item: readonly [string, string] | SessionRow): number =>
  typeof item[1] === 'string'
    ? Buffer.byteLength(item[0] as string) + Buffer.byteLength(item[1]) + 16
    : (typeof item[0] === 'string' ? Buffer.byteLength(item[0]) : 9) + 9 + 4;

describe('Shard transitions', () => {
  it('starts absent: not served, settled, no data', () => {
    const shard = new Shard();
    expect(shard.status).toBe('absent');
    expect(shard.serves).toBe(false);
    expect(shard.settled(true)).toBe(true);
    expect(shard.settled(false)).toBe(true);
    expect(shard.page(1, 0, 100)).toBeUndefined();
  });

  it('create: serving, empty, settled', () => {
    const shard = new Shard();
    shard.create();
    expect(shard.status).toBe('serving');
    expect(shard.serves).toBe(true);
    expect(shard.data.size).toBe(0);
    expect(shard.settled(true)).toBe(true);
  });

  it('lose → handing-off: kept, not served, unsettled only while some group owns it', () => {
    const shard = serving({ a: '1' });
    shard.lose(4);
    expect(shard.status).toBe('handing-off');
    expect(shard.handoff).toBe(4);
    expect(shard.serves).toBe(false);
    expect(shard.data.get('a')).toBe('1');
    expect(shard.settled(true)).toBe(false);
    expect(shard.settled(false)).toBe(true);
  });

  it('thaw → serving again with its data; drop refuses then', () => {
    const shard = serving({ a: '1' });
    shard.lose(4);
    shard.thaw();
    expect(shard.status).toBe('serving');
    expect(shard.handoff).toBeUndefined();
    expect(shard.data.get('a')).toBe('1');
    expect(shard.drop(4)).toBe(false);
    expect(shard.settled(true)).toBe(true);
  });

  it('drop: only for its own handoff; clears the data and the duplicate table', () => {
    const shard = serving({ a: '1' }, [[1, 3]]);
    expect(shard.drop(4)).toBe(false); // serving: nothing to drop
    shard.lose(4);
    expect(shard.drop(3)).toBe(false);
    expect(shard.status).toBe('handing-off');
    expect(shard.drop(4)).toBe(true);
    expect(shard.status).toBe('absent');
    expect(shard.data.size).toBe(0);
    expect(shard.sessions.size).toBe(0);
    expect(shard.handoff).toBeUndefined();
    expect(shard.drop(4)).toBe(false);
    expect(shard.settled(true)).toBe(true);
  });

  it('gain → pulling: empty, not served, unsettled; receive the pages in order → serving (told: no)', () => {
    const shard = new Shard();
    shard.gain(source(5));
    expect(shard.status).toBe('pulling');
    expect(shard.source).toEqual(source(5));
    expect(shard.serves).toBe(false);
    expect(shard.settled(true)).toBe(false);
    expect(shard.settled(false)).toBe(false);

    const first = { data: [['a', '1']] as const, sessions: [], done: false };
    expect(shard.receive(4, 0, first)).toBe(false); // another handoff
    expect(shard.receive(5, 1, first)).toBe(false); // not the next offset
    expect(shard.received).toBe(0);
    expect(shard.receive(5, 0, first)).toBe(true);
    expect(shard.received).toBe(1);
    expect(shard.receive(5, 0, first)).toBe(false); // pulled twice: ignored
    expect(shard.received).toBe(1);
    expect(shard.status).toBe('pulling');

    const last = { data: [['b', '2']] as const, sessions: [[9, 2]] as const, done: true };
    expect(shard.receive(5, 1, last)).toBe(true);
    expect(shard.status).toBe('serving');
    expect(shard.serves).toBe(true);
    expect([...shard.data]).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(shard.sessions.check({ clientId: 9, seq: 2 })).toEqual({
      status: 'duplicate',
      result: 'OK',
    });
    expect(shard.receive(5, 3, { data: [], sessions: [], done: true })).toBe(false);

    // The previous holder is yet to be told: not settled until released, for its handoff only.
    expect(shard.settled(true)).toBe(false);
    expect(shard.released(4)).toBe(false);
    expect(shard.released(5)).toBe(true);
    expect(shard.source).toBeUndefined();
    expect(shard.settled(true)).toBe(true);
    expect(shard.released(5)).toBe(false);
  });

  it('an empty shard moves in one empty, final page', () => {
    const holder = serving({});
    holder.lose(2);
    expect(holder.page(2, 0, 1)).toEqual({ data: [], sessions: [], done: true });
    const puller = new Shard();
    puller.gain(source(2));
    expect(puller.receive(2, 0, holder.page(2, 0, 1) as ShardPage)).toBe(true);
    expect(puller.status).toBe('serving');
  });

  it('gain clears whatever an earlier life left; released refuses while pulling', () => {
    const shard = serving({ old: 'x' }, [[1, 1]]);
    shard.lose(2);
    shard.drop(2);
    shard.gain(source(6));
    expect(shard.data.size).toBe(0);
    expect(shard.sessions.size).toBe(0);
    expect(shard.released(6)).toBe(false);
    expect(shard.status).toBe('pulling');
  });

  it('round-trips through its snapshot in every status', () => {
    const states: Shard[] = [
      new Shard(),
      serving({ a: '1', b: '2' }, [
        [1, 2],
        ['c', 5],
      ]),
    ];
    const handing = serving({ z: '9', y: '8' }, [[3, 1]]);
    handing.lose(3);
    const pulling = new Shard();
    pulling.gain(source(3));
    pulling.receive(3, 0, { data: [['y', '8']], sessions: [], done: false });
    const told = new Shard();
    told.gain(source(4));
    told.receive(4, 0, { data: [['k', 'v']], sessions: [[2, 7]], done: true });
    states.push(handing, pulling, told);
    for (const shard of states) {
      const copy = Shard.fromSnapshot(shard.toSnapshot());
      expect(copy.toSnapshot()).toEqual(shard.toSnapshot());
      expect(copy.status).toBe(shard.status);
      expect(copy.settled(true)).toBe(shard.settled(true));
    }
    const copy = Shard.fromSnapshot(pulling.toSnapshot());
    expect(copy.receive(3, 0, { data: [], sessions: [], done: true })).toBe(false);
    expect(copy.receive(3, 1, { data: [['z', '9']], sessions: [], done: true })).toBe(true);
    expect(copy.status).toBe('serving');
  });
});

describe('Shard.page', () => {
  it('serves only a shard handed off, at its own handoff', () => {
    const shard = serving({ a: '1' });
    expect(shard.page(3, 0, 100)).toBeUndefined();
    shard.lose(3);
    expect(shard.page(2, 0, 100)).toBeUndefined();
    expect(shard.page(3, 0, 100)).toEqual({ data: [['a', '1']], sessions: [], done: true });
  });

  it('fills a page up to maxBytes as it reckons items, and at least one item', () => {
    const shard = serving({ c: 'xx', a: 'xx', b: 'xx' }); // 1 + 2 + 16 = 19 bytes each
    shard.lose(1);
    expect(shard.page(1, 0, 38)?.data).toEqual([
      ['a', 'xx'],
      ['b', 'xx'],
    ]);
    expect(shard.page(1, 0, 37)?.data).toEqual([['a', 'xx']]);
    expect(shard.page(1, 0, 1)).toEqual({ data: [['a', 'xx']], sessions: [], done: false });
    expect(shard.page(1, 2, 1)).toEqual({ data: [['c', 'xx']], sessions: [], done: true });
    expect(shard.page(1, 3, 100)).toEqual({ data: [], sessions: [], done: true });
  });

  it('reckons UTF-8 bytes, and duplicate-table rows after the keys', () => {
    const shard = serving({ é: '€' }, [
      [5, 1],
      ['ab', 2],
    ]); // 2 + 3 + 16 = 21; [5, 1]: 9 + 9 + 4 = 22; ['ab', 2]: 2 + 9 + 4 = 15
    shard.lose(1);
    expect(shard.page(1, 0, 42)).toEqual({ data: [['é', '€']], sessions: [], done: false });
    expect(shard.page(1, 0, 43)).toEqual({ data: [['é', '€']], sessions: [[5, 1]], done: false });
    expect(shard.page(1, 1, 37)).toEqual({
      data: [],
      sessions: [
        [5, 1],
        ['ab', 2],
      ],
      done: true,
    });
  });

  it('builds the pages of the data as it was handed off each time (lost, thawed, written, lost)', () => {
    const shard = serving({ a: '1' });
    shard.lose(3);
    expect(shard.page(3, 0, 100)?.data).toEqual([['a', '1']]);
    shard.thaw();
    shard.data.set('b', '2');
    shard.lose(5);
    expect(shard.page(3, 0, 100)).toBeUndefined();
    expect(shard.page(5, 0, 100)?.data).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });

  it('(property) pages are bounded, keys in order then rows, and a puller taking them gets it all', () => {
    const data = fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 12 }));
    const rows = fc.uniqueArray(
      fc.tuple(fc.oneof(fc.nat(1000), fc.string({ maxLength: 4 })), fc.integer({ min: 1 })),
      { selector: ([id]) => id, maxLength: 8 },
    );
    fc.assert(
      fc.property(data, rows, fc.integer({ min: 1, max: 80 }), (d, r, maxBytes) => {
        const holder = serving(d, r);
        holder.lose(9);
        const all = pages(holder, 9, maxBytes);
        const puller = new Shard();
        puller.gain(source(9));
        let offset = 0;
        all.forEach((page, i) => {
          const items = [...page.data, ...page.sessions];
          expect(items.length > 0 || all.length === 1).toBe(true);
          if (items.length > 1)
            expect(items.reduce((n, item) => n + itemBytes(item), 0)).toBeLessThanOrEqual(maxBytes);
          expect(page.done).toBe(i === all.length - 1);
          if (page.sessions.length > 0 && i + 1 < all.length) expect(all[i + 1]?.data).toEqual([]); // rows come after every key
          expect(puller.receive(9, offset, page)).toBe(true);
          expect(puller.receive(9, offset, page)).toBe(false);
          offset += items.length;
        });
        const keys = all.flatMap((p) => p.data.map(([k]) => k));
        expect(keys).toEqual(Object.keys(d).sort());
        expect(puller.status).toBe('serving');
        expect(puller.toSnapshot().data).toEqual(holder.toSnapshot().data);
        expect(puller.toSnapshot().sessions).toEqual(holder.toSnapshot().sessions);
      }),
      { seed: seedFor('shardkv shard pages property'), numRuns: 150 },
    );
  });
});
