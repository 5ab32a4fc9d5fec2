import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { decode, encode, RpcServer, WsClient, type WsServer } from '../src/index.js';
import {
  capturingLogger,
  codeOf,
  type Deferred,
  deferred,
  listen,
  plateau,
  RawConn,
  REPLY,
  REQUEST,
  Scope,
  settlements,
  testService,
  WELCOME,
  waitFor,
  within,
} from './support/ws-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

const scope = new Scope();
afterEach(() => scope.closeAll());

interface Counters {
  /** Handler invocations of `big.get` / `slow.wait`. */
  big: number;
  slow: number;
  running: number;
  maxRunning: number;
  gate: Deferred<void>;
}

async function start(
  replyBytes: number,
  options: { highWaterMarkBytes: number; maxInFlightPerConnection: number },
): Promise<{ server: WsServer; counters: Counters; other: WsClient }> {
  const reply = new Uint8Array(replyBytes).fill(0x5a);
  const counters: Counters = { big: 0, slow: 0, running: 0, maxRunning: 0, gate: deferred() };
  const rpcServer = new RpcServer({ logger: capturingLogger() })
    .addService('test', testService())
    .addService('big', {
      get: () => {
        counters.big++;
        return reply;
      },
    })
    .addService('slow', {
      wait: async (n: number) => {
        counters.slow++;
        counters.running++;
        counters.maxRunning = Math.max(counters.maxRunning, counters.running);
        await counters.gate.promise;
        counters.running--;
        return n;
      },
    });
  const server = await listen(scope, { rpcServer, logger: capturingLogger(), ...options });
  const other = scope.track(
    new WsClient({ url: server.url, logger: capturingLogger(), callTimeoutMs: 5000 }),
  );
  await other.ready();
  return { server, counters, other };
}

/** Sends `count` requests for `method` in one synchronous burst (ids 1..count). */
function burst(raw: RawConn, method: string, count: number): void {
  for (let id = 1; id <= count; id++) raw.send([REQUEST, id, method, id]);
}

describe('WsServer backpressure', () => {
  it('stops reading from a client that does not read its replies; others are served; all replies arrive once it reads again', async () => {
    const { server, counters, other } = await start(16 * KiB, {
      highWaterMarkBytes: 1 * MiB,
      maxInFlightPerConnection: 16,
    });
    const stalled = await RawConn.authenticated(scope, server.url);
    stalled.discard = true;
    stalled.tcp.pause(); // read nothing more from the server
    const sent = 10_000;
    burst(stalled, 'big.get', sent);

    // The server reads a while, then stops: invocations level off far below what was sent.
    await waitFor(() => counters.big > 0, 'the first invocations');
    const level = await plateau(() => counters.big, 150);
    expect(level).toBeLessThan(sent / 2);

    // Another client on the same server is served while the first is stalled.
    for (let i = 0; i < 20; i++) {
      await expect(other.call('test.echo', i)).resolves.toEqual({ ok: true, reply: i });
    }
    expect(counters.big).toBe(level); // still stalled

    // Reading again: every reply arrives.
    stalled.tcp.resume();
    await waitFor(() => stalled.received === sent + 1, `${sent} replies`, 12_000);
    expect(counters.big).toBe(sent);
    stalled.discard = false;
    expect(await stalled.request(sent + 1, 'test.echo', 'done')).toEqual([REPLY, sent + 1, 'done']);
  }, 15_000);

  // BUG (src/ws/ws-server.ts, Connection.#onMessage / #updateFlow): pausing the socket does not
  // stop `ws` from emitting the messages already in the chunk it is parsing (ws docs: "some
  // events can still be emitted after pause()"). #onMessage dispatches every one of them, so a
  // pipelined burst is dispatched all at once and maxInFlightPerConnection is not a bound: here
  // 200 handlers run concurrently with a limit of 16. Fix: in #onMessage, while #paused (or while
  // a backlog exists), push [data, isBinary] onto a per-connection backlog instead of handling
  // it; in #updateFlow, when no longer saturated, handle backlogged messages one by one until
  // saturated again or the backlog is empty, and only then socket.resume(). The backlog is
  // bounded by one socket read. Remove `.fails` once fixed.
  it('never runs more than maxInFlightPerConnection handlers for one connection', async () => {
    const { server, counters } = await start(16, {
      highWaterMarkBytes: 1 * MiB,
      maxInFlightPerConnection: 16,
    });
    const raw = await RawConn.authenticated(scope, server.url);
    burst(raw, 'slow.wait', 200);
    await waitFor(() => counters.running >= 16, '16 running handlers');
    await plateau(() => counters.slow, 100);
    try {
      expect(counters.maxRunning).toBeLessThanOrEqual(16);
    } finally {
      counters.gate.resolve();
    }
    await waitFor(() => raw.received === 201, 'all 200 replies');
    expect(counters.slow).toBe(200);
  });

  // Same BUG as above, through highWaterMarkBytes: a burst of 300 requests for 256 KiB replies
  // to a client that does not read gets all 300 handled (75 MiB queued in the server's memory)
  // although the high-water mark is 1 MiB. With the fix, 18 are handled before reading stops
  // (1 MiB plus what the loopback socket buffers absorb).
  it('stops handling a burst once highWaterMarkBytes of replies are unsent', async () => {
    const { server, counters } = await start(256 * KiB, {
      highWaterMarkBytes: 1 * MiB,
      maxInFlightPerConnection: 16,
    });
    const stalled = await RawConn.authenticated(scope, server.url);
    stalled.discard = true;
    stalled.tcp.pause();
    const sent = 300;
    burst(stalled, 'big.get', sent);
    await waitFor(() => counters.big > 0, 'the first invocations');
    const level = await plateau(() => counters.big, 150);
    try {
      expect(level).toBeLessThanOrEqual(64);
    } finally {
      stalled.tcp.resume();
    }
    await waitFor(() => stalled.received === sent + 1, `${sent} replies`, 10_000);
  }, 15_000);
});

