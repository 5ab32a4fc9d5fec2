/**
 * The wire guards (`protocol.ts`) accept exactly the shapes the service sends and reject the
 * rest, and `key2shard` is the lab's: the first byte of the key's UTF-8 encoding mod 10, the
 * same on the clerk and on the server that decodes the key from the wire.
 */
import { decode, encode, seedFor } from '@flotilla/transport';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { key2shard } from '../src/key2shard.js';
import {
  isDeleteShardArgs,
  isDeleteShardReply,
  isGetArgs,
  isGetReply,
  isPullShardArgs,
  isPullShardReply,
  isPutAppendArgs,
  isPutAppendReply,
} from '../src/protocol.js';

/** Each guard, a good value, and the values it must reject (each one bad in one way). */
const cases: [string, (x: unknown) => boolean, unknown, unknown[]][] = [
  ['isGetArgs', isGetArgs, { key: 'a' }, [{}, { key: 1 }, { key: null }, ['a'], null, 'a']],
  [
    'isPutAppendArgs',
    isPutAppendArgs,
    { key: '', value: 'v', op: 'Append', clientId: 0, seq: 1 },
    [
      { key: 'k', value: 1, op: 'Put', clientId: 0, seq: 1 },
      { key: 'k', value: 'v', op: 'Get', clientId: 0, seq: 1 },
      { key: 'k', value: 'v', op: 'Put', clientId: -1, seq: 1 },
      { key: 'k', value: 'v', op: 'Put', clientId: 1.5, seq: 1 },
      { key: 'k', value: 'v', op: 'Put', clientId: 'c', seq: 1 },
      { key: 'k', value: 'v', op: 'Put', clientId: 0, seq: 0 },
      { key: 'k', value: 'v', op: 'Put', clientId: 0, seq: 2 ** 53 },
      { key: 2, value: 'v', op: 'Put', clientId: 0, seq: 1 },
      { value: 'v', op: 'Put', clientId: 0, seq: 1 },
    ],
  ],
  [
    'isPullShardArgs',
    isPullShardArgs,
    { shard: 9, handoff: 1, offset: 0, maxBytes: 1 },
    [
      { shard: 10, handoff: 1, offset: 0, maxBytes: 1 },
      { shard: -1, handoff: 1, offset: 0, maxBytes: 1 },
      { shard: 0.5, handoff: 1, offset: 0, maxBytes: 1 },
      { shard: '1', handoff: 1, offset: 0, maxBytes: 1 },
      { shard: 0, handoff: 0, offset: 0, maxBytes: 1 },
      { shard: 0, handoff: 1, offset: -1, maxBytes: 1 },
      { shard: 0, handoff: 1, offset: 0, maxBytes: 0 },
      { shard: 0, handoff: 1, offset: 0 },
      [0, 1, 0, 1],
    ],
  ],
  [
    'isDeleteShardArgs',
    isDeleteShardArgs,
    { shard: 0, handoff: 7 },
    [{ shard: 10, handoff: 7 }, { shard: 0, handoff: 0 }, { shard: 0 }, { handoff: 7 }, null],
  ],
  [
    'isGetReply',
    isGetReply,
    { err: 'ErrWrongGroup', value: '' },
    [{ err: 'OK' }, { err: 'OK', value: 3 }, { err: 'ErrNotReady', value: '' }, { value: '' }],
  ],
  [
    'isPutAppendReply',
    isPutAppendReply,
    { err: 'ErrStale' },
    [{ err: 'ErrNoKey' }, { err: 'ok' }, {}, 'OK'],
  ],
  [
    'isPullShardReply',
    isPullShardReply,
    {
      err: 'OK',
      data: [['a', '1']],
      sessions: [
        [3, 2],
        ['c', 1],
      ],
      done: false,
    },
    [
      { err: 'OK', data: [['a', 1]], sessions: [], done: true },
      { err: 'OK', data: [['a']], sessions: [], done: true },
      { err: 'OK', data: [['a', '1', '2']], sessions: [], done: true },
      { err: 'OK', data: {}, sessions: [], done: true },
      { err: 'OK', data: [], sessions: [[3, 0]], done: true },
      { err: 'OK', data: [], sessions: [[1.5, 1]], done: true },
      { err: 'OK', data: [], sessions: [[null, 1]], done: true },
      { err: 'OK', data: [], sessions: [[3]], done: true },
      { err: 'OK', data: [], sessions: [], done: 'yes' },
      { err: 'OK', data: [], sessions: [] },
      { err: 'OK', sessions: [], done: true },
      { err: 'ErrWrongGroup' },
      null,
    ],
  ],
  [
    'isDeleteShardReply',
    isDeleteShardReply,
    { err: 'OK' },
    [{ err: 'ErrNotReady' }, { err: 'ErrWrongGroup' }, {}, []],
  ],
];

