/** Requests a kvsrv server must refuse, shared by the dispatch and socket tests. */
import { decode, encode } from '@flotilla/transport';

/** Arguments as the server would see them: through the codec, as on the wire. */
export function wire(args: unknown): unknown {
  return decode(encode(args));
}

export const BIG = 2 ** 53;

/** [what, args] pairs every method must refuse with BAD_ARGUMENTS. */
export const BAD_FOR_ALL: Array<[string, unknown]> = [
  ['nil', null],
  ['a string', 'k'],
  ['a number', 5],
  ['a boolean', true],
  ['an array', ['k', 'v', 1, 1]],
  ['an empty array', []],
  ['an array holding the args', [{ key: 'k', value: 'v', clientId: 1, seq: 1 }]],
  ['binary', Buffer.from('key')],
  ['an empty map', {}],
  ['a numeric key', { key: 5, value: 'v', clientId: 1, seq: 1 }],
  ['a nil key', { key: null, value: 'v', clientId: 1, seq: 1 }],
  ['an array key', { key: ['k'], value: 'v', clientId: 1, seq: 1 }],
  ['a map key', { key: { k: 1 }, value: 'v', clientId: 1, seq: 1 }],
  ['a binary key', { key: Buffer.from('k'), value: 'v', clientId: 1, seq: 1 }],
  ['a boolean key', { key: true, value: 'v', clientId: 1, seq: 1 }],
  ['a string clientId', { key: 'k', value: 'v', clientId: '1', seq: 1 }],
  ['a negative clientId', { key: 'k', value: 'v', clientId: -1, seq: 1 }],
  ['a float clientId', { key: 'k', value: 'v', clientId: 1.5, seq: 1 }],
  ['a clientId of 2^53', { key: 'k', value: 'v', clientId: BIG, seq: 1 }],
  ['a clientId of 2^64', { key: 'k', value: 'v', clientId: 2 ** 64, seq: 1 }],
  ['a NaN clientId', { key: 'k', value: 'v', clientId: Number.NaN, seq: 1 }],
  ['an infinite clientId', { key: 'k', value: 'v', clientId: Number.POSITIVE_INFINITY, seq: 1 }],
  ['a nil clientId', { key: 'k', value: 'v', clientId: null, seq: 1 }],
  ['a string seq', { key: 'k', value: 'v', clientId: 1, seq: '1' }],
  ['a negative seq', { key: 'k', value: 'v', clientId: 1, seq: -1 }],
  ['a float seq', { key: 'k', value: 'v', clientId: 1, seq: 0.5 }],
  ['a seq of 2^53', { key: 'k', value: 'v', clientId: 1, seq: BIG }],
  ['a nil seq', { key: 'k', value: 'v', clientId: 1, seq: null }],
  ['an array seq', { key: 'k', value: 'v', clientId: 1, seq: [1] }],
  ['a bigint seq', { key: 'k', value: 'v', clientId: 1, seq: 10n }],
];

/** Refused by Put and Append only (Get has no value, and its ids are optional together). */
export const BAD_FOR_UPDATES: Array<[string, unknown]> = [
  ['no value', { key: 'k', clientId: 1, seq: 1 }],
  ['a numeric value', { key: 'k', value: 5, clientId: 1, seq: 1 }],
  ['a map value', { key: 'k', value: { v: 'x' }, clientId: 1, seq: 1 }],
  ['an array value', { key: 'k', value: ['v'], clientId: 1, seq: 1 }],
  ['a nil value', { key: 'k', value: null, clientId: 1, seq: 1 }],
  ['a binary value', { key: 'k', value: Buffer.from('v'), clientId: 1, seq: 1 }],
  ['no clientId', { key: 'k', value: 'v', seq: 1 }],
  ['no seq', { key: 'k', value: 'v', clientId: 1 }],
  ['no ids', { key: 'k', value: 'v' }],
  ['seq 0', { key: 'k', value: 'v', clientId: 1, seq: 0 }],
  ['no key', { value: 'v', clientId: 1, seq: 1 }],
];

export const BAD_FOR_GET: Array<[string, unknown]> = [
  ['no key', { clientId: 1, seq: 1 }],
  ['a clientId without seq', { key: 'k', clientId: 1 }],
  ['a seq without clientId', { key: 'k', seq: 1 }],
];

export const BAD_CASES: Array<[string, string, unknown]> = [
  ...['Get', 'Put', 'Append'].flatMap((method) =>
    BAD_FOR_ALL.map(([what, args]): [string, string, unknown] => [method, what, args]),
  ),
  ...['Put', 'Append'].flatMap((method) =>
    BAD_FOR_UPDATES.map(([what, args]): [string, string, unknown] => [method, what, args]),
  ),
  ...BAD_FOR_GET.map(([what, args]): [string, string, unknown] => ['Get', what, args]),
];

export const UNKNOWN_METHODS = [
  'KVServer.Delete',
  'KVServer.get',
  'KVServer.GET',
  'KVServer.constructor',
  'KVServer.__proto__',
  'KVServer.toString',
  'KVServer.hasOwnProperty',
  'KVServer.',
  'KVServer',
  'kvserver.Get',
  'Raft.Get',
  '__proto__.Get',
  'Get',
  '.Get',
];
