/**
 * The controller over WebSocket in one process: three replicas made by `listenShardCtrler`
 * (each with a FilePersister in a temp dir, real time), clerks from `connectClerk`, and the
 * CLI's commands through `runCli`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@flotilla/devkit/net/ports';
import { silentLogger } from '@flotilla/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli-run.js';
import {
  connectClerk,
  listenShardCtrler,
  ShardCtrlerConfigError,
  type ShardCtrlerHandle,
} from '../../src/index.js';

const TOKEN = 'shardctrler-ws-test-token';
let root: string;
let urls: string[];
let handles: ShardCtrlerHandle[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shardctrler-ws-'));
  urls = (await freePorts(3)).map((port) => `ws://127.0.0.1:${port}`);
  handles = await Promise.all(
    urls.map((_, me) =>
      listenShardCtrler({
        me,
        peers: urls,
        dataDir: join(root, String(me)),
        authToken: TOKEN,
        logger: silentLogger,
      }),
    ),
  );
});

afterAll(async () => {
  await Promise.all(handles?.map((h) => h.close()) ?? []);
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

function cliIo() {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdout: (line: string) => out.push(line),
    stderr: (line: string) => err.push(line),
    env: { FLOTILLA_AUTH_TOKEN: TOKEN },
    stopped: new Promise<void>(() => {}),
  };
  return { io, out, err };
}

describe('shardctrler over WebSocket (listenShardCtrler, connectClerk, the CLI)', () => {
  it('serves join, move, leave and query through a clerk made from the urls', async () => {
    const clerk = connectClerk([...urls].reverse(), { authToken: TOKEN });
    try {
      const initial = await clerk.query(-1);
      const joined = await clerk.join({ 7: ['a', 'b'], 8: ['c'] });
      expect(joined).toBe(initial.num + 1);
      const config = await clerk.query(joined);
      expect(config.groups).toEqual({ 7: ['a', 'b'], 8: ['c'] });
      expect(config.shards.filter((g) => g === 7)).toHaveLength(5);
      await expect(clerk.join({ 8: ['d'] })).rejects.toMatchObject({
        reason: 'GID_ALREADY_JOINED',
      });
      const moved = await clerk.move(0, 8);
      expect((await clerk.query(moved)).shards[0]).toBe(8);
      const left = await clerk.leave([7, 8]);
      expect(await clerk.query(left)).toMatchObject({ groups: {}, shards: Array(10).fill(0) });
    } finally {
      await clerk.close();
    }
  }, 30_000);

  it('runs the CLI: join, move, query prints JSON, leave; a refused change exits 1 in one line', async () => {
    const servers = urls.join(',');
    const { io, out, err } = cliIo();
    expect(await runCli(['join', '--servers', servers, '21=h1:1,h2:2', '22=h3:3'], io)).toBe(0);
    const num = Number(out.at(-1)?.replace(/^config /, ''));
    expect(await runCli(['move', '--servers', servers, '9', '21'], io)).toBe(0);
    expect(out.at(-1)).toBe(`config ${num + 1}`);
    expect(await runCli(['query', '--servers', servers], io)).toBe(0);
    const latest = JSON.parse(out.at(-1) as string);
    expect(latest).toMatchObject({ num: num + 1, groups: { 21: ['h1:1', 'h2:2'], 22: ['h3:3'] } });
    expect(latest.shards[9]).toBe(21);
    expect(await runCli(['query', '--servers', servers, String(num)], io)).toBe(0);
    expect(JSON.parse(out.at(-1) as string).num).toBe(num);
    expect(await runCli(['leave', '--servers', servers, '21', '22'], io)).toBe(0);
    expect(err).toEqual([]);

    for (const argv of [
      ['join', '--servers', servers, '0=h'],
      ['join', '--servers', servers, '5='],
      ['leave', '--servers', servers, '404'],
      ['move', '--servers', servers, '10', '21'],
    ]) {
      err.length = 0;
      expect(await runCli(argv, io)).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(/\[ERR_INVALID_ARGUMENT\]$/);
    }
    err.length = 0;
    expect(await runCli(['move', '--servers', servers, 'x', '1'], io)).toBe(2);
    expect(err[0]).toMatch(/SHARD wants an integer/);
  }, 30_000);

  it('refuses bad urls and bad ids with ShardCtrlerConfigError, leaving nothing open', async () => {
    expect(() => connectClerk([])).toThrow(ShardCtrlerConfigError);
    expect(() => connectClerk(['http://127.0.0.1:1'])).toThrow(ShardCtrlerConfigError);
    await expect(
      listenShardCtrler({ me: 3, peers: urls, dataDir: join(root, 'x'), logger: silentLogger }),
    ).rejects.toBeInstanceOf(ShardCtrlerConfigError);
  });
});

describe('flotilla-shardctrler serve (in process)', () => {
  it('runs three replicas from the command line (--listen), serves a clerk, exits 0 on stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shardctrler-serve-'));
    const ports = await freePorts(3);
    const peers = ports.map((port) => `ws://127.0.0.1:${port}`);
    const stops: (() => void)[] = [];
    const out: string[] = [];
    const err: string[] = [];
    const runs = peers.map((url, id) => {
      const stopped = new Promise<void>((resolve) => stops.push(resolve));
      const io = {
        stdout: (line: string) => out.push(line),
        stderr: (line: string) => err.push(line),
        env: {},
        stopped,
        logger: silentLogger,
      };
      const listen = url.replace('ws://', '');
      return runCli(
        [
          'serve',
          '--id',
          String(id),
          '--peers',
          peers.join(','),
          '--data-dir',
          join(dir, String(id)),
          '--listen',
          listen,
        ],
        io,
      );
    });
    try {
      const clerk = connectClerk(peers);
      try {
        expect(await clerk.join({ 3: ['x'] })).toBe(1);
        expect((await clerk.query()).shards).toEqual(Array(10).fill(3));
      } finally {
        await clerk.close();
      }
    } finally {
      for (const stop of stops) stop();
      expect(await Promise.all(runs)).toEqual([0, 0, 0]);
      await rm(dir, { recursive: true, force: true });
    }
    expect(out.filter((line) => line.startsWith('listening ws://127.0.0.1:'))).toHaveLength(3);
    expect(err).toEqual([]);
  }, 30_000);
});