describe('WsClient backpressure', () => {
  /**
   * A raw server that welcomes, then stops reading (socket paused) until `resume()`; after
   * that it answers each request with the byte length of its args.
   */
  async function stallingServer(): Promise<{
    url: string;
    resume: () => void;
    requests: () => number;
  }> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    const sockets = new Set<WebSocket>();
    scope.defer(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.terminate();
          wss.close(() => resolve());
        }),
    );
    let requests = 0;
    wss.on('connection', (socket) => {
      sockets.add(socket);
      let welcomed = false;
      socket.on('message', (data) => {
        const frame = decode(data as Buffer) as unknown[];
        if (!welcomed) {
          welcomed = true;
          socket.send(encode([WELCOME, 1]));
          socket.pause();
          return;
        }
        requests++;
        const args = frame[3];
        socket.send(encode([REPLY, frame[1], args instanceof Uint8Array ? args.byteLength : args]));
      });
    });
    const { port } = wss.address() as { port: number };
    return {
      url: `ws://127.0.0.1:${port}`,
      resume: () => {
        for (const socket of sockets) socket.resume();
      },
      requests: () => requests,
    };
  }

  it('fails calls beyond maxQueuedCalls with OVERLOADED at once and times out the rest when the server stops reading', async () => {
    const peer = await stallingServer();
    const log = capturingLogger();
    const maxQueuedCalls = 8;
    const c = scope.track(
      new WsClient({
        url: peer.url,
        logger: log,
        highWaterMarkBytes: 64 * KiB,
        maxQueuedCalls,
        reconnect: false,
      }),
    );
    await c.ready();

    const args = new Uint8Array(256 * KiB);
    const tracked = settlements();
    const order: string[] = [];
    const count = 120; // 30 MiB: far more than the loopback socket buffers hold
    const calls = Array.from({ length: count }, () =>
      tracked.track(c.call('x.y', args, { timeoutMs: 800 })).then((result) => {
        order.push(codeOf(result));
        return result;
      }),
    );
    const results = (await within(Promise.all(calls), 5000, 'every call')).map(codeOf);

    // Some were written, then maxQueuedCalls were held, then the rest refused at once.
    const overloaded = results.filter((code) => code === 'OVERLOADED').length;
    const timedOut = results.filter((code) => code === 'TIMEOUT').length;
    expect(overloaded + timedOut).toBe(count);
    expect(overloaded).toBeGreaterThan(0);
    expect(timedOut).toBeGreaterThan(maxQueuedCalls);
    expect(results.indexOf('OVERLOADED')).toBe(timedOut); // OVERLOADED ones are a suffix
    expect(order.slice(0, overloaded)).toEqual(Array(overloaded).fill('OVERLOADED')); // and came first
    expect(tracked.counts).toEqual(Array(count).fill(1));
    expect(c.state).toBe('open');

    // Once the server reads again the connection works: late replies are ignored, new calls answered.
    peer.resume();
    await waitFor(() => peer.requests() === timedOut - maxQueuedCalls, 'the written requests');
    await expect(c.call('x.y', new Uint8Array(10))).resolves.toEqual({ ok: true, reply: 10 });
    expect(log.lines).toEqual([]);
  }, 15_000);
});
