import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import {
  type Clock,
  type RpcServer,
  realClock,
  SeededRandom,
  WsClient,
  type WsClientOptions,
  type WsServer,
} from '../src/index.js';
import {
  capturingLogger,
  codeOf,
  listen,
  type Probe,
  probe,
  Scope,
  settlements,
  testRpcServer,
  waitFor,
  within,
} from './support/ws-helpers.js';

const scope = new Scope();
afterEach(() => scope.closeAll());

const INITIAL_DELAY = 20;
const MAX_DELAY = 100;
/** Call timeouts are all >= this, reconnect delays all <= MAX_DELAY: the clock tells them apart. */
const CALL_TIMEOUT = 4000;

/** realClock, recording every delay the client asks for. */
interface RecordingClock extends Clock {
  readonly delays: number[];
  /** Delays that are reconnect backoffs (not call timeouts). */
  backoffs(): number[];
}

function recordingClock(): RecordingClock {
  const delays: number[] = [];
  return {
    delays,
    now: () => realClock.now(),
    setTimeout: (callback, delayMs) => {
      delays.push(delayMs);
      return realClock.setTimeout(callback, delayMs);
    },
    clearTimeout: (timer) => realClock.clearTimeout(timer),
    backoffs: () => delays.filter((ms) => ms <= MAX_DELAY),
  };
}

interface Setup {
  server: WsServer;
  rpcServer: RpcServer;
  calls: Probe;
}

async function start(port?: number, calls: Probe = probe()): Promise<Setup> {
  const rpcServer = testRpcServer(capturingLogger(), calls);
  const server = await listen(scope, { rpcServer, logger: capturingLogger(), port });
  return { server, rpcServer, calls };
}

function client(url: string, options: Partial<WsClientOptions> = {}): WsClient {
  return scope.track(
    new WsClient({
      url,
      logger: capturingLogger(),
      callTimeoutMs: CALL_TIMEOUT,
      reconnect: { initialDelayMs: INITIAL_DELAY, maxDelayMs: MAX_DELAY },
      random: new SeededRandom(7),
      ...options,
    }),
  );
}