describe('wire guards', () => {
  it.each(cases)('%s accepts a good shape, also after msgpack', (_, guard, good) => {
    expect(guard(good)).toBe(true);
    expect(guard(decode(encode(good)))).toBe(true);
  });

  it.each(cases)('%s rejects each bad one', (_, guard, __, bad) => {
    for (const x of bad) expect(guard(x), JSON.stringify(x)).toBe(false);
  });

  it('PullShard replies other than OK need no page; extra fields are ignored', () => {
    expect(isPullShardReply({ err: 'ErrNotReady' })).toBe(true);
    expect(isPullShardReply({ err: 'ErrWrongLeader', data: 'junk' })).toBe(true);
    expect(isGetArgs({ key: 'k', extra: 1 })).toBe(true);
    expect(isPullShardReply({ err: 'OK', data: [], sessions: [], done: true })).toBe(true);
  });
});

describe('key2shard', () => {
  it('puts "" on shard 0 and "0".."9" on ten different shards, by their first byte', () => {
    expect(key2shard('')).toBe(0);
    const shards = [...'0123456789'].map(key2shard);
    expect(shards).toEqual([8, 9, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(shards).size).toBe(10);
    expect(key2shard('0abc')).toBe(key2shard('0'));
    expect(key2shard('a')).toBe(97 % 10);
  });

  it('uses the first byte of a multibyte key: 2, 3 and 4 byte sequences', () => {
    expect(key2shard('é')).toBe(0xc3 % 10); // C3 A9: 5
    expect(key2shard('\u0080')).toBe(0xc2 % 10); // C2 80: 4
    expect(key2shard('\u07ff')).toBe(0xdf % 10); // DF BF: 3
    expect(key2shard('€')).toBe(0xe2 % 10); // E2 82 AC: 6
    expect(key2shard('\uffff')).toBe(0xef % 10); // EF BF BF: 9
    expect(key2shard('😀')).toBe(0xf0 % 10); // F0 9F 98 80: 0
    expect(key2shard('\u{10ffff}')).toBe(0xf4 % 10); // F4 8F BF BF: 4
  });

  it('(property) agrees with Buffer on any well-formed key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (key) => {
        expect(key2shard(key)).toBe((Buffer.from(key)[0] ?? 0) % 10);
      }),
      { seed: seedFor('shardkv key2shard well-formed'), numRuns: 300 },
    );
  });

  it('(property) is the same on the clerk and on the server after the key crosses the wire', () => {
    // Any UTF-16 units, lone surrogates too: msgpack sends a lone one as U+FFFD (EF BF BD), so
    // a clerk that routed such a key by its own code point would ask a group that answers
    // ErrWrongGroup for ever.
    const units = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 4 });
    const key = units.map((codes) => String.fromCharCode(...codes));
    fc.assert(
      fc.property(key, (k) => {
        expect(key2shard(k)).toBe(key2shard(decode(encode(k)) as string));
        expect(key2shard(k)).toBe((Buffer.from(k)[0] ?? 0) % 10);
      }),
      { seed: seedFor('shardkv key2shard wire'), numRuns: 300 },
    );
    expect(key2shard('\ud800')).toBe(0xef % 10);
    expect(key2shard('\udc00x')).toBe(0xef % 10);
  });
});
