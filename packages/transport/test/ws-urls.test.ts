import { describe, expect, it } from 'vitest';
import { checkWsUrls, connectEnds, listenAddress, parseWsUrl, silentLogger } from '../src/index.js';

describe('ws urls', () => {
  it('parseWsUrl takes ws://host:port only', () => {
    expect(parseWsUrl('ws://127.0.0.1:7000')?.port).toBe('7000');
    for (const bad of ['ws://127.0.0.1', 'http://127.0.0.1:1', 'wss://h:1', 'nope']) {
      expect(parseWsUrl(bad)).toBeUndefined();
    }
  });

  it('checkWsUrls throws the caller’s own error at the first bad url', () => {
    const fail = (option: string, message: string) => new RangeError(`${option}: ${message}`);
    expect(checkWsUrls('peers', ['ws://a:1', 'ws://b:2'], fail)).toHaveLength(2);
    expect(() => checkWsUrls('peers', ['ws://a:1', 'x'], fail)).toThrow(
      new RangeError('peers: wants ws://host:port urls, got "x"'),
    );
    expect(() => checkWsUrls('urls', [], fail)).toThrow(
      new RangeError('urls: must hold one url per server'),
    );
  });

  it('listenAddress strips an IPv6 host’s brackets', () => {
    expect(listenAddress(new URL('ws://[::1]:9'))).toEqual({ host: '::1', port: 9 });
    expect(listenAddress(new URL('ws://localhost:9'))).toEqual({ host: 'localhost', port: 9 });
  });

  it('connectEnds: a clerk’s clients skip a server that is down at once (failWhileDown)', async () => {
    // Port 1 on loopback refuses: once the first attempt failed, calls fail without waiting.
    const [end] = connectEnds(['ws://127.0.0.1:1'], {
      callTimeoutMs: 60_000,
      logger: silentLogger,
    });
    try {
      let result = await end?.call('Svc.m', {});
      for (let i = 0; i < 50 && result?.ok === false && result.code !== 'UNREACHABLE'; i++) {
        result = await end?.call('Svc.m', {});
      }
      expect(result).toMatchObject({ ok: false, code: 'UNREACHABLE' });
    } finally {
      await end?.close();
    }
  });
});