describe('WsClient reconnection', () => {
  it('reconnects with exponential backoff (jittered, capped) to a server restarted on the same port', async () => {
    const first = await start();
    const port = first.server.port;
    const clock = recordingClock();
    const c = client(first.server.url, { clock });
    await c.ready();
    await expect(c.call('test.echo', 1)).resolves.toEqual({ ok: true, reply: 1 });

    await first.server.close();
    await waitFor(() => c.state === 'connecting', 'the client to notice the drop');
    // Let several attempts fail against the closed port.
    await waitFor(() => clock.backoffs().length >= 5, 'five reconnect attempts');
    expect(c.state).toBe('connecting');

    const second = await start(port);
    expect(second.server.port).toBe(port);
    await within(c.ready(), 3000, 'the client to reconnect');
    expect(c.state).toBe('open');
    await expect(c.call('test.echo', 2)).resolves.toEqual({ ok: true, reply: 2 });
    expect(second.server.connectionCount).toBe(1);

    // Delay n is in [base/2, base] with base = min(max, initial * 2^n).
    const backoffs = clock.backoffs();
    backoffs.forEach((delay, n) => {
      const base = Math.min(MAX_DELAY, INITIAL_DELAY * 2 ** n);
      expect(delay, `delay ${n}`).toBeGreaterThanOrEqual(base / 2);
      expect(delay, `delay ${n}`).toBeLessThanOrEqual(base);
    });
    expect(Math.max(...backoffs)).toBeLessThanOrEqual(MAX_DELAY);

    // A successful connection resets the backoff: the next drop starts from the initial delay.
    const before = backoffs.length;
    await second.server.close();
    await waitFor(
      () => clock.backoffs().length > before,
      'a reconnect attempt after the second drop',
    );
    expect(clock.backoffs()[before]).toBeLessThanOrEqual(INITIAL_DELAY);
  });

  it('holds calls made while disconnected and sends them once reconnected', async () => {
    const first = await start();
    const port = first.server.port;
    const clock = recordingClock();
    const c = client(first.server.url, { clock });
    await c.ready();
    await first.server.close();
    await waitFor(() => c.state === 'connecting', 'the client to notice the drop');

    const tracked = settlements();
    const calls = Array.from({ length: 20 }, (_, i) =>
      tracked.track(c.call('test.echo', { i }, { timeoutMs: 5000 })),
    );
    // Time passes (three failed attempts) and the calls are still waiting, not failed.
    const attempts = clock.backoffs().length;
    await waitFor(() => clock.backoffs().length >= attempts + 3, 'three more reconnect attempts');
    expect(tracked.settled).toBe(0);

    const second = await start(port);
    const results = await within(Promise.all(calls), 4000, 'the held calls');
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => ({ ok: true, reply: { i } })));
    expect(second.calls.calls.get('echo')).toBe(20);
    expect(tracked.counts).toEqual(Array(20).fill(1));
  });

  it('failWhileDown: calls made while the server is down get UNREACHABLE at once, queued ones when an attempt fails; served again once back', async () => {
    const first = await start();
    const port = first.server.port;
    const c = client(first.server.url, { failWhileDown: true });
    await c.ready();
    expect(await c.call('test.echo', 1)).toEqual({ ok: true, reply: 1 });
    await first.server.close();
    await waitFor(() => c.state === 'connecting', 'the client to notice the drop');
    const started = realClock.now();
    const down = await c.call('test.echo', 2);
    expect(down).toMatchObject({ ok: false, code: 'UNREACHABLE' });
    expect(realClock.now() - started).toBeLessThan(CALL_TIMEOUT / 4);

    const second = await start(port);
    await within(c.ready(), 4000, 'the reconnect');
    expect(await c.call('test.echo', 3)).toEqual({ ok: true, reply: 3 });
    expect(second.calls.calls.get('echo')).toBe(1);

    // A first attempt at a dead port: the call waits for it, then fails with it.
    await second.server.close();
    const fresh = client(`ws://127.0.0.1:${port}`, { failWhileDown: true });
    const queued = await within(fresh.call('test.echo', 4), CALL_TIMEOUT / 4, 'the queued call');
    expect(queued).toMatchObject({ ok: false, code: 'UNREACHABLE' });
  });

  it('fails calls in flight with CONNECTION_LOST as soon as the connection drops', async () => {
    const { server, calls } = await start();
    const c = client(server.url);
    await c.ready();
    const tracked = settlements();
    const inFlight = Array.from({ length: 5 }, () =>
      tracked.track(c.call('test.never', null, { timeoutMs: 10_000 })),
    );
    const echoed = tracked.track(c.call('test.echo', 'answered'));
    await expect(echoed).resolves.toEqual({ ok: true, reply: 'answered' });
    await waitFor(() => calls.calls.get('never') === 5, 'the handlers to be running');

    const dropped = performance.now();
    await server.close(); // terminates every connection
    const results = await within(Promise.all(inFlight), 2000, 'CONNECTION_LOST');
    expect(performance.now() - dropped).toBeLessThan(1000);
    expect(results.map(codeOf)).toEqual(Array(5).fill('CONNECTION_LOST'));
    expect(tracked.counts).toEqual(Array(6).fill(1));
    expect(c.state).toBe('connecting');
  });

  it('resolves TIMEOUT after timeoutMs when the server never answers, and the connection stays usable', async () => {
    const { server } = await start();
    const c = client(server.url);
    await c.ready();
    const started = performance.now();
    const result = await c.call('test.never', null, { timeoutMs: 150 });
    const elapsed = performance.now() - started;
    expect(result).toEqual({ ok: false, code: 'TIMEOUT' });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
    // callTimeoutMs is the default.
    const short = client(server.url, { callTimeoutMs: 120 });
    await expect(short.call('test.never', null)).resolves.toEqual({ ok: false, code: 'TIMEOUT' });

    expect(c.state).toBe('open');
    await expect(c.call('test.echo', 'still fine')).resolves.toEqual({
      ok: true,
      reply: 'still fine',
    });
  });

  it('times out calls queued behind a server that never welcomes', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    scope.defer(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of wss.clients) socket.terminate();
          wss.close(() => resolve());
        }),
    );
    const hellos: unknown[] = [];
    wss.on('connection', (socket) => socket.on('message', (data) => hellos.push(data)));
    const { port } = wss.address() as { port: number };

    const c = client(`ws://127.0.0.1:${port}`);
    const tracked = settlements();
    const results = await Promise.all([
      tracked.track(c.call('test.echo', 1, { timeoutMs: 100 })),
      tracked.track(c.call('test.echo', 2, { timeoutMs: 200 })),
    ]);
    expect(results).toEqual([
      { ok: false, code: 'TIMEOUT' },
      { ok: false, code: 'TIMEOUT' },
    ]);
    expect(hellos).toHaveLength(1); // only the hello was written; the calls stayed queued
    expect(c.state).toBe('connecting');
  });

  it('close() fails pending calls with CLOSED, later calls get CLOSED, and each call settles once', async () => {
    const first = await start();
    const c = client(first.server.url);
    await c.ready();
    const tracked = settlements();
    const inFlight = [1, 2, 3].map(() => tracked.track(c.call('test.never', null)));
    await waitFor(() => first.calls.calls.get('never') === 3, 'the handlers to be running');

    await c.close();
    expect(c.state).toBe('closed');
    const results = await within(Promise.all(inFlight), 1000, 'CLOSED');
    expect(results.map(codeOf)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    await expect(c.call('test.echo', 1)).resolves.toEqual({ ok: false, code: 'CLOSED' });
    await expect(c.ready()).rejects.toThrow(/closed/);
    await c.close(); // idempotent
    await waitFor(() => first.server.connectionCount === 0, 'the server to see the close');
    expect(tracked.counts).toEqual([1, 1, 1]);
  });

  it('close() while reconnecting fails held calls with CLOSED and stops reconnecting', async () => {
    const first = await start();
    const port = first.server.port;
    const clock = recordingClock();
    const c = client(first.server.url, { clock });
    await c.ready();
    await first.server.close();
    await waitFor(() => clock.backoffs().length >= 2, 'two reconnect attempts');

    const tracked = settlements();
    const held = [1, 2].map((i) => tracked.track(c.call('test.echo', i)));
    const ready = c.ready();
    await c.close();
    await expect(ready).rejects.toThrow(/closed/);
    expect((await Promise.all(held)).map(codeOf)).toEqual(['CLOSED', 'CLOSED']);
    expect(tracked.counts).toEqual([1, 1]);

    // The server coming back changes nothing; no new attempt was scheduled after close().
    const attempts = clock.backoffs().length;
    const second = await start(port);
    await expect(c.call('test.echo', 3)).resolves.toEqual({ ok: false, code: 'CLOSED' });
    expect(clock.backoffs().length).toBe(attempts);
    expect(second.server.connectionCount).toBe(0);
  });

  it('every call settles exactly once through drops, reconnects, timeouts and close()', async () => {
    const first = await start();
    const port = first.server.port;
    const c = client(first.server.url);
    await c.ready();
    const tracked = settlements();
    const all: Array<Promise<unknown>> = [];
    const fire = (n: number): void => {
      for (let i = 0; i < n; i++) {
        const method = i % 3 === 0 ? 'test.never' : 'test.echo';
        all.push(tracked.track(c.call(method, i, { timeoutMs: 50 + (i % 7) * 40 })));
      }
    };
    fire(60); // connected
    await first.server.close();
    await waitFor(() => c.state === 'connecting', 'the client to notice the drop');
    fire(60); // disconnected: held
    const second = await start(port);
    await c.ready();
    fire(60); // reconnected
    await waitFor(() => tracked.settled === 180, 'the first 180 calls to settle');
    fire(30);
    await c.close(); // the rest get CLOSED
    await within(Promise.all(all), 3000, 'every call');
    expect(tracked.counts).toEqual(Array(210).fill(1));
    const codes = new Set(tracked.results.map(codeOf));
    for (const code of codes) {
      expect(['OK', 'TIMEOUT', 'CONNECTION_LOST', 'CLOSED']).toContain(code);
    }
    expect(codes.has('OK')).toBe(true);
    expect(codes.has('CONNECTION_LOST')).toBe(true);
    expect(codes.has('TIMEOUT')).toBe(true);
    expect(second.calls.calls.get('echo')).toBeGreaterThan(0);
  });
});

