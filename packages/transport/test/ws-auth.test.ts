import { afterEach, describe, expect, it } from 'vitest';
import {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  encode,
  WsClient,
  type WsServer,
} from '../src/index.js';
import {
  type CapturingLogger,
  capturingLogger,
  HELLO,
  listen,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  testRpcServer,
  WELCOME,
  waitFor,
} from './support/ws-helpers.js';

const TOKEN = 'correct horse battery staple';
const AUTH_FAILED_LINE = 'ws auth failed; closing connection';

const scope = new Scope();
afterEach(() => scope.closeAll());

async function start(
  options: { authToken?: string; helloTimeoutMs?: number } = {},
): Promise<{ server: WsServer; log: CapturingLogger }> {
  const log = capturingLogger();
  const server = await listen(scope, {
    rpcServer: testRpcServer(capturingLogger()),
    logger: log,
    ...options,
  });
  return { server, log };
}

function client(server: WsServer, options: { authToken?: string } = {}): WsClient {
  return scope.track(
    new WsClient({
      url: server.url,
      logger: capturingLogger(),
      callTimeoutMs: 5000,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      ...options,
    }),
  );
}

describe('WsServer with an authToken', () => {
  it('serves a client that presents the right token', async () => {
    const { server, log } = await start({ authToken: TOKEN });
    const good = client(server, { authToken: TOKEN });
    await good.ready();
    expect(good.state).toBe('open');
    await expect(good.call('test.echo', { hello: 'world' })).resolves.toEqual({
      ok: true,
      reply: { hello: 'world' },
    });
    expect(log.lines).toEqual([]);
  });

  it('refuses a wrong token: client is auth-failed, calls get AUTH_FAILED, ready() rejects, one log line, good client still served', async () => {
    const { server, log } = await start({ authToken: TOKEN });
    const good = client(server, { authToken: TOKEN });
    await good.ready();

    const clientLog = capturingLogger();
    const bad = scope.track(
      new WsClient({
        url: server.url,
        authToken: 'wrong token',
        logger: clientLog,
        reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      }),
    );
    const ready = bad.ready();
    const early = bad.call('test.echo', 1); // made before the refusal: queued, then failed
    await expect(ready).rejects.toThrow(/auth/);
    expect(bad.state).toBe('auth-failed');
    await expect(early).resolves.toEqual({ ok: false, code: 'AUTH_FAILED' });
    await expect(bad.call('test.echo', 2)).resolves.toEqual({ ok: false, code: 'AUTH_FAILED' });
    await expect(bad.ready()).rejects.toThrow(/auth-failed/);

    // The server closed the refused connection and logged it once; the client did not retry.
    await waitFor(() => server.connectionCount === 1, 'the refused connection to be gone');
    expect(log.count(AUTH_FAILED_LINE)).toBe(1);
    expect(log.lines).toHaveLength(1);
    expect(clientLog.count('ws client: server refused the auth token')).toBe(1);

    await expect(good.call('test.echo', 'still here')).resolves.toEqual({
      ok: true,
      reply: 'still here',
    });
    expect(bad.state).toBe('auth-failed');
    expect(server.connectionCount).toBe(1);
    expect(log.count(AUTH_FAILED_LINE)).toBe(1);
  });

  it('closes a raw socket that presents a wrong token with 4401', async () => {
    const { server, log } = await start({ authToken: TOKEN });
    const raw = await RawConn.open(scope, server.url);
    raw.send([HELLO, 1, `${TOKEN}!`]);
    expect((await raw.waitClosed()).code).toBe(CloseCode.AUTH_FAILED);
    expect(log.count(AUTH_FAILED_LINE)).toBe(1);
  });

  it('compares tokens of any length or type without throwing', async () => {
    const { server, log } = await start({ authToken: TOKEN });
    const presented: unknown[] = [
      '',
      'c',
      TOKEN.slice(0, -1),
      `${TOKEN}x`,
      TOKEN.toUpperCase(),
      'x'.repeat(100_000),
      '🔑é\u0000',
      null,
      42,
      true,
      [TOKEN],
      { token: TOKEN },
      new Uint8Array(Buffer.from(TOKEN)),
    ];
    for (const token of presented) {
      const raw = await RawConn.open(scope, server.url);
      raw.send([HELLO, 1, token]);
      expect((await raw.waitClosed()).code, `token ${JSON.stringify(token)}`).toBe(
        CloseCode.AUTH_FAILED,
      );
    }
    expect(log.count(AUTH_FAILED_LINE)).toBe(presented.length);
    expect(log.lines).toHaveLength(presented.length);

    // Wrong tokens of other lengths through WsClient as well.
    for (const token of ['', 'short', 'x'.repeat(5000)]) {
      const bad = client(server, { authToken: token });
      await expect(bad.ready()).rejects.toThrow();
      expect(bad.state).toBe('auth-failed');
    }

    const good = client(server, { authToken: TOKEN });
    await expect(good.call('test.echo', 'ok')).resolves.toEqual({ ok: true, reply: 'ok' });
  });

  it('closes a socket that sends no hello with 4408 after helloTimeoutMs', async () => {
    const { server, log } = await start({ authToken: TOKEN, helloTimeoutMs: 100 });
    const opened = performance.now();
    const raw = await RawConn.open(scope, server.url);
    const { code } = await raw.waitClosed(3000);
    expect(code).toBe(CloseCode.HELLO_TIMEOUT);
    expect(performance.now() - opened).toBeGreaterThanOrEqual(90);
    await waitFor(() => server.connectionCount === 0, 'the connection to be released');
    expect(log.lines).toEqual([]);
  });

  it('does not time out a connection that said hello in time', async () => {
    const { server } = await start({ authToken: TOKEN, helloTimeoutMs: 100 });
    const raw = await RawConn.authenticated(scope, server.url, TOKEN);
    // Outlive the hello timeout by a wide margin, proven by a reply that comes after it.
    const slowWitness = await RawConn.open(scope, server.url); // sends no hello
    await slowWitness.waitClosed(3000);
    expect(raw.isOpen).toBe(true);
    expect(await raw.request(1, 'test.echo', 'after')).toEqual([REPLY, 1, 'after']);
  });

  it.each<[string, (raw: RawConn) => void]>([
    ['undecodable bytes', (raw) => raw.sendBytes(Uint8Array.of(0xc1, 0xff, 0x00))],
    ['truncated msgpack', (raw) => raw.sendBytes(encode([HELLO, 1, TOKEN]).subarray(0, 5))],
    ['an empty frame', (raw) => raw.sendBytes(new Uint8Array(0))],
    ['a text frame', (raw) => raw.sendText(JSON.stringify([HELLO, 1, TOKEN]))],
    ['a request before hello', (raw) => raw.send([REQUEST, 1, 'test.echo', 'hi'])],
    ['a welcome', (raw) => raw.send([WELCOME, 1])],
    ['a non-array', (raw) => raw.send({ type: HELLO, version: 1, token: TOKEN })],
    ['a hello of another version', (raw) => raw.send([HELLO, 2, TOKEN])],
    ['a hello without a token slot', (raw) => raw.send([HELLO, 1])],
    ['a hello with two extra elements', (raw) => raw.send([HELLO, 1, TOKEN, 1024, 'extra'])],
  ])('closes a socket whose first frame is %s with 4400', async (_name, sendFirst) => {
    const { server, log } = await start({ authToken: TOKEN });
    const raw = await RawConn.open(scope, server.url);
    sendFirst(raw);
    expect((await raw.waitClosed()).code).toBe(CloseCode.PROTOCOL);
    expect(raw.received).toBe(0);
    expect(log.count(AUTH_FAILED_LINE)).toBe(0);

    const good = client(server, { authToken: TOKEN });
    await expect(good.call('test.echo', 'fine')).resolves.toEqual({ ok: true, reply: 'fine' });
  });
});

describe('WsServer without an authToken', () => {
  it('accepts any hello', async () => {
    const { server, log } = await start();
    for (const token of [null, '', 'whatever', 123, { a: 1 }, ['x']]) {
      const raw = await RawConn.open(scope, server.url);
      raw.send([HELLO, 1, token]);
      expect(await raw.next()).toEqual([WELCOME, 1, DEFAULT_MAX_FRAME_BYTES]);
      expect(await raw.request(9, 'test.echo', token)).toEqual([REPLY, 9, token]);
    }
    const noToken = client(server);
    const withToken = client(server, { authToken: 'unneeded' });
    await expect(noToken.call('test.echo', 'a')).resolves.toEqual({ ok: true, reply: 'a' });
    await expect(withToken.call('test.echo', 'b')).resolves.toEqual({ ok: true, reply: 'b' });
    expect(log.lines).toEqual([]);
  });

  it('still refuses a malformed hello with 4400', async () => {
    const { server } = await start();
    const raw = await RawConn.open(scope, server.url);
    raw.send([HELLO, 99, null]);
    expect((await raw.waitClosed()).code).toBe(CloseCode.PROTOCOL);
  });
});
