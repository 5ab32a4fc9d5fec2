import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { listenReplica, type ServedReplica } from '../src/index.js';

class OptionError extends Error {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option} ${message}`);
  }
}

const optionError = (option: string, message: string) => new OptionError(option, message);

describe('listenReplica', () => {
  it('refuses a bad me or url with the service’s own error, before opening anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'listen-replica-'));
    const dataDir = join(dir, 'data');
    let started = 0;
    const start = async (): Promise<ServedReplica> => {
      started++;
      return { register: () => {}, close: async () => {} };
    };
    const base = { dataDir, logger: silentLogger, optionError, start };
    try {
      await expect(listenReplica({ ...base, me: 1, peers: ['ws://127.0.0.1:1'] })).rejects.toThrow(
        'me (1) must index peers (1 urls)',
      );
      await expect(
        listenReplica({ ...base, me: 0, peers: ['ws://127.0.0.1:1', 'http://127.0.0.1:2'] }),
      ).rejects.toMatchObject({ option: 'peers' });
      expect(started).toBe(0);
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves on an ephemeral port, closes in reverse order and once; a failed start leaves the dir unlocked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'listen-replica-'));
    const events: string[] = [];
    const base = {
      me: 0,
      peers: ['ws://127.0.0.1:1'],
      port: 0,
      dataDir: dir,
      logger: silentLogger,
      optionError,
    };
    try {
      await expect(
        listenReplica({ ...base, start: () => Promise.reject(new Error('no start')) }),
      ).rejects.toThrow('no start');
      const handle = await listenReplica({
        ...base,
        start: async ({ peers }) => {
          events.push(`start ${peers.length} ${String(peers[0])}`);
          return {
            register: () => events.push('register'),
            close: async () => {
              events.push('close');
            },
          };
        },
      });
      expect(handle.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const closing = handle.close();
      expect(handle.close()).toBe(closing);
      await closing;
      expect(events).toEqual(['start 1 null', 'register', 'close']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