describe('WsClient with reconnect: false', () => {
  it('is closed for good after a drop', async () => {
    const first = await start();
    const port = first.server.port;
    const clock = recordingClock();
    const c = client(first.server.url, { reconnect: false, clock });
    await c.ready();
    const tracked = settlements();
    const inFlight = tracked.track(c.call('test.never', null));
    await waitFor(() => first.calls.calls.get('never') === 1, 'the handler to be running');

    await first.server.close();
    await expect(within(inFlight, 2000, 'CONNECTION_LOST')).resolves.toEqual({
      ok: false,
      code: 'CONNECTION_LOST',
    });
    await waitFor(() => c.state === 'closed', "state 'closed'");
    await expect(c.call('test.echo', 1)).resolves.toEqual({ ok: false, code: 'CLOSED' });
    await expect(c.ready()).rejects.toThrow(/closed/);

    const second = await start(port);
    await expect(c.call('test.echo', 2)).resolves.toEqual({ ok: false, code: 'CLOSED' });
    expect(clock.backoffs()).toEqual([]);
    expect(second.server.connectionCount).toBe(0);
    expect(tracked.counts).toEqual([1]);
  });

  it('fails calls still queued at the drop with CLOSED', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    scope.defer(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    // Never welcomes; closes the connection on the hello.
    wss.on('connection', (socket) => socket.on('message', () => socket.close(1011, 'bye')));
    const { port } = wss.address() as { port: number };

    const c = client(`ws://127.0.0.1:${port}`, { reconnect: false });
    const ready = c.ready();
    const queued = c.call('test.echo', 1);
    await expect(ready).rejects.toThrow(/closed/);
    await expect(queued).resolves.toEqual({ ok: false, code: 'CLOSED' });
    expect(c.state).toBe('closed');
  });
});
