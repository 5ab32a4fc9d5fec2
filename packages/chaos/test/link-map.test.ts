/**
 * Which proxies a LinkMap blackholes for each partition kind, read from its effective faults;
 * plus one message-level check that a blackholed link really swallows and a healed one relays.
 */
import { SeededRandom } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { bridgeBlocks, ChaosError, LinkMap, partitionBlocks } from '../src/index.js';
import { connect, type EchoServer, startEcho } from './support/echo.js';

/** "i>j" for every link whose forward (i's messages to j) is blackholed, sorted. */
function blackholed(map: LinkMap): string[] {
  const out: string[] = [];
  for (let i = 0; i < map.n; i++) {
    for (let j = 0; j < map.n; j++) {
      if (i === j) continue;
      const faults = map.linkFaults(i, j);
      if (faults.forward?.blackhole) out.push(`${i}>${j}`);
      // The replies j sends back over link i→j are j's messages to i.
      expect(faults.backward?.blackhole ?? false).toBe(map.isBlocked(j, i));
    }
  }
  return out;
}

let servers: EchoServer[] = [];
let map: LinkMap | undefined;

afterEach(async () => {
  await map?.close();
  map = undefined;
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function start(n: number): Promise<LinkMap> {
  servers = await Promise.all(Array.from({ length: n }, () => startEcho()));
  map = await LinkMap.start({ targets: servers.map((s) => s.url), random: new SeededRandom(1) });
  return map;
}

describe('partition math', () => {
  it('blocks across groups both ways and leaves unlisted nodes alone', () => {
    const b = partitionBlocks(4, [[0, 1], [2]]);
    expect(b[0]?.[1]).toBe(false);
    expect(b[0]?.[2]).toBe(true);
    expect(b[2]?.[0]).toBe(true);
    expect(b[3]?.[0]).toBe(true);
    expect(b[0]?.[3]).toBe(true);
  });

  it('lets both sides of a bridge talk to the bridge only', () => {
    const b = bridgeBlocks(5, [0, 1], [3, 4], 2);
    expect(b[0]?.[2]).toBe(false);
    expect(b[2]?.[4]).toBe(false);
    expect(b[0]?.[1]).toBe(false);
    expect(b[1]?.[3]).toBe(true);
    expect(b[4]?.[0]).toBe(true);
  });

  it('rejects a node in two groups or out of range', () => {
    expect(() =>
      partitionBlocks(3, [
        [0, 1],
        [1, 2],
      ]),
    ).toThrow(/more than once/);
    expect(() => partitionBlocks(3, [[0, 3]])).toThrow(ChaosError);
  });
});

describe('LinkMap', () => {
  it('gives server i its own url at i and the proxies i→j elsewhere, and one client proxy each', async () => {
    const m = await start(3);
    const peers = m.peerUrlsFor(1);
    expect(peers[1]).toBe(servers[1]?.url);
    expect(peers[0]).toBe(m.link(1, 0).url);
    expect(peers[2]).toBe(m.link(1, 2).url);
    expect(new Set(m.clientUrls()).size).toBe(3);
    expect(m.clientUrls()).not.toContain(servers[0]?.url);
    expect(m.stats().links).toHaveLength(6);
  });

  it('partition, isolate, oneWay, bridge and heal blackhole exactly the expected links', async () => {
    const m = await start(5);
    m.partition([
      [0, 1],
      [2, 3, 4],
    ]);
    expect(blackholed(m)).toEqual(
      ['0>2', '0>3', '0>4', '1>2', '1>3', '1>4', '2>0', '2>1', '3>0', '3>1', '4>0', '4>1'].sort(),
    );
    m.isolate(4);
    expect(blackholed(m)).toEqual(['0>4', '1>4', '2>4', '3>4', '4>0', '4>1', '4>2', '4>3']);
    m.heal();
    m.oneWay(0, 1);
    expect(blackholed(m)).toEqual(['0>1']);
    // The replies 0 sends over link 1→0 are lost too; 1's requests to 0 are not.
    expect(m.linkFaults(1, 0)).toMatchObject({ forward: {}, backward: { blackhole: true } });
    m.bridge([0, 1], [3, 4], 2);
    expect(blackholed(m)).toEqual(['0>3', '0>4', '1>3', '1>4', '3>0', '3>1', '4>0', '4>1']);
    m.heal();
    expect(blackholed(m)).toEqual([]);
  });

  it('lays partitions over a link`s own faults; heal clears both', async () => {
    const m = await start(3);
    m.setLinkFaults(0, 1, { both: { delayMs: 5 } });
    m.isolate(1);
    expect(m.linkFaults(0, 1)).toEqual({
      forward: { delayMs: 5, blackhole: true },
      backward: { delayMs: 5, blackhole: true },
    });
    m.heal();
    expect(m.linkFaults(0, 1)).toEqual({ forward: {}, backward: {} });
  });

  it('swallows messages on an isolated link and never partitions clients', async () => {
    const m = await start(2);
    m.isolate(0);
    const peer = await connect(m.peerUrlsFor(0)[1] as string);
    const viaClient = await connect(m.clientUrls()[0] as string);
    peer.socket.send(Buffer.from('lost'));
    viaClient.socket.send(Buffer.from('served'));
    await viaClient.waitFor(1);
    expect(servers[1]?.received).toHaveLength(0);
    m.heal();
    expect(await peer.closed).toBe(1006);
    const again = await connect(m.peerUrlsFor(0)[1] as string);
    again.socket.send(Buffer.from('ok'));
    await again.waitFor(1);
    viaClient.socket.terminate();
    again.socket.terminate();
  });

  it('closes idempotently, then throws ERR_PROXY_CLOSED', async () => {
    const m = await start(2);
    const closing = m.close();
    expect(m.close()).toBe(closing);
    await closing;
    expect(() => m.heal()).toThrow(expect.objectContaining({ code: 'ERR_PROXY_CLOSED' }));
    expect(() => m.link(0, 0)).toThrow(expect.objectContaining({ code: 'ERR_CHAOS_CONFIG' }));
  });
});
