/**
 * FaultProxy against a local ws echo server, in real time on loopback. Every wait is bounded;
 * afterEach closes every proxy, client and server the test opened.
 */
import { poll, sleep } from '@flotilla/devkit/time/within';
import { SeededRandom } from '@flotilla/transport';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChaosError, FaultProxy, type ProxyFaults } from '../src/index.js';
import { connect, type EchoServer, startEcho, type TestClient } from './support/echo.js';

let echo: EchoServer;
const proxies: FaultProxy[] = [];
const clients: TestClient[] = [];

beforeEach(async () => {
  echo = await startEcho();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  await echo.close();
});

async function proxy(faults?: ProxyFaults): Promise<FaultProxy> {
  const p = await FaultProxy.start({
    target: echo.url,
    random: new SeededRandom(42),
    ...(faults && { faults }),
  });
  proxies.push(p);
  return p;
}

async function client(url: string): Promise<TestClient> {
  const c = await connect(url);
  clients.push(c);
  return c;
}

describe('FaultProxy', () => {
  it('relays binary and text messages both ways, each whole and of its own kind', async () => {
    const p = await proxy();
    expect(p.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const c = await client(p.url);
    const bytes = Buffer.from([0, 1, 2, 255, 128]);
    c.socket.send(bytes);
    c.socket.send('hello', { binary: false });
    await c.waitFor(2);
    expect(c.received[0]).toEqual({ data: bytes, isBinary: true });
    expect(c.received[1]).toEqual({ data: Buffer.from('hello'), isBinary: false });
    expect(p.stats()).toMatchObject({
      connections: 1,
      accepted: 1,
      forward: { received: 2, forwarded: 2 },
      backward: { received: 2, forwarded: 2 },
    });
  });

  it('drops every message with drop=1 (the server receives none)', async () => {
    const p = await proxy({ forward: { drop: 1 } });
    const c = await client(p.url);
    for (let i = 0; i < 20; i++) c.socket.send(Buffer.from([i]));
    await poll('20 received', () => (p.stats().forward.received === 20 ? true : undefined), {
      timeoutMs: 5000,
    });
    expect(p.stats().forward.dropped).toBe(20);
    expect(echo.received).toHaveLength(0);
    expect(c.received).toHaveLength(0);
  });

  it('duplicates every message with duplicate=1 on both directions', async () => {
    const p = await proxy({ both: { duplicate: 1 } });
    const c = await client(p.url);
    c.socket.send(Buffer.from('x'));
    // One send, two copies to the server, each echoed and doubled on the way back.
    await c.waitFor(4);
    expect(echo.received).toHaveLength(2);
    expect(p.stats().forward.duplicated).toBe(1);
    expect(p.stats().backward.duplicated).toBe(2);
  });

  it('swallows everything while blackholed (cutting old connections) and relays again after heal', async () => {
    const p = await proxy();
    const before = await client(p.url);
    p.setFaults({ both: { blackhole: true } });
    // Turning the blackhole on cut the connection that was open.
    expect(await before.closed).toBe(1006);
    const during = await client(p.url);
    during.socket.send(Buffer.from('lost'));
    await poll('blackholed', () => (p.stats().forward.blackholed === 1 ? true : undefined), {
      timeoutMs: 5000,
    });
    await sleep(50);
    expect(echo.received).toHaveLength(0);
    p.setFaults({});
    // Healing cut the connection accepted during the blackhole too: it never reached the target.
    expect(await during.closed).toBe(1006);
    const after = await client(p.url);
    after.socket.send(Buffer.from('back'));
    await after.waitFor(1);
    expect(after.received[0]?.data.toString()).toBe('back');
    expect(p.stats().cut).toBe(2);
  });

  it('closes new connections at once with refuse, keeping the open ones', async () => {
    const p = await proxy();
    const open = await client(p.url);
    p.setFaults({ refuse: true });
    await expect(connect(p.url)).rejects.toThrow(/closed with/);
    open.socket.send(Buffer.from('still'));
    await open.waitFor(1);
    expect(p.stats().refused).toBe(1);
    p.setFaults({});
    await client(p.url);
  });

  it('cut() ends every current connection on both sides and still accepts new ones', async () => {
    const p = await proxy();
    const a = await client(p.url);
    const b = await client(p.url);
    await poll('2 at the echo', () => (echo.accepted() === 2 ? true : undefined), {
      timeoutMs: 5000,
    });
    expect(p.cut()).toBe(2);
    expect(await a.closed).toBe(1006);
    expect(await b.closed).toBe(1006);
    expect(p.stats().connections).toBe(0);
    const c = await client(p.url);
    c.socket.send(Buffer.from('again'));
    await c.waitFor(1);
  });

  it('passes a clean close on to the other side with its code', async () => {
    const p = await proxy();
    const c = await client(p.url);
    await poll('accepted', () => (echo.accepted() === 1 ? true : undefined), { timeoutMs: 5000 });
    c.socket.close(4001, 'bye');
    expect(await c.closed).toBe(4001);
    await poll('relay gone', () => (p.stats().connections === 0 ? true : undefined), {
      timeoutMs: 5000,
    });
  });

  it('delays messages by delayMs', async () => {
    const p = await proxy({ forward: { delayMs: 150 } });
    const c = await client(p.url);
    const sent = performance.now();
    c.socket.send(Buffer.from('slow'));
    await c.waitFor(1);
    expect(performance.now() - sent).toBeGreaterThanOrEqual(140);
    expect(p.stats().forward.delayed).toBe(1);
  });

  it('close() is idempotent, cuts connections, and then every operation throws ERR_PROXY_CLOSED', async () => {
    const p = await proxy();
    const c = await client(p.url);
    const first = p.close();
    expect(p.close()).toBe(first);
    await first;
    expect(await c.closed).toBe(1006);
    for (const op of [() => p.setFaults({}), () => p.cut()]) {
      try {
        op();
        expect.fail('no error');
      } catch (err) {
        expect(err).toBeInstanceOf(ChaosError);
        expect((err as ChaosError).code).toBe('ERR_PROXY_CLOSED');
      }
    }
    expect(p.stats().accepted).toBe(1);
    await expect(connect(p.url, 2000)).rejects.toThrow();
  });

  it('cuts the client when the target is down', async () => {
    const p = await proxy();
    await echo.close();
    const c = await connect(p.url);
    clients.push(c);
    expect(await c.closed).toBe(1006);
    echo = await startEcho();
  });
});
