import type { RaftNode } from '@flotilla/raft';
import { describe, expect, it } from 'vitest';
import { serveUntilStopped } from '../src/index.js';

type Listener = Parameters<RaftNode['onStateChange']>[0];

function fakeHandle() {
  const listeners: Listener[] = [];
  let closed = 0;
  const raft = {
    onStateChange: (listener: Listener) => {
      listeners.push(listener);
      return () => {};
    },
  } as unknown as RaftNode;
  return {
    handle: { url: 'ws://127.0.0.1:1', server: { raft }, close: async () => void closed++ },
    emit: (state: Parameters<Listener>[0]) => {
      for (const listener of listeners) listener(state);
    },
    closed: () => closed,
  };
}

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const logged: Array<{ fields: Record<string, unknown>; message: string }> = [];
  const logger = {
    info: (fields: Record<string, unknown>, message: string) => logged.push({ fields, message }),
    warn: () => {},
  };
  return {
    out,
    err,
    logged,
    logger,
    stdout: (l: string) => out.push(l),
    stderr: (l: string) => err.push(l),
  };
}

describe('serveUntilStopped (the serve command of an rsm service CLI)', () => {
  it('prints listening, logs raft state with its fields, closes and exits 0 when told to stop', async () => {
    const fake = fakeHandle();
    const sink = io();
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    const exit = serveUntilStopped({
      start: async () => fake.handle,
      stopped,
      logger: sink.logger,
      fields: { gid: 7, id: 1 },
      stdout: sink.stdout,
      stderr: sink.stderr,
      name: 'flotilla-test',
    });
    await Promise.resolve();
    await Promise.resolve();
    fake.emit({ term: 3, role: 'leader', leaderId: 1 } as Parameters<Listener>[0]);
    stop();
    expect(await exit).toBe(0);
    expect(sink.out).toEqual(['listening ws://127.0.0.1:1']);
    expect(sink.logged).toEqual([
      { fields: { gid: 7, id: 1, term: 3, role: 'leader', leaderId: 1 }, message: 'raft state' },
    ]);
    expect(fake.closed()).toBe(1);
    expect(sink.err).toEqual([]);
  });

  it('exits 1 with one line naming the cause when the node stops on its own', async () => {
    const fake = fakeHandle();
    const sink = io();
    const exit = serveUntilStopped({
      start: async (onFatal) => {
        setTimeout(() => onFatal(Object.assign(new Error('fsync failed'), { code: 'ERR_X' })), 1);
        return fake.handle;
      },
      stopped: new Promise<void>(() => {}),
      logger: sink.logger,
      fields: {},
      stdout: sink.stdout,
      stderr: sink.stderr,
      name: 'flotilla-test',
    });
    expect(await exit).toBe(1);
    expect(sink.err).toEqual(['flotilla-test: replica stopped: fsync failed [ERR_X]']);
    expect(fake.closed()).toBe(1);
  });
});
