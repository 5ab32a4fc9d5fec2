/**
 * rsm's lifecycle (docs/DESIGN.md, "Lifecycle"): close() is idempotent, rejects every waiter
 * at once with RsmClosedError, refuses later work, closes the Raft node it made and nothing
 * it was given unless onClose says so; a node that stops on its own (the machine threw)
 * closes rsm the same way and calls onFatal.
 */
import { ApplyListenerError, MemoryPersister, RaftConfigError } from '@flotilla/raft';
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it, vi } from 'vitest';
import {
  ReplicatedStateMachine,
  type ReplicatedStateMachineOptions,
  RsmClosedError,
  RsmConfigError,
} from '../src/index.js';
import { settledNow, withCluster } from './support/cluster.js';
import { KvMachine, type KvOp } from './support/kv-machine.js';

describe('close', () => {
  it('rejects the submits and reads in flight at once, and every later one; idempotent', async () => {
    await simulateTest('close-waiters', (sim) =>
      withCluster(sim, 3, { checkQuorum: false, submitTimeoutMs: 60_000 }, async (c) => {
        const leader = await c.leader();
        const rsm = c.server(leader);
        c.partition(
          [leader],
          [0, 1, 2].filter((i) => i !== leader),
        );
        const submit = rsm.submit({ type: 'put', key: 'k', value: 'v' });
        const read = rsm.read((m) => m.get('k'));
        submit.catch(() => {});
        read.catch(() => {});
        await sim.sleep(200);
        expect(await settledNow(submit)).toBe(false);

        const first = rsm.close();
        expect(rsm.close()).toBe(first);
        rsm.kill();
        expect(rsm.close()).toBe(first);
        expect(rsm.closed).toBe(true);
        await expect(submit).rejects.toBeInstanceOf(RsmClosedError);
        await expect(read).rejects.toMatchObject({ code: 'ERR_RSM_CLOSED' });
        await expect(rsm.submit({ type: 'put', key: 'k', value: 'w' })).rejects.toBeInstanceOf(
          RsmClosedError,
        );
        await expect(rsm.read((m) => m.get('k'))).rejects.toBeInstanceOf(RsmClosedError);
        await first;
        expect(rsm.raft.killed).toBe(true);
        await expect(rsm.close()).resolves.toBeUndefined();
      }),
    );
  });

  it('runs onClose once, after the node stopped, and awaits it', async () => {
    await simulateTest('close-on-close', async (sim) => {
      const events: string[] = [];
      const persister = new MemoryPersister();
      const rsm = await ReplicatedStateMachine.create({
        me: 0,
        peers: [null],
        persister,
        clock: sim.clock,
        random: sim.random.fork(),
        machine: new KvMachine(),
        onClose: async () => {
          events.push(`onClose (node killed: ${rsm.raft.killed})`);
          await sim.sleep(10);
          events.push('onClose done');
        },
      });
      await sim.sleep(1500);
      expect(await rsm.submit({ type: 'put', key: 'k', value: 'v' })).toBe('v');
      await Promise.all([rsm.close(), rsm.close()]);
      events.push('closed');
      expect(events).toEqual(['onClose (node killed: true)', 'onClose done', 'closed']);
      // The persister was given, not made: still usable, holding what was saved.
      expect(persister.load()?.entries.length).toBeGreaterThan(0);
    });
  });
});

describe('kill', () => {
  it('is close() without waiting; an onClose that fails is logged, not thrown', async () => {
    await simulateTest('kill-on-close-fails', async (sim) => {
      const warnings: string[] = [];
      const rsm = await ReplicatedStateMachine.create({
        me: 0,
        peers: [null],
        persister: new MemoryPersister(),
        clock: sim.clock,
        random: sim.random.fork(),
        machine: new KvMachine(),
        logger: { warn: (_, message) => warnings.push(message), info: () => {} },
        onClose: () => Promise.reject(new Error('disk gone')),
      });
      rsm.kill();
      expect(rsm.closed).toBe(true);
      await expect(rsm.close()).rejects.toThrow('disk gone');
      expect(warnings).toEqual(['rsm: onClose failed']);
    });
  });
});

describe('submit refuses, proposing nothing', () => {
  it('an op msgpack cannot encode (it would fail the save and stop the node)', async () => {
    await simulateTest('submit-unencodable', (sim) =>
      withCluster(sim, 1, {}, async (c) => {
        await sim.sleep(1500);
        const rsm = c.server(0);
        const index = rsm.lastApplied;
        const op = { type: 'put', key: 'k', value: Symbol('v') } as unknown as KvOp;
        await expect(rsm.submit(op)).rejects.toThrow(/cannot be encoded/);
        await sim.sleep(200);
        expect(rsm.lastApplied).toBe(index);
        expect(rsm.closed).toBe(false);
        expect(await rsm.submit({ type: 'put', key: 'k', value: 'v' })).toBe('v');
      }),
    );
  });
});

