/**
 * The end-to-end check: three real `flotilla-kvraft serve` processes (from sources,
 * through tsx, as packages/kvraft/test/process/cluster.ts runs them) whose every peer link
 * goes through a LinkMap, and a clerk over the client proxies. Writes land; the leader is
 * isolated; the majority elects a new leader and keeps serving; the partition heals; every
 * write is there.
 *
 * Real time, bounded: every wait has a deadline (the whole test stays under ~40 s); afterEach
 * closes the clerk and the map, SIGKILLs every server by pid and removes the temp dir.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts } from '@flotilla/devkit/net/ports';
import { poll, within } from '@flotilla/devkit/time/within';
import { type Clerk, connectClerk } from '@flotilla/kvraft';
import { SeededRandom } from '@flotilla/transport';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkMap, Supervisor } from '../src/index.js';

const KVRAFT_DIR = fileURLToPath(new URL('../../kvraft', import.meta.url));
const AUTH_TOKEN = 'chaos-test-token';
const N = 3;
const OP_TIMEOUT_MS = 15_000;

let sup: Supervisor | undefined;
let map: LinkMap | undefined;
let clerk: Clerk | undefined;
let baseDir: string | undefined;

afterEach(async () => {
  await clerk?.close();
  await map?.close();
  await sup?.stopAll();
  if (baseDir !== undefined) await rm(baseDir, { recursive: true, force: true });
  clerk = map = sup = baseDir = undefined;
});

/** The leader of the highest term among the servers' last "raft state" lines, if any. */
function leaderOf(
  s: Supervisor,
  among: readonly number[],
): { id: number; term: number } | undefined {
  let found: { id: number; term: number } | undefined;
  for (const id of among) {
    if (s.state(`server-${id}`) === 'exited') continue;
    let last: { term: number; role: string } | undefined;
    for (const line of s.output(`server-${id}`)) {
      if (line.stream !== 'stderr' || !line.text.includes('"raft state"')) continue;
      try {
        last = JSON.parse(line.text) as { term: number; role: string };
      } catch {
        // Not a whole JSON line.
      }
    }
    if (last?.role === 'leader' && (found === undefined || last.term > found.term)) {
      found = { id, term: last.term };
    }
  }
  return found;
}

const op = <T>(promise: Promise<T>, what: string): Promise<T> =>
  within(promise, OP_TIMEOUT_MS, what);

describe('a kvraft cluster through a LinkMap', () => {
  it('keeps serving from the majority while the leader is isolated, and loses nothing on heal', async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'flotilla-chaos-'));
    const ports = await freePorts(N);
    const targets = ports.map((port) => `ws://127.0.0.1:${port}`);
    map = await LinkMap.start({ targets, random: new SeededRandom(17) });
    sup = new Supervisor();
    const env = { ...process.env };
    delete env.FLOTILLA_AUTH_TOKEN;
    for (let id = 0; id < N; id++) {
      sup.spawn(`server-${id}`, {
        command: process.execPath,
        args: [
          ...['--import', 'tsx', 'src/cli.ts', 'serve'],
          ...['--id', String(id), '--peers', map.peerUrlsFor(id).join(',')],
          ...['--data-dir', join(baseDir, `server-${id}`), '--auth-token', AUTH_TOKEN],
        ],
        cwd: KVRAFT_DIR,
        env,
      });
    }
    const s = sup;
    for (let id = 0; id < N; id++) {
      const match = await s.waitForOutput(`server-${id}`, /^listening (ws:\/\/\S+)$/, 20_000);
      expect(match[1]).toBe(targets[id]);
    }
    clerk = connectClerk(map.clientUrls(), { authToken: AUTH_TOKEN });
    const c = clerk;
    await op(c.put('k0', 'v0'), 'the first put');
    await op(c.append('log', 'a'), 'an append');

    const all = [0, 1, 2];
    const leader = await poll('a leader', () => leaderOf(s, all), { timeoutMs: 10_000 });
    map.isolate(leader.id);
    const majority = all.filter((id) => id !== leader.id);
    await op(c.put('k1', 'v1'), 'a put with the leader isolated');
    await op(c.append('log', 'b'), 'an append with the leader isolated');
    expect(await op(c.get('k1'), 'a get with the leader isolated')).toBe('v1');
    const next = await poll('a new leader in the majority', () => leaderOf(s, majority), {
      timeoutMs: 10_000,
    });
    expect(next.term).toBeGreaterThan(leader.term);
    // The isolated node heard nothing of it.
    const isolatedLinks = map.stats().links.filter((l) => l.to === leader.id);
    expect(isolatedLinks.some((l) => l.stats.forward.blackholed > 0)).toBe(true);

    map.heal();
    await op(c.put('k2', 'v2'), 'a put after heal');
    expect(await op(c.get('k0'), 'get k0')).toBe('v0');
    expect(await op(c.get('k1'), 'get k1')).toBe('v1');
    expect(await op(c.get('k2'), 'get k2')).toBe('v2');
    expect(await op(c.get('log'), 'get log')).toBe('ab');
    for (let id = 0; id < N; id++) expect(s.state(`server-${id}`)).toBe('running');
  }, 45_000);
});
