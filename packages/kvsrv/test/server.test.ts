import { type DispatchResult, RpcServer } from '@flotilla/transport';
import { describe, expect, test } from 'vitest';
import { KvServer, type KvServerOptions } from '../src/index.js';

function setup(options: KvServerOptions = {}) {
  const rpc = new RpcServer({ logger: { warn: () => {}, info: () => {} } });
  const server = new KvServer(options).register(rpc);
  const call = (method: string, args: unknown): unknown => {
    const out = rpc.dispatch(`KVServer.${method}`, args, { peer: 'test' }) as DispatchResult;
    if (!out.ok) return { transport: out.code };
    return out.reply;
  };
  return { server, call };
}

describe('KvServer', () => {
  test('Get of a missing key is ""; Put replaces; Append answers the old value', () => {
    const { call } = setup();
    expect(call('Get', { key: 'a' })).toEqual({ value: '' });
    expect(call('Append', { key: 'a', value: 'x', clientId: 1, seq: 1 })).toEqual({ value: '' });
    expect(call('Append', { key: 'a', value: 'y', clientId: 1, seq: 2 })).toEqual({ value: 'x' });
    expect(call('Put', { key: 'a', value: 'z', clientId: 1, seq: 3 })).toEqual({});
    expect(call('Get', { key: 'a' })).toEqual({ value: 'z' });
  });

  test('a resent Put or Append is applied once and answers the first execution', () => {
    const { server, call } = setup();
    call('Put', { key: 'k', value: 'a', clientId: 7, seq: 1 });
    expect(call('Append', { key: 'k', value: 'b', clientId: 7, seq: 2 })).toEqual({ value: 'a' });
    call('Put', { key: 'k', value: 'other', clientId: 8, seq: 1 });
    expect(call('Append', { key: 'k', value: 'b', clientId: 7, seq: 2 })).toEqual({ value: 'a' });
    expect(server.read('k')).toBe('other');
    expect(call('Put', { key: 'k', value: 'a', clientId: 8, seq: 1 })).toEqual({});
    expect(server.read('k')).toBe('other');
  });

  test('a request older than the clerk’s latest is answered STALE and changes nothing', () => {
    const { server, call } = setup();
    call('Append', { key: 'k', value: 'a', clientId: 1, seq: 5 });
    expect(call('Append', { key: 'k', value: 'b', clientId: 1, seq: 4 })).toEqual({ err: 'STALE' });
    expect(server.read('k')).toBe('a');
  });

  test('the Append reply is kept until the clerk shows it has seen it', () => {
    const { server, call } = setup();
    call('Append', { key: 'k', value: 'a', clientId: 1, seq: 1 });
    expect(server.stats.cachedReplies).toBe(1);
    call('Get', { key: 'k', clientId: 1, seq: 0 });
    expect(server.stats.cachedReplies).toBe(1);
    call('Get', { key: 'k', clientId: 1, seq: 1 });
    expect(server.stats.cachedReplies).toBe(0);

    call('Append', { key: 'k', value: 'b', clientId: 1, seq: 2 });
    call('Put', { key: 'k', value: 'c', clientId: 1, seq: 3 });
    expect(server.stats).toEqual({ keys: 1, clients: 1, cachedReplies: 0 });
  });

  test('Gets create no state, even when they carry an acknowledgement', () => {
    const { server, call } = setup();
    for (let id = 0; id < 100; id++) call('Get', { key: 'k', clientId: id, seq: 3 });
    expect(server.stats).toEqual({ keys: 0, clients: 0, cachedReplies: 0 });
  });

  test('an empty value is not stored', () => {
    const { server, call } = setup();
    call('Put', { key: 'k', value: 'v', clientId: 1, seq: 1 });
    call('Put', { key: 'k', value: '', clientId: 1, seq: 2 });
    call('Append', { key: 'j', value: '', clientId: 1, seq: 3 });
    expect(server.stats.keys).toBe(0);
    expect(call('Get', { key: 'k' })).toEqual({ value: '' });
  });

  test('keys and values past the limits are refused and change nothing', () => {
    const { server, call } = setup({ maxKeyBytes: 8, maxValueBytes: 10 });
    expect(call('Get', { key: 'k'.repeat(9) })).toEqual({
      err: 'KEY_TOO_LARGE',
      size: 9,
      limit: 8,
    });
    expect(call('Put', { key: 'k', value: 'é'.repeat(6), clientId: 1, seq: 1 })).toEqual({
      err: 'VALUE_TOO_LARGE',
      size: 12,
      limit: 10,
    });
    expect(call('Put', { key: 'k', value: '123456', clientId: 1, seq: 2 })).toEqual({});
    expect(call('Append', { key: 'k', value: '12345', clientId: 1, seq: 3 })).toEqual({
      err: 'VALUE_TOO_LARGE',
      size: 11,
      limit: 10,
    });
    expect(server.read('k')).toBe('123456');
    // The refused request was not recorded: the clerk's next one is new.
    expect(call('Append', { key: 'k', value: '7', clientId: 1, seq: 4 })).toEqual({
      value: '123456',
    });
  });

  test('arguments of the wrong shape get BAD_ARGUMENTS', () => {
    const { call } = setup();
    for (const args of [
      null,
      'k',
      [],
      { key: 1 },
      { key: 'k', clientId: 1 },
      { key: 'k', value: 'v', clientId: -1, seq: 1 },
      { key: 'k', value: 'v', clientId: 1, seq: 0 },
      { key: 'k', value: 'v', clientId: 1.5, seq: 1 },
      { key: 'k', value: 'v', clientId: 2 ** 53, seq: 1 },
      { key: 'k', value: 1, clientId: 1, seq: 1 },
    ]) {
      const method = args !== null && typeof args === 'object' && 'value' in args ? 'Put' : 'Get';
      expect(call(method, args), JSON.stringify(args)).toEqual({ transport: 'BAD_ARGUMENTS' });
    }
  });

  test('limits must be positive integers', () => {
    expect(() => new KvServer({ maxKeyBytes: 0 })).toThrow(RangeError);
    expect(() => new KvServer({ maxValueBytes: 1.5 })).toThrow(RangeError);
  });
});