describe('a node that stops on its own', () => {
  it('closes rsm with RsmClosedError (its cause) when the machine throws, and calls onFatal', async () => {
    await simulateTest('fatal-apply', async (sim) => {
      const machine = new KvMachine();
      const apply = machine.apply.bind(machine);
      vi.spyOn(machine, 'apply').mockImplementation((op, context) => {
        if (op.type === 'put' && op.value === 'boom') throw new Error('bug in apply');
        return apply(op, context);
      });
      const onFatal = vi.fn();
      const rsm = await ReplicatedStateMachine.create({
        me: 0,
        peers: [null],
        persister: new MemoryPersister(),
        clock: sim.clock,
        random: sim.random.fork(),
        machine,
        onFatal,
      });
      await sim.sleep(1500);
      expect(await rsm.submit({ type: 'put', key: 'k', value: 'ok' })).toBe('ok');
      const err = await rsm.submit({ type: 'put', key: 'k', value: 'boom' }).catch((e) => e);
      expect(err).toBeInstanceOf(RsmClosedError);
      expect((err as RsmClosedError).cause).toBeInstanceOf(ApplyListenerError);
      expect(onFatal).toHaveBeenCalledTimes(1);
      expect(rsm.closed).toBe(true);
      expect(rsm.raft.killed).toBe(true);
      await expect(rsm.submit({ type: 'put', key: 'k', value: 'x' })).rejects.toBe(err);
      await rsm.close();
    });
  });

  it('create rejects, leaving nothing running, when the restart snapshot cannot be restored', async () => {
    await simulateTest('fatal-restore', (sim) =>
      withCluster(sim, 1, { maxraftstate: 100 }, async (c) => {
        await sim.sleep(1500);
        for (let seq = 1; seq <= 20; seq++) {
          await c
            .server(0)
            .submit({ type: 'put', key: 'k', value: `${seq}` }, { clientId: 1, seq });
        }
        await sim.sleep(100);
        const saved = c.persisters[0] as MemoryPersister;
        expect(saved.snapshotSize()).toBeGreaterThan(0);
        const machine = new KvMachine();
        machine.restore = () => {
          throw new Error('cannot restore');
        };
        const timers = sim.clock.pendingTimers;
        const onFatal = vi.fn();
        const creating = ReplicatedStateMachine.create({
          me: 0,
          peers: [null],
          persister: saved.copy(),
          clock: sim.clock,
          random: sim.random.fork(),
          machine,
          onFatal,
        });
        const err = await creating.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RsmClosedError);
        expect((err as RsmClosedError).cause).toBeInstanceOf(ApplyListenerError);
        expect(sim.clock.pendingTimers).toBe(timers);
        expect(onFatal).not.toHaveBeenCalled();
      }),
    );
  });
});

describe('create', () => {
  const base = (sim: { clock: ReplicatedStateMachineOptions<KvMachine>['clock'] }) => ({
    me: 0,
    peers: [null],
    persister: new MemoryPersister(),
    clock: sim.clock,
    random: { int: () => 0 },
    machine: new KvMachine(),
  });

  it.each([
    ['maxraftstate', { maxraftstate: -2 }],
    ['maxraftstate', { maxraftstate: 1.5 }],
    ['submitTimeoutMs', { submitTimeoutMs: 0 }],
    ['readTimeoutMs', { readTimeoutMs: Number.POSITIVE_INFINITY }],
    ['reads', { reads: 'lease' }],
    ['machine', { machine: { apply: () => 1, snapshot: () => new Uint8Array() } }],
    ['persister', { persister: { load: () => undefined, save: () => {} } }],
    ['onClose', { onClose: 'persister.close' }],
  ])('refuses a bad %s with RsmConfigError naming it', async (option, bad) => {
    await simulateTest(`config-${option}`, async (sim) => {
      const options = {
        ...base(sim),
        ...bad,
      } as unknown as ReplicatedStateMachineOptions<KvMachine>;
      const err = await ReplicatedStateMachine.create(options).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RsmConfigError);
      expect(err).toMatchObject({ code: 'ERR_RSM_CONFIG', option });
      expect(sim.clock.pendingTimers).toBe(0);
    });
  });

  it("passes Raft's own option errors through (RaftConfigError)", async () => {
    await simulateTest('config-raft', async (sim) => {
      const err = await ReplicatedStateMachine.create({ ...base(sim), me: 3 }).catch((e) => e);
      expect(err).toBeInstanceOf(RaftConfigError);
    });
  });
});
