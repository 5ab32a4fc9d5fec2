import { describe, it } from 'vitest';
import { type GenericOptions, genericArgs, genericTest, genericTestSpeed } from './generic.js';
import { onePartition, unreliableOneKey } from './special.js';

/** Virtual time makes each test fast; the budget is for a loaded 2-core machine. */
const TIMEOUT_MS = 120_000;

const cases: readonly (readonly [string, GenericOptions])[] = [
  ['TestBasic4A', genericArgs('4A', 1, 5, false, false, false, -1, false)],
  ['TestConcurrent4A', genericArgs('4A', 5, 5, false, false, false, -1, false)],
  ['TestUnreliable4A', genericArgs('4A', 5, 5, true, false, false, -1, false)],
  ['TestManyPartitionsOneClient4A', genericArgs('4A', 1, 5, false, false, true, -1, false)],
  ['TestManyPartitionsManyClients4A', genericArgs('4A', 5, 5, false, false, true, -1, false)],
  ['TestPersistOneClient4A', genericArgs('4A', 1, 5, false, true, false, -1, false)],
  ['TestPersistConcurrent4A', genericArgs('4A', 5, 5, false, true, false, -1, false)],
  ['TestPersistConcurrentUnreliable4A', genericArgs('4A', 5, 5, true, true, false, -1, false)],
  ['TestPersistPartition4A', genericArgs('4A', 5, 5, false, true, true, -1, false)],
  ['TestPersistPartitionUnreliable4A', genericArgs('4A', 5, 5, true, true, true, -1, false)],
  [
    'TestPersistPartitionUnreliableLinearizable4A',
    genericArgs('4A', 15, 7, true, true, true, -1, true),
  ],
];

const byName = new Map(cases);
function generic(name: string): () => Promise<void> {
  const options = byName.get(name);
  if (options === undefined) throw new Error(`no GenericTest case ${name}`);
  return () => genericTest(name, options);
}

// In the lab's file order.
describe('Lab 4A (kvraft): key/value service without snapshots', () => {
  it('TestBasic4A: one client', generic('TestBasic4A'), TIMEOUT_MS);
  it(
    'TestSpeed4A: ops complete fast enough',
    () => genericTestSpeed('TestSpeed4A', '4A', -1),
    TIMEOUT_MS,
  );
  it('TestConcurrent4A: many clients', generic('TestConcurrent4A'), TIMEOUT_MS);
  it('TestUnreliable4A: unreliable net, many clients', generic('TestUnreliable4A'), TIMEOUT_MS);
  it(
    'TestUnreliableOneKey4A: concurrent append to same key, unreliable',
    () => unreliableOneKey('TestUnreliableOneKey4A'),
    TIMEOUT_MS,
  );
  it(
    'TestOnePartition4A: progress in majority, none in minority, completion after heal',
    () => onePartition('TestOnePartition4A'),
    TIMEOUT_MS,
  );
  it(
    'TestManyPartitionsOneClient4A: partitions, one client',
    generic('TestManyPartitionsOneClient4A'),
    TIMEOUT_MS,
  );
  it(
    'TestManyPartitionsManyClients4A: partitions, many clients',
    generic('TestManyPartitionsManyClients4A'),
    TIMEOUT_MS,
  );
  it('TestPersistOneClient4A: restarts, one client', generic('TestPersistOneClient4A'), TIMEOUT_MS);
  it(
    'TestPersistConcurrent4A: restarts, many clients',
    generic('TestPersistConcurrent4A'),
    TIMEOUT_MS,
  );
  it(
    'TestPersistConcurrentUnreliable4A: unreliable net, restarts, many clients',
    generic('TestPersistConcurrentUnreliable4A'),
    TIMEOUT_MS,
  );
  it(
    'TestPersistPartition4A: restarts, partitions, many clients',
    generic('TestPersistPartition4A'),
    TIMEOUT_MS,
  );
  it(
    'TestPersistPartitionUnreliable4A: unreliable net, restarts, partitions, many clients',
    generic('TestPersistPartitionUnreliable4A'),
    TIMEOUT_MS,
  );
  it(
    'TestPersistPartitionUnreliableLinearizable4A: unreliable net, restarts, partitions, random keys, many clients',
    generic('TestPersistPartitionUnreliableLinearizable4A'),
    TIMEOUT_MS,
  );
});
