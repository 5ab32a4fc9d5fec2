import { LabError } from '@flotilla/labkit';
import { describe, expect, it } from 'vitest';
import { endOf, type FakeKvServer, reaches } from './support/fake-kv.js';
import { run, withFakeConfig } from './support/run.js';

describe('shutdownServer', () => {
  it('a call in flight to the server gets no reply, even though its handler finishes', async () => {
    await run('shutdown-in-flight', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        // From another server and from a clerk: both lose their reply.
        const fromPeer = endOf(cfg.server(1), 0).call('KV.Slow', { ms: 500 });
        const ck = cfg.makeClient([0]);
        const fromClerk = Promise.all(ck.ends.map((end) => end.call('KV.Slow', { ms: 500 })));
        await sim.sleep(200);
        cfg.shutdownServer(0);
        expect(await fromPeer).toMatchObject({ ok: false, code: 'UNREACHABLE' });
        for (const result of await fromClerk) {
          expect(result).toMatchObject({ ok: false, code: 'UNREACHABLE' });
        }
        // Within labrpc's 100 ms dead check, long before the handler's 500 ms.
        expect(sim.clock.now()).toBeLessThanOrEqual(300);
      }),
    );
  });

  it('deletes the server from the network and its own ends, and kills it', async () => {
    await run('shutdown-delete', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const old = cfg.server(2) as FakeKvServer;
        const intoOld = endOf(cfg.server(0), 2);
        cfg.shutdownServer(2);
        expect(old.killed).toBe(true);
        expect(cfg.server(2)).toBeUndefined();
        cfg.connectAll(); // even "connected", nobody answers for a deleted server
        expect(await intoOld.call('KV.Who', {})).toMatchObject({ ok: false });
        // The killed instance can't send: its ends are gone from the network.
        expect(await reaches(old, 0)).toBe(false);
        expect(cfg.rpcCount(2)).toBe(0);
      }),
    );
  });

  it('replaces the persister with a copy: same content, and the orphan no longer counts', async () => {
    await run('shutdown-copy', (sim) =>
      withFakeConfig(sim, {}, async (cfg) => {
        const ck = cfg.makeClient();
        await ck.put('a', '1');
        await ck.append('a', '2');
        const before = cfg.persister(0);
        const size = before?.raftStateSize() ?? 0;
        expect(size).toBeGreaterThan(0);
        cfg.shutdownServer(0);
        const after = cfg.persister(0);
        expect(after).not.toBe(before);
        expect(after?.raftStateSize()).toBe(size);
        // The killed instance may go on writing to the orphaned persister.
        before?.save({ entries: { from: 3, entries: [{ term: 1, command: 'late' }] } });
        expect(cfg.persister(0)?.raftStateSize()).toBe(size);
      }),
    );
  });
});

describe('startServer', () => {
  it('starts from a copy of the last saved state, with links not enabled', async () => {
    const started: FakeKvServer[] = [];
    await run('start-copy', (sim) =>
      withFakeConfig(sim, { started }, async (cfg) => {
        const ck = cfg.makeClient();
        await ck.put('k', 'v1');
        await ck.append('k', 'v2');
        cfg.shutdownServer(0);
        const saved = cfg.persister(0);
        await cfg.startServer(0);
        const restarted = cfg.server(0) as FakeKvServer;
        expect(started.at(-1)).toBe(restarted);
        // The server got a copy, which the cluster now keeps as saved[0].
        expect(restarted.persister).not.toBe(saved);
        expect(cfg.persister(0)).toBe(restarted.persister);
        expect(restarted.persister.raftStateSize()).toBe(saved?.raftStateSize());
        expect(restarted.data.get('k')).toBe('v1v2');
        // Fresh outgoing ends, disabled until connect; others' ends to it too.
        expect(await reaches(restarted, 1)).toBe(false);
        expect(await reaches(cfg.server(1), 0)).toBe(false);
        cfg.connectAll();
        expect(await reaches(restarted, 1)).toBe(true);
        expect(await reaches(cfg.server(1), 0)).toBe(true);
        // The clerk's own ends were never touched.
        expect(await ck.get('k')).toBe('v1v2');
      }),
    );
  });

  it('a server never saved starts from a new empty persister', async () => {
    await run('start-new', (sim) =>
      withFakeConfig(sim, { n: 3 }, async (cfg) => {
        expect(cfg.persister(1)?.raftStateSize()).toBe(0);
        expect(cfg.persister(1)?.load()).toBeUndefined();
      }),
    );
  });

  it('restarting a server that is up shuts it down first', async () => {
    await run('start-up', (sim) =>
      withFakeConfig(sim, { n: 3 }, async (cfg) => {
        const first = cfg.server(1) as FakeKvServer;
        await cfg.startServer(1);
        expect(first.killed).toBe(true);
        expect(cfg.server(1)).not.toBe(first);
      }),
    );
  });

  it('a server shut down while it is starting is killed when it arrives', async () => {
    const started: FakeKvServer[] = [];
    await run('start-shutdown', (sim) =>
      withFakeConfig(sim, { n: 3, started, startDelayMs: 10 }, async (cfg) => {
        const starting = cfg.startServer(2);
        await sim.sleep(5);
        cfg.shutdownServer(2);
        await starting;
        expect(started.at(-1)?.killed).toBe(true);
        expect(cfg.server(2)).toBeUndefined();
      }),
    );
  });

  it('binds the service and Raft on one network server; a handler failure fails the test', async () => {
    const err = await run('start-services', (sim) =>
      withFakeConfig(sim, { n: 3 }, async (cfg) => {
        const end = endOf(cfg.server(1), 0);
        expect(await end.call('Raft.RequestVote', {})).toMatchObject({ ok: true });
        expect(await end.call('KV.Who', {})).toEqual({ ok: true, reply: 0 });
        expect(cfg.rpcCount(0)).toBe(2);
        await end.call('KV.Throw', {});
        await cfg.world.sleep(1);
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect(String(err)).toMatch(/0: rpc: handler threw .*handler bug/);
  });

  it('cleanup closes every server that is up', async () => {
    const started: FakeKvServer[] = [];
    await run('cleanup', (sim) =>
      withFakeConfig(sim, { n: 3, started }, async (cfg) => {
        cfg.shutdownServer(1);
      }),
    );
    expect(started.map((s) => [s.me, s.killed, s.closed])).toEqual([
      [0, true, true],
      [1, true, false],
      [2, true, true],
    ]);
  });
});
