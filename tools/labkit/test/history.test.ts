import { existsSync, readFileSync } from 'node:fs';
import { genericClient, KvHistory, outcomeValue, spawnClients } from '@flotilla/labkit';
import { NotLinearizableError } from '@flotilla/linearizability';
import { describe, expect, it } from 'vitest';
import { Lines, run, withFakeConfig } from './support/run.js';

describe('KV history: recorder + linearizability check', () => {
  it('passes the history of a correct single-copy server under concurrent random-key clients', async () => {
    const lines = new Lines();
    const size = await run('history-ok', (sim) =>
      withFakeConfig(sim, { log: lines.log }, async (cfg) => {
        const { world } = cfg;
        const history = world.history();
        let done = false;
        const pacer = world.pacer();
        const clients = spawnClients(cfg.clientPool(), 3, (cli, clerk) =>
          genericClient({
            cli,
            clerk: world.counted(clerk, history, cli),
            nclients: 3,
            randomkeys: true,
            random: world.random,
            pacer,
            done: () => done,
          }),
        );
        await world.sleep(1000);
        done = true;
        const counts = (await Promise.all(clients)).map(outcomeValue);
        expect(counts.every((j) => j > 0)).toBe(true);
        world.checkHistory(history);
        return history.size;
      }),
    );
    expect(size).toBeGreaterThan(100);
    expect(lines.lines.at(-1)).toMatch(
      new RegExp(`^ {2}linearizable: ${size} operations checked in \\d+ ms$`),
    );
  });

  it('fails a stale server with the visualization written to a temp file the error names', async () => {
    const lines = new Lines();
    const err = await run('history-stale', (sim) =>
      withFakeConfig(sim, { stale: true, log: lines.log }, async (cfg) => {
        const history = cfg.world.history();
        const ck = cfg.world.counted(cfg.makeClient(), history, 0);
        await ck.put('k', 'a');
        await ck.put('k', 'b');
        expect(await ck.get('k')).toBe('a'); // stale: the value before the latest write
        cfg.world.checkHistory(history);
      }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotLinearizableError);
    const { htmlPath, message } = err as NotLinearizableError;
    expect(message).toMatch(/history is not linearizable/);
    expect(htmlPath).toMatch(/\.html$/);
    expect(message).toContain(htmlPath as string);
    expect(existsSync(htmlPath as string)).toBe(true);
    expect(readFileSync(htmlPath as string, 'utf8')).toContain('<html');
    expect(lines.lines).toContain(`info: wrote history visualization to ${htmlPath}`);
  });

  it('a check that runs out of time prints an info line and passes', async () => {
    const lines = new Lines();
    await run('history-unknown', (sim) =>
      withFakeConfig(sim, { log: lines.log }, async (cfg) => {
        const history = cfg.world.history();
        const ck = cfg.world.counted(cfg.makeClient(), history, 0);
        await ck.put('k', 'a');
        await ck.get('k');
        let t = 0;
        const result = history.check({ log: lines.log, timeLimitMs: 0, now: () => t++ });
        expect(result.outcome).toBe('unknown');
      }),
    );
    expect(lines.lines.some((l) => /^info: linearizability check timed out/.test(l))).toBe(true);
  });

  it('records virtual-time call and return times (ns), in the order events happened', async () => {
    const ops = await run('history-times', async (sim) => {
      const history = new KvHistory(sim.clock);
      const clerk = {
        get: async () => {
          await sim.sleep(3);
          return 'v';
        },
        put: async () => {},
        append: async () => {},
      };
      const ck = history.record(4, clerk);
      await sim.sleep(2);
      await ck.get('k');
      await ck.put('k', 'w');
      return history.recorder.operations();
    });
    expect(ops.map((op) => [op.clientId, op.input, op.output])).toEqual([
      [4, { op: 'get', key: 'k' }, 'v'],
      [4, { op: 'put', key: 'k', value: 'w' }, undefined],
    ]);
    expect(ops[0]?.call).toBe(2e6);
    expect(ops[0]?.return).toBe(5e6 + 1);
    expect(ops[1]?.call).toBe(5e6 + 2);
  });
});
