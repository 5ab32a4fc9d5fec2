/**
 * peerClient: a WsClient whose reconnect backoff stays near a heartbeat, so a peer that comes
 * back is reached at once however long it was down. Real sockets on 127.0.0.1; every wait is
 * a poll with a deadline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Clock,
  PEER_CALL_TIMEOUT_MS,
  PEER_RECONNECT,
  peerClient,
  realClock,
  SeededRandom,
  type WsClient,
  type WsClientOptions,
  type WsServer,
} from '../src/index.js';
import {
  capturingLogger,
  codeOf,
  listen,
  Scope,
  testRpcServer,
  waitFor,
  within,
} from './support/ws-helpers.js';

const scope = new Scope();
afterEach(() => scope.closeAll());

/** realClock, recording every delay asked of it. */
function recordingClock(): Clock & { readonly delays: number[] } {
  const delays: number[] = [];
  return {
    delays,
    now: () => realClock.now(),
    setTimeout: (callback, delayMs) => {
      delays.push(delayMs);
      return realClock.setTimeout(callback, delayMs);
    },
    clearTimeout: (timer) => realClock.clearTimeout(timer),
  };
}

function start(port?: number): Promise<WsServer> {
  const rpcServer = testRpcServer(capturingLogger());
  return listen(scope, { rpcServer, logger: capturingLogger(), port });
}

function client(url: string, options: Omit<WsClientOptions, 'url'> = {}): WsClient {
  return scope.track(
    peerClient(url, { logger: capturingLogger(), random: new SeededRandom(7), ...options }),
  );
}

describe('peerClient', () => {
  it('reaches a peer restarted on the same port within PEER_RECONNECT.maxDelayMs, however long it was down', async () => {
    const first = await start();
    const port = first.port;
    const clock = recordingClock();
    const c = client(first.url, { clock });
    await c.ready();

    await first.close();
    await waitFor(() => c.state === 'connecting', 'the client to notice the drop');
    // Eight failed attempts (~0.5 s): with WsClient's own defaults the next delay would be
    // 2.5–5 s by now; here every delay stays at most maxDelayMs.
    const backoffs = (): number[] => clock.delays.filter((ms) => ms < PEER_CALL_TIMEOUT_MS);
    await waitFor(() => backoffs().length >= 8, 'eight reconnect attempts');
    expect(Math.max(...backoffs())).toBeLessThanOrEqual(PEER_RECONNECT.maxDelayMs);
    expect(c.state).toBe('connecting');

    await start(port);
    const back = performance.now();
    await within(c.ready(), 2000, 'the client to reconnect');
    // The next attempt is at most maxDelayMs away; the rest is one loopback handshake (with
    // room for a busy machine).
    expect(performance.now() - back).toBeLessThan(PEER_RECONNECT.maxDelayMs + 250);
    await expect(c.call('test.echo', 'back')).resolves.toEqual({ ok: true, reply: 'back' });
  });

  it('defaults callTimeoutMs to PEER_CALL_TIMEOUT_MS; options override both defaults', async () => {
    const server = await start();
    const clock = recordingClock();
    const c = client(server.url, { clock });
    await c.ready();
    const call = c.call('test.never', null);
    expect(clock.delays).toEqual([PEER_CALL_TIMEOUT_MS]);
    await c.close();
    expect(codeOf(await call)).toBe('CLOSED');

    const own = recordingClock();
    const tuned = client(server.url, { clock: own, callTimeoutMs: 300, reconnect: false });
    await tuned.ready();
    const tunedCall = tuned.call('test.never', null);
    expect(own.delays).toEqual([300]);
    await server.close();
    expect(codeOf(await within(tunedCall, 2000, 'CONNECTION_LOST'))).toBe('CONNECTION_LOST');
    await waitFor(() => tuned.state === 'closed', 'reconnect: false to close the client');
    expect(own.delays).toEqual([300]);
  });
});
