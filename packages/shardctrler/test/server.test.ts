import { withServiceConfig } from '@flotilla/labkit';
import { type ClientEnd, simulateTest } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import { startCtrlerLabServer } from './lab/config.js';

/** Raw ends by server id (labkit hands a factory the ends shuffled). */
const rawEnds = (ends: readonly ClientEnd[]) => ({ ends });

describe('ShardCtrler (the service on the wire)', () => {
  it('answers malformed requests BAD_ARGUMENTS, invalid ones ErrInvalidArgument, and applies each write once', async () => {
    await simulateTest('shardctrler-server-wire', (sim) =>
      withServiceConfig(
        sim,
        { n: 3, maxraftstate: -1, startServer: startCtrlerLabServer },
        async (cfg) => {
          await sim.sleep(2000); // an election
          const { found, leader } = cfg.leader();
          expect(found).toBe(true);
          const { ends } = cfg.makeClientWith(rawEnds, [leader]);
          const calls = await Promise.all(
            ends.map((e) => e.call('ShardCtrler.Query', { num: -1 })),
          );
          const end = ends[calls.findIndex((r) => r.ok)] as ClientEnd;
          expect(calls.find((r) => r.ok)).toEqual({
            ok: true,
            reply: {
              err: 'OK',
              config: { num: 0, shards: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], groups: {} },
            },
          });

          for (const [method, args] of [
            ['Query', null],
            ['Query', { num: '1' }],
            ['Join', { servers: [['1', ['a']]], clientId: 1, seq: 1 }],
            ['Join', { servers: { 1: ['a'] }, clientId: -1, seq: 1 }],
            ['Leave', { gids: 1, clientId: 1, seq: 1 }],
            ['Move', { shard: 0, gid: '1', clientId: 1, seq: 1 }],
            ['Move', { shard: 0, gid: 1, clientId: 1, seq: 0 }],
          ] as const) {
            expect(await end.call(`ShardCtrler.${method}`, args)).toMatchObject({
              ok: false,
              code: 'BAD_ARGUMENTS',
            });
          }
          for (const [method, args, reason] of [
            ['Query', { num: -5 }, 'BAD_CONFIG_NUM'],
            ['Join', { servers: {}, clientId: 1, seq: 1 }, 'BAD_SERVERS'],
            ['Join', { servers: { 0: ['a'] }, clientId: 1, seq: 1 }, 'BAD_GID'],
            ['Join', { servers: { '01': ['a'] }, clientId: 1, seq: 1 }, 'BAD_GID'],
            ['Join', { servers: { 1: [7] }, clientId: 1, seq: 1 }, 'BAD_SERVERS'],
            ['Leave', { gids: [1, 1], clientId: 1, seq: 1 }, 'DUPLICATE_GID'],
            ['Move', { shard: 10, gid: 1, clientId: 1, seq: 1 }, 'BAD_SHARD'],
          ] as const) {
            expect(await end.call(`ShardCtrler.${method}`, args)).toMatchObject({
              ok: true,
              reply: { err: 'ErrInvalidArgument', invalid: { reason } },
            });
          }

          const join = { servers: { 3: ['a', 'b'] }, clientId: 1, seq: 1 };
          expect(await end.call('ShardCtrler.Join', join)).toEqual({
            ok: true,
            reply: { err: 'OK', num: 1 },
          });
          // A resend answers the first run's result and applies nothing again.
          expect(await end.call('ShardCtrler.Join', join)).toEqual({
            ok: true,
            reply: { err: 'OK', num: 1 },
          });
          // A refusal through the log is an answer too, recorded for the session.
          const again = { servers: { 3: ['c'] }, clientId: 2, seq: 1 };
          const refused = {
            ok: true,
            reply: { err: 'ErrInvalidArgument', invalid: { reason: 'GID_ALREADY_JOINED', gid: 3 } },
          };
          expect(await end.call('ShardCtrler.Join', again)).toMatchObject(refused);
          expect(await end.call('ShardCtrler.Join', again)).toMatchObject(refused);
          const move = { shard: 0, gid: 3, clientId: 1, seq: 2 };
          expect(await end.call('ShardCtrler.Move', move)).toEqual({
            ok: true,
            reply: { err: 'OK', num: 2 },
          });
          // An older request of the same client is stale.
          expect(await end.call('ShardCtrler.Join', join)).toEqual({
            ok: true,
            reply: { err: 'ErrStale' },
          });
          const latest = await end.call('ShardCtrler.Query', { num: -1 });
          expect(latest).toMatchObject({
            ok: true,
            reply: { config: { num: 2, groups: { 3: ['a', 'b'] } } },
          });
          // Every replica has the same history.
          await sim.sleep(1000);
          const histories = cfg
            .all()
            .map((i) => [0, 1, 2].map((num) => cfg.server(i)?.ctrler.rsm.machine.query(num)));
          expect(histories[1]).toEqual(histories[0]);
          expect(histories[2]).toEqual(histories[0]);
        },
      ),
    );
  });
});
