/**
 * kvraft over WebSocket in one process: three replicas made by `listenKvServer` (each with a
 * FilePersister in a temp dir and real time), clerks from `connectClerk`, and the CLI's clerk
 * commands through `runCli`. The process-level suite (test/process) runs them as processes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '@flotilla/devkit/net/ports';
import { PersisterLockedError } from '@flotilla/raft';
import { silentLogger, WsClient } from '@flotilla/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli-run.js';
import {
  connectClerk,
  KeyTooLargeError,
  KvraftConfigError,
  type KvServerHandle,
  listenKvServer,
  ValueTooLargeError,
} from '../../src/index.js';

const TOKEN = 'kvraft-ws-test-token';
let root: string;
let urls: string[];
let handles: KvServerHandle[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kvraft-ws-'));
  urls = (await freePorts(3)).map((port) => `ws://127.0.0.1:${port}`);
  handles = await Promise.all(
    urls.map((_, me) =>
      listenKvServer({
        me,
        peers: urls,
        dataDir: join(root, String(me)),
        authToken: TOKEN,
        logger: silentLogger,
        maxKeyBytes: 64,
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

describe('kvraft over WebSocket (listenKvServer, connectClerk, the CLI)', () => {
  it('serves put, append and get through a clerk made from the urls, in any order', async () => {
    const clerk = connectClerk([...urls].reverse(), { authToken: TOKEN });
    try {
      await clerk.put('greeting', 'hello');
      await clerk.append('greeting', ', world');
      expect(await clerk.get('greeting')).toBe('hello, world');
      expect(await clerk.get('never')).toBe('');
    } finally {
      await clerk.close();
    }
  }, 30_000);

  it('runs the CLI clerk commands: put, append, get prints the value', async () => {
    const servers = urls.join(',');
    const { io, out, err } = cliIo();
    expect(await runCli(['put', '--servers', servers, 'cli', 'a'], io)).toBe(0);
    expect(await runCli(['append', '--servers', servers, 'cli', 'b'], io)).toBe(0);
    expect(await runCli(['get', '--servers', servers, 'cli'], io)).toBe(0);
    expect(out).toEqual(['ab']);
    expect(err).toEqual([]);
    const bad = cliIo();
    expect(await runCli(['get', '--servers', 'nope'], bad.io)).toBe(2);
    expect(bad.err[0]).toMatch(/^flotilla-kvraft: --servers wants ws:\/\/host:port/);
  }, 30_000);

  it('refuses oversize keys and values before sending, and a server refuses them from anyone', async () => {
    const clerk = connectClerk(urls, { authToken: TOKEN, maxKeyBytes: 64, maxValueBytes: 16 });
    try {
      await expect(clerk.put('k'.repeat(65), 'v')).rejects.toBeInstanceOf(KeyTooLargeError);
      await expect(clerk.get('k'.repeat(65))).rejects.toMatchObject({
        code: 'ERR_KEY_TOO_LARGE',
        size: 65,
        limit: 64,
      });
      await expect(clerk.append('k', 'é'.repeat(9))).rejects.toBeInstanceOf(ValueTooLargeError);
      await clerk.put('k', 'still serving');
      expect(await clerk.get('k')).toBe('still serving');
    } finally {
      await clerk.close();
    }
    // A foreign client that ignores the limit: BAD_ARGUMENTS, and the server keeps serving.
    const raw = new WsClient({ url: urls[0] as string, authToken: TOKEN, logger: silentLogger });
    try {
      const result = await raw.call('KVServer.Get', { key: 'k'.repeat(65) });
      expect(result).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' });
      const shape = await raw.call('KVServer.PutAppend', { key: 'k', op: 'Swap' });
      expect(shape).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' });
    } finally {
      await raw.close();
    }
  }, 30_000);

  it('a second replica on a held data dir fails with PersisterLockedError, leaving the first serving', async () => {
    await expect(
      listenKvServer({
        me: 0,
        peers: urls,
        dataDir: join(root, '0'),
        authToken: TOKEN,
        logger: silentLogger,
        port: 0,
      }),
    ).rejects.toBeInstanceOf(PersisterLockedError);
    const clerk = connectClerk(urls, { authToken: TOKEN });
    try {
      await clerk.put('after-lock', 'ok');
      expect(await clerk.get('after-lock')).toBe('ok');
    } finally {
      await clerk.close();
    }
  }, 30_000);

  it('refuses options that cannot work with KvraftConfigError, opening nothing', async () => {
    const dataDir = join(root, 'unused');
    await expect(listenKvServer({ me: 3, peers: urls, dataDir })).rejects.toMatchObject({
      code: 'ERR_KVRAFT_CONFIG',
      option: 'me',
    });
    await expect(
      listenKvServer({ me: 0, peers: ['http://127.0.0.1:1'], dataDir }),
    ).rejects.toBeInstanceOf(KvraftConfigError);
    await expect(
      listenKvServer({ me: 0, peers: urls, dataDir, maxValueBytes: 0 }),
    ).rejects.toMatchObject({ option: 'maxValueBytes' });
    expect(() => connectClerk([])).toThrow(KvraftConfigError);
    expect(() => connectClerk(['ws://127.0.0.1'])).toThrow(/ws:\/\/host:port/);
  });

  it('close() is idempotent: every call gets the first one’s promise', async () => {
    const [port] = await freePorts(1);
    const solo = await listenKvServer({
      me: 0,
      peers: [`ws://127.0.0.1:${port}`],
      dataDir: join(root, 'solo'),
      logger: silentLogger,
    });
    const clerk = connectClerk([solo.url]);
    await clerk.put('solo', '1');
    await clerk.close();
    const first = solo.close();
    expect(solo.close()).toBe(first);
    await first;
    // The lock is released: the same data dir opens again, with the write in it.
    const again = await listenKvServer({
      me: 0,
      peers: [`ws://127.0.0.1:${port}`],
      dataDir: join(root, 'solo'),
      logger: silentLogger,
    });
    const reader = connectClerk([again.url]);
    try {
      expect(await reader.get('solo')).toBe('1');
    } finally {
      await reader.close();
      await again.close();
    }
  }, 30_000);
});
