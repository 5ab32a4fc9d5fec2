import { SeededRandom } from '@flotilla/transport';
import { describe, expect, it } from 'vitest';
import {
  ChaosError,
  FaultProxy,
  type LinkFaults,
  LinkMap,
  resolveLinkFaults,
  resolveProxyFaults,
} from '../src/index.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof ChaosError ? err.code : `not a ChaosError: ${String(err)}`;
  }
  return undefined;
}

async function asyncCodeOf(f: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await f();
  } catch (err) {
    return err instanceof ChaosError ? err.code : `not a ChaosError: ${String(err)}`;
  }
  return undefined;
}

describe('fault options', () => {
  it.each<[string, unknown]>([
    ['drop above 1', { drop: 1.5 }],
    ['negative duplicate', { duplicate: -0.1 }],
    ['NaN reorder', { reorder: Number.NaN }],
    ['a delay range with min over max', { delayMs: [10, 5] }],
    ['a negative delay', { delayMs: -1 }],
    ['an infinite hold', { reorderMaxHoldMs: Number.POSITIVE_INFINITY }],
    ['a non-boolean blackhole', { blackhole: 1 }],
    ['an unknown field', { lose: 0.5 }],
  ])('rejects %s with ERR_CHAOS_CONFIG', (_, faults) => {
    expect(codeOf(() => resolveLinkFaults(faults as LinkFaults))).toBe('ERR_CHAOS_CONFIG');
  });

  it('names the bad field of a proxy fault in the message', () => {
    expect(() => resolveProxyFaults({ backward: { drop: 2 } })).toThrow(/faults\.backward\.drop/);
  });

  it('lets a direction override a field of both', () => {
    const resolved = resolveProxyFaults({ both: { drop: 0.5, delayMs: 3 }, forward: { drop: 0 } });
    expect(resolved.forward).toMatchObject({ drop: 0, delayMinMs: 3, delayMaxMs: 3 });
    expect(resolved.backward).toMatchObject({ drop: 0.5, delayMinMs: 3 });
  });

  it('refuses non-loopback hosts and targets, and bad ports, with ERR_CHAOS_CONFIG', async () => {
    const random = new SeededRandom(1);
    const good = 'ws://127.0.0.1:9';
    expect(
      await asyncCodeOf(() => FaultProxy.start({ target: good, random, host: '0.0.0.0' })),
    ).toBe('ERR_CHAOS_CONFIG');
    expect(await asyncCodeOf(() => FaultProxy.start({ target: 'ws://10.0.0.1:80', random }))).toBe(
      'ERR_CHAOS_CONFIG',
    );
    expect(
      await asyncCodeOf(() => FaultProxy.start({ target: 'http://127.0.0.1:80', random })),
    ).toBe('ERR_CHAOS_CONFIG');
    expect(await asyncCodeOf(() => FaultProxy.start({ target: good, random, port: 70_000 }))).toBe(
      'ERR_CHAOS_CONFIG',
    );
    expect(
      await asyncCodeOf(() =>
        FaultProxy.start({ target: good, random, faults: { refuse: 'yes' as unknown as boolean } }),
      ),
    ).toBe('ERR_CHAOS_CONFIG');
    expect(await asyncCodeOf(() => LinkMap.start({ targets: [], random }))).toBe(
      'ERR_CHAOS_CONFIG',
    );
  });
});
