import { withServiceConfig } from '@flotilla/labkit';
import type { ClientEnd } from '@flotilla/transport';
import { simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { KvMachine } from '../src/index.js';
import { startKvLabServer } from './lab/config.js';

/** Raw ends by server id (labkit hands a factory the ends shuffled; keep its order by name). */
const rawEnds = (ends: readonly ClientEnd[]) => ({ ends });

describe('KvServer', () => {
  it('answers Get of a missing key with ErrNoKey and "", refuses bad arguments, keeps serving', async () => {
    await simulateTest('kvraft-server-basics', (sim) =>
      withServiceConfig(
        sim,
        { n: 3, maxraftstate: -1, startServer: startKvLabServer },
        async (cfg) => {
          await sim.sleep(2000); // an election
          const { found, leader } = cfg.leader();
          expect(found).toBe(true);
          const { ends } = cfg.makeClientWith(rawEnds, [leader]);
          const calls = await Promise.all(
            ends.map((end) => end.call('KVServer.Get', { key: 'k' })),
          );
          const answered = calls.filter((r) => r.ok);
          expect(answered).toEqual([{ ok: true, reply: { err: 'ErrNoKey', value: '' } }]);
          const end = ends[calls.findIndex((r) => r.ok)] as ClientEnd;

          for (const bad of [
            null,
            { key: 1 },
            { key: 'k', value: 'v', op: 'Delete', clientId: 1, seq: 1 },
            { key: 'k', value: 'v', op: 'Put', clientId: -1, seq: 1 },
            { key: 'k', value: 'v', op: 'Put', clientId: 1, seq: 0 },
            { key: 'k', value: 7, op: 'Append', clientId: 1, seq: 1 },
          ]) {
            const method = bad !== null && 'op' in bad ? 'KVServer.PutAppend' : 'KVServer.Get';
            const result = await end.call(method, bad);
            expect(result).toMatchObject({ ok: false, code: 'BAD_ARGUMENTS' });
          }
          const put = { key: 'k', value: '', op: 'Put', clientId: 1, seq: 1 };
          expect(await end.call('KVServer.PutAppend', put)).toEqual({
            ok: true,
            reply: { err: 'OK' },
          });
          // A written empty value is a key: OK, not ErrNoKey.
          expect(await end.call('KVServer.Get', { key: 'k' })).toEqual({
            ok: true,
            reply: { err: 'OK', value: '' },
          });
          const append = { key: 'k', value: 'x', op: 'Append', clientId: 1, seq: 2 };
          expect(await end.call('KVServer.PutAppend', append)).toEqual({
            ok: true,
            reply: { err: 'OK' },
          });
          // A resend applies nothing again; an older request of the same client is stale.
          expect(await end.call('KVServer.PutAppend', append)).toEqual({
            ok: true,
            reply: { err: 'OK' },
          });
          expect(await end.call('KVServer.PutAppend', put)).toEqual({
            ok: true,
            reply: { err: 'ErrStale' },
          });
          expect(await end.call('KVServer.Get', { key: 'k' })).toEqual({
            ok: true,
            reply: { err: 'OK', value: 'x' },
          });
          // (labkit logged the refusals as handler warnings; the point is that nothing crashed.)
        },
      ),
    );
  });

  it('answers ErrWrongLeader on a follower and once killed', async () => {
    await simulateTest('kvraft-server-wrong-leader', (sim) =>
      withServiceConfig(
        sim,
        { n: 3, maxraftstate: -1, startServer: startKvLabServer },
        async (cfg) => {
          await sim.sleep(2000);
          const { leader } = cfg.leader();
          const follower = (leader + 1) % 3;
          const { ends } = cfg.makeClientWith(rawEnds, [follower]);
          const args = { key: 'k', value: 'v', op: 'Put', clientId: 5, seq: 1 };
          const replies = await Promise.all(
            ends.map((end) => end.call('KVServer.PutAppend', args)),
          );
          expect(replies.filter((r) => r.ok)).toEqual([
            { ok: true, reply: { err: 'ErrWrongLeader' } },
          ]);
          const gets = await Promise.all(ends.map((end) => end.call('KVServer.Get', { key: 'k' })));
          expect(gets.filter((r) => r.ok)).toEqual([
            { ok: true, reply: { err: 'ErrWrongLeader', value: '' } },
          ]);

          const server = cfg.server(leader);
          server?.kill();
          expect(server?.kv.killed).toBe(true);
          const kv = server?.kv.service as { Get: (a: unknown) => Promise<unknown> };
          expect(await kv.Get({ key: 'k' })).toEqual({ err: 'ErrWrongLeader', value: '' });
          await server?.close(); // idempotent after kill
        },
      ),
    );
  });
});

describe('KvMachine', () => {
  it('snapshots sorted by key and restores exactly', () => {
    const a = new KvMachine();
    a.apply({ type: 'Put', key: 'b', value: '2' });
    a.apply({ type: 'Append', key: 'a', value: '1' });
    a.apply({ type: 'Append', key: 'a', value: '1' });
    a.apply({ type: 'Put', key: 'c', value: '' });
    expect(a.snapshot()).toEqual([
      ['a', '11'],
      ['b', '2'],
      ['c', ''],
    ]);
    const b = new KvMachine();
    b.apply({ type: 'Put', key: 'z', value: 'gone' });
    b.restore(a.snapshot());
    expect(b.snapshot()).toEqual(a.snapshot());
    expect(b.get('z')).toBeUndefined();
    expect(b.get('c')).toBe('');
  });
});
