import {
  makeServiceConfig,
  type ServiceCluster,
  type ServiceConfigOptions,
  withServiceConfig,
} from '@flotilla/labkit';
import { type Sim, simulateTest } from '@flotilla/transport';
import type { FakeKvOptions } from './fake-kv.js';
import { type FakeClerk, type FakeKvServer, fakeClerk, startFakeKv } from './fake-kv.js';

export type FakeCluster = ServiceCluster<FakeKvServer, FakeClerk>;

export interface FakeConfigOptions
  extends FakeKvOptions,
    Partial<Omit<ServiceConfigOptions<FakeKvServer, FakeClerk>, 'startServer'>> {}

/** Lines a world printed, for the tests to read (and not to clutter the output). */
export class Lines {
  readonly lines: string[] = [];
  readonly log = (line: string): void => {
    this.lines.push(line);
  };
}

function configOptions(options: FakeConfigOptions): ServiceConfigOptions<FakeKvServer, FakeClerk> {
  return {
    n: 5,
    maxraftstate: -1,
    makeClerk: fakeClerk,
    log: () => {},
    ...options,
    startServer: startFakeKv(options),
  };
}

/** A fake-KV config (5 servers, reliable, maxraftstate -1 unless told), cleaned up after `body`. */
export function withFakeConfig<T>(
  sim: Sim,
  options: FakeConfigOptions,
  body: (cfg: FakeCluster) => Promise<T>,
): Promise<T> {
  return withServiceConfig(sim, configOptions(options), body);
}

export function makeFakeConfig(sim: Sim, options: FakeConfigOptions = {}): Promise<FakeCluster> {
  return makeServiceConfig(sim, configOptions(options));
}

/** Runs `body` in virtual time with a fixed seed; resolves to its value. */
export async function run<T>(name: string, body: (sim: Sim) => Promise<T>, seed = 1): Promise<T> {
  return (await simulateTest(name, body, { seed })).value;
}
