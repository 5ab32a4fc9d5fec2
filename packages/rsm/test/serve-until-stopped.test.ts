import { mkdtemp, open, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FilePersister,
  type FilePersisterIo,
  PersisterFailedError,
  PersisterIoError,
  type RaftNode,
} from '@flotilla/raft';
import { realClock, SeededRandom, silentLogger } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import {
  listenReplica,
  ReplicatedStateMachine,
  RsmClosedError,
  serveUntilStopped,
} from '../src/index.js';
import { KvMachine } from './support/kv-machine.js';

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

/**
 * node:fs for a FilePersister, except that once `fail()` is called every fsync fails with EIO,
 * as a dying disk's would. Every fsync rather than the WAL's by name: a fresh WAL's handle was
 * opened as `raft.wal.tmp` and renamed.
 */
function dyingDisk(): { io: Partial<FilePersisterIo>; fail(): void } {
  let failing = false;
  const check = (path: string, syscall: string): void => {
    if (failing) {
      throw Object.assign(new Error(`EIO: i/o error, ${syscall} '${path}'`), { code: 'EIO' });
    }
  };
  return {
    fail: () => {
      failing = true;
    },
    io: {
      open: async (path, flags) => {
        const file = await open(path, flags);
        return {
          write: (buffer, offset, length, position) => file.write(buffer, offset, length, position),
          sync: async () => {
            check(path, 'fsync');
            return file.sync();
          },
          datasync: async () => {
            check(path, 'fdatasync');
            return file.datasync();
          },
          truncate: (length) => file.truncate(length),
          close: () => file.close(),
        };
      },
    },
  };
}

/** Resolves with whether a TCP connection to `url`'s port is accepted. */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function until(what: string, probe: () => boolean): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('serveUntilStopped with a real replica whose disk fails (issue 17)', () => {
  it('exits 1 naming the persister failure once the WAL fsync fails; the failed write is never applied and the port and data dir are released', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'serve-until-stopped-'));
    const disk = dyingDisk();
    const machine = new KvMachine();
    const sink = io();
    let rsm: ReplicatedStateMachine<KvMachine> | undefined;
    let url: string | undefined;
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    try {
      const exit = serveUntilStopped({
        start: async (onFatal) => {
          const handle = await listenReplica({
            me: 0,
            peers: ['ws://127.0.0.1:1'],
            port: 0,
            dataDir,
            logger: silentLogger,
            optionError: (option, message) => new Error(`${option} ${message}`),
            persister: { io: disk.io, logger: silentLogger },
            start: async ({ persister, peers, logger }) => {
              const started = await ReplicatedStateMachine.create({
                me: 0,
                peers,
                persister,
                clock: realClock,
                random: new SeededRandom(1),
                tickMs: 10,
                logger,
                machine,
                onFatal,
              });
              rsm = started;
              return {
                raft: started.raft,
                register: (rpc) => rpc.addService('Raft', started.service),
                close: () => started.close(),
              };
            },
          });
          url = handle.url;
          return { url: handle.url, server: handle.replica, close: () => handle.close() };
        },
        stopped,
        logger: sink.logger,
        fields: {},
        stdout: sink.stdout,
        stderr: sink.stderr,
        name: 'flotilla-test',
      });
      await until('the replica serves and leads', () => rsm?.raft.getState().isLeader === true);
      const replica = rsm as ReplicatedStateMachine<KvMachine>;
      await expect(replica.submit({ type: 'put', key: 'k', value: 'acked' })).resolves.toBe(
        'acked',
      );

      disk.fail();
      const lost = replica.submit({ type: 'put', key: 'k', value: 'lost' });
      const closed = await lost.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(closed).toBeInstanceOf(RsmClosedError);
      const cause = (closed as RsmClosedError).cause;
      expect(cause).toBeInstanceOf(PersisterFailedError);
      expect((cause as PersisterFailedError).cause).toBeInstanceOf(PersisterIoError);

      // Exits on its own: the stop signal never comes.
      expect(await exit).toBe(1);
      expect(sink.err).toHaveLength(1);
      expect(sink.err[0]).toMatch(
        /^flotilla-test: replica stopped: an earlier write to the persister failed: .*raft\.wal: fsync failed: .*EIO.* \[ERR_PERSISTER_FAILED\]$/,
      );
      expect(machine.applied.map(({ op }) => op)).toEqual([
        { type: 'put', key: 'k', value: 'acked' },
      ]);
      expect(replica.closed).toBe(true);
      expect(await accepts(url as string)).toBe(false);
      // The lock is released, so a supervisor's restart can open the directory.
      const reopened = await FilePersister.open(dataDir, { logger: silentLogger });
      await reopened.close();
    } finally {
      stop();
      await rsm?.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
