/**
 * shardkv over WebSocket in one process: a controller of three (`listenShardCtrler`) and two
 * groups of three (`listenShardKv`), each replica with a FilePersister in a temp dir, real
 * time on loopback; clerks from `connectClerk`. Groups join under their servers' urls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@flotilla/devkit/net/ports';
import {
  connectClerk as connectCtrler,
  listenShardCtrler,
  type ShardCtrlerHandle,
} from '@flotilla/shardctrler';
import { silentLogger } from '@flotilla/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli-run.js';
import {
  connectClerk,
  key2shard,
  listenShardKv,
  ShardKvConfigError,
  type ShardKvHandle,
} from '../../src/index.js';

const TOKEN = 'shardkv-ws-test-token';
const GIDS = [1, 2] as const;
let root: string;
let ctrlerUrls: string[];
let groupUrls: Map<number, string[]>;
let ctrlers: ShardCtrlerHandle[];
let groups: ShardKvHandle[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shardkv-ws-'));
  const ports = await freePorts(9);
  const url = (port: number) => `ws://127.0.0.1:${port}`;
  ctrlerUrls = ports.slice(0, 3).map(url);
  groupUrls = new Map(GIDS.map((gid, g) => [gid, ports.slice(3 + 3 * g, 6 + 3 * g).map(url)]));
  ctrlers = await Promise.all(
    ctrlerUrls.map((_, me) =>
      listenShardCtrler({
        me,
        peers: ctrlerUrls,
        dataDir: join(root, `ctrler-${me}`),
        authToken: TOKEN,
        logger: silentLogger,
      }),
    ),
  );
  groups = await Promise.all(
    GIDS.flatMap((gid) =>
      (groupUrls.get(gid) as string[]).map((_, me, peers) =>
        listenShardKv({
          gid,
          me,
          peers,
          ctrlers: ctrlerUrls,
          dataDir: join(root, `group-${gid}-${me}`),
          authToken: TOKEN,
          logger: silentLogger,
          // Small pages, so a shard moves in many of them.
          pageBytes: 64 * 1024,
        }),
      ),
    ),
  );
}, 30_000);

afterAll(async () => {
  await Promise.all(groups?.map((h) => h.close()) ?? []);
  await Promise.all(ctrlers?.map((h) => h.close()) ?? []);
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('shardkv over WebSocket (listenShardKv, connectClerk)', () => {
  it('serves keys on one group, moves half the shards to a second in pages, and loses nothing', async () => {
    // One shard of 5 × 600 KB: 2.7× the frame limit of a call between groups (~1.1 MiB).
    const big = Array.from({ length: 5 }, (_, i) => `7-big-${i}`);
    const admin = connectCtrler(ctrlerUrls, { authToken: TOKEN });
    const clerk = connectClerk([...ctrlerUrls].reverse(), { authToken: TOKEN });
    try {
      await admin.join({ 1: groupUrls.get(1) as string[] });
      const keys = Array.from({ length: 200 }, (_, i) => `${i % 10}-key-${i}`);
      const value = (key: string) => `${key}:${'v'.repeat(100)}`;
      for (const key of keys) await clerk.put(key, value(key));
      for (const key of keys.slice(0, 20)) await clerk.append(key, '+');
      for (const key of big) await clerk.put(key, key.repeat(100_000));
      await admin.join({ 2: groupUrls.get(2) as string[] });
      const config = await admin.query(-1);
      const moved = keys.filter((key) => config.shards[key2shard(key)] === 2);
      expect(moved.length).toBeGreaterThan(0);
      if (config.shards[7] !== 2) await admin.move(7, 2);
      for (const key of big) expect(await clerk.get(key)).toBe(key.repeat(100_000));
      for (const key of keys) {
        const appended = keys.indexOf(key) < 20 ? '+' : '';
        expect(await clerk.get(key)).toBe(value(key) + appended);
      }
      // Challenge 1: group 1 deleted what it handed over, once group 2 had it.
      const group1 = groups.slice(0, 3).map((h) => h.server.rsm.machine);
      await expect
        .poll(
          () => group1.every((m) => m.shard(key2shard(moved[0] as string)).status === 'absent'),
          {
            timeout: 10_000,
          },
        )
        .toBe(true);
    } finally {
      await clerk.close();
      await admin.close();
    }
  }, 60_000);

  it('runs the CLI: put, append and get through the controller; a bad command line exits 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: (line: string) => out.push(line),
      stderr: (line: string) => err.push(line),
      env: { FLOTILLA_AUTH_TOKEN: TOKEN },
      stopped: new Promise<void>(() => {}),
    };
    const ctrlers = `--ctrlers=${ctrlerUrls.join(',')}`;
    expect(await runCli(['put', ctrlers, 'cli-key', 'a'], io)).toBe(0);
    expect(await runCli(['append', ctrlers, 'cli-key', 'b'], io)).toBe(0);
    expect(await runCli(['get', ctrlers, 'cli-key'], io)).toBe(0);
    expect(out).toEqual(['ab']);
    expect(await runCli(['get', ctrlers], io)).toBe(2);
    expect(err.join('\n')).toMatch(/get needs KEY/);
  }, 30_000);

  it('refuses controller urls that are not ws://host:port with ShardKvConfigError', () => {
    expect(() => connectClerk(['http://127.0.0.1:1'])).toThrow(ShardKvConfigError);
    expect(() => connectClerk([])).toThrow(ShardKvConfigError);
  });
});
