import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CloseCode,
  DEFAULT_MAX_FRAME_BYTES,
  encode,
  FrameTooLargeError,
  RpcServer,
  WsClient,
  type WsServer,
} from '../src/index.js';
import {
  type CapturingLogger,
  capturingLogger,
  listen,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  testService,
  waitFor,
} from './support/ws-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const scope = new Scope();
afterEach(() => scope.closeAll());

/** `test.*` plus `big.bytes(n)`: a reply of n bytes. */
function rpcServer(): RpcServer {
  return new RpcServer({ logger: capturingLogger() })
    .addService('test', testService())
    .addService('big', { bytes: (n: number) => new Uint8Array(n).fill(7) });
}

async function start(maxFrameBytes?: number): Promise<{ server: WsServer; log: CapturingLogger }> {
  const log = capturingLogger();
  const server = await listen(scope, { rpcServer: rpcServer(), logger: log, maxFrameBytes });
  return { server, log };
}

function client(server: WsServer, maxFrameBytes?: number): WsClient {
  return scope.track(
    new WsClient({
      url: server.url,
      logger: capturingLogger(),
      callTimeoutMs: 10_000,
      maxFrameBytes,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    }),
  );
}

describe('frame size limits', () => {
  it('closes (1009) a connection that sends a frame over the server limit; other clients keep getting replies', async () => {
    const { server, log } = await start(64 * KiB);
    const other = client(server);
    await expect(other.call('test.echo', 'before')).resolves.toEqual({ ok: true, reply: 'before' });

    const raw = await RawConn.authenticated(scope, server.url);
    // Just under the limit is fine…
    const fits = new Uint8Array(64 * KiB - 64);
    const reply = await raw.request(1, 'test.echo', fits);
    expect(reply[0]).toBe(REPLY);
    expect(reply[1]).toBe(1);
    expect((reply[2] as Uint8Array).byteLength).toBe(fits.byteLength);

    // …one byte over is not.
    const over = encode([REQUEST, 2, 'test.echo', new Uint8Array(64 * KiB)]);
    expect(over.length).toBeGreaterThan(64 * KiB);
    raw.sendBytes(over);
    expect((await raw.waitClosed()).code).toBe(CloseCode.TOO_BIG);
    expect(raw.received).toBe(2); // the welcome and the one reply: nothing for the big frame

    await expect(other.call('test.echo', 'after')).resolves.toEqual({ ok: true, reply: 'after' });
    await waitFor(() => server.connectionCount === 1, 'the closed connection to be released');
    expect(log.count('ws connection error')).toBe(1);
    expect(log.lines).toHaveLength(1);
  });

  it('rejects a call whose request exceeds the client maxFrameBytes with FrameTooLargeError', async () => {
    const { server } = await start();
    const limit = 64 * KiB;
    const c = client(server, limit);
    await c.ready();
    // Request overhead around a bin16 payload with a one-byte id: [2, id, 'test.echo', <bin>].
    const overhead = encode([REQUEST, 1, 'test.echo', new Uint8Array(60_000)]).length - 60_000;

    const atLimit = new Uint8Array(limit - overhead).fill(1);
    const echoed = await c.call<Uint8Array>('test.echo', atLimit);
    expect(echoed.ok && Buffer.from(echoed.reply).equals(Buffer.from(atLimit))).toBe(true);

    const tooBig = new Uint8Array(limit - overhead + 1);
    const error = await c.call('test.echo', tooBig).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(FrameTooLargeError);
    expect(error).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', size: limit + 1, limit });

    const muchTooBig = c.call('test.echo', { blob: new Uint8Array(limit * 4) });
    await expect(muchTooBig).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });

    // Nothing was sent; the client is unharmed.
    expect(c.state).toBe('open');
    await expect(c.call('test.echo', 'next')).resolves.toEqual({ ok: true, reply: 'next' });
  });

  it('answers REPLY_TOO_LARGE when a reply exceeds the server maxFrameBytes, and keeps the connection', async () => {
    const { server, log } = await start(64 * KiB);
    const c = client(server);
    const result = await c.call('big.bytes', 64 * KiB);
    expect(result).toMatchObject({ ok: false, code: 'REPLY_TOO_LARGE' });
    expect(result.ok ? '' : result.message).toMatch(/exceeds the frame limit/);

    const small = await c.call<Uint8Array>('big.bytes', 1000);
    expect(small.ok && small.reply.byteLength).toBe(1000);
    expect(c.state).toBe('open');
    expect(server.connectionCount).toBe(1);
    expect(log.lines).toEqual([]);

    // Same over a raw socket: an ERROR frame with the request's id, and the socket stays open.
    const raw = await RawConn.authenticated(scope, server.url);
    expect(await raw.request(5, 'big.bytes', 100 * KiB)).toEqual([
      4,
      5,
      'REPLY_TOO_LARGE',
      expect.stringMatching(/exceeds the frame limit/),
    ]);
    expect(await raw.request(6, 'test.echo', 'x')).toEqual([REPLY, 6, 'x']);
  });

  it('a reply over the limit the client announced gets REPLY_TOO_LARGE; the connection stays', async () => {
    const { server } = await start();
    const c = client(server, 64 * KiB);
    const inFlight = c.call('test.echo', 'in flight');
    const result = await c.call('big.bytes', 128 * KiB);
    expect(result).toMatchObject({ ok: false, code: 'REPLY_TOO_LARGE' });
    expect(result.ok ? '' : result.message).toMatch(/exceeds the frame limit of 65536/);
    await expect(inFlight).resolves.toEqual({ ok: true, reply: 'in flight' });
    await expect(c.call('test.echo', 'again')).resolves.toEqual({ ok: true, reply: 'again' });
    expect(server.connectionCount).toBe(1);
  });

  it('a request over the limit the server announced is refused locally, not sent', async () => {
    const { server, log } = await start(64 * KiB);
    const c = client(server, 1 * MiB);
    // Queued before the welcome: checked when it would be sent.
    const early = c.call('test.echo', new Uint8Array(100 * KiB));
    await expect(early).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', limit: 64 * KiB });
    const inFlight = c.call('test.echo', 'in flight');
    const late = c.call('test.echo', new Uint8Array(100 * KiB));
    await expect(late).rejects.toBeInstanceOf(FrameTooLargeError);
    await expect(inFlight).resolves.toEqual({ ok: true, reply: 'in flight' });
    expect(c.state).toBe('open');
    expect(server.connectionCount).toBe(1);
    expect(log.lines).toEqual([]);
  });

  it.each([
    ['1 MiB', 1 * MiB],
    ['8 MiB', 8 * MiB],
  ])(
    'round-trips a %s Uint8Array intact under the default limit',
    async (_name, size) => {
      const { server } = await start();
      const c = client(server);
      const payload = new Uint8Array(randomBytes(size));
      const result = await c.call<Uint8Array>('test.echo', payload);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.reply).toBeInstanceOf(Uint8Array);
      expect(result.reply.byteLength).toBe(size);
      expect(Buffer.compare(Buffer.from(result.reply), Buffer.from(payload))).toBe(0);

      const nested = await c.call<{ data: Uint8Array; n: number }>('test.echo', {
        data: payload.subarray(0, size / 2),
        n: size,
      });
      expect(
        nested.ok && Buffer.from(nested.reply.data).equals(payload.subarray(0, size / 2)),
      ).toBe(true);
    },
    15_000,
  );

  it('the default limit is 16 MiB', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16 * MiB);
  });
});
