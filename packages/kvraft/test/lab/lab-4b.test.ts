import { describe, it } from 'vitest';
import { type GenericOptions, genericArgs, genericTest, genericTestSpeed } from './generic.js';
import { snapshotRpc, snapshotSize } from './special.js';

/** Virtual time makes each test fast; the budget is for a loaded 2-core machine. */
const TIMEOUT_MS = 120_000;

const cases: readonly (readonly [string, GenericOptions])[] = [
  ['TestSnapshotRecover4B', genericArgs('4B', 1, 5, false, true, false, 1000, false)],
  ['TestSnapshotRecoverManyClients4B', genericArgs('4B', 20, 5, false, true, false, 1000, false)],
  ['TestSnapshotUnreliable4B', genericArgs('4B', 5, 5, true, false, false, 1000, false)],
  ['TestSnapshotUnreliableRecover4B', genericArgs('4B', 5, 5, true, true, false, 1000, false)],
  [
    'TestSnapshotUnreliableRecoverConcurrentPartition4B',
    genericArgs('4B', 5, 5, true, true, true, 1000, false),
  ],
  [
    'TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B',
    genericArgs('4B', 15, 7, true, true, true, 1000, true),
  ],
];

const byName = new Map(cases);
function generic(name: string): () => Promise<void> {
  const options = byName.get(name);
  if (options === undefined) throw new Error(`no GenericTest case ${name}`);
  return () => genericTest(name, options);
}

// In the lab's file order.
describe('Lab 4B (kvraft): key/value service with snapshots', () => {
  it('TestSnapshotRPC4B: InstallSnapshot RPC', () => snapshotRpc('TestSnapshotRPC4B'), TIMEOUT_MS);
  it(
    'TestSnapshotSize4B: snapshot size is reasonable',
    () => snapshotSize('TestSnapshotSize4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSpeed4B: ops complete fast enough',
    () => genericTestSpeed('TestSpeed4B', '4B', 1000),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotRecover4B: restarts, snapshots, one client',
    generic('TestSnapshotRecover4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotRecoverManyClients4B: restarts, snapshots, many clients',
    generic('TestSnapshotRecoverManyClients4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotUnreliable4B: unreliable net, snapshots, many clients',
    generic('TestSnapshotUnreliable4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotUnreliableRecover4B: unreliable net, restarts, snapshots, many clients',
    generic('TestSnapshotUnreliableRecover4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotUnreliableRecoverConcurrentPartition4B: unreliable net, restarts, partitions, snapshots, many clients',
    generic('TestSnapshotUnreliableRecoverConcurrentPartition4B'),
    TIMEOUT_MS,
  );
  it(
    'TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B: unreliable net, restarts, partitions, snapshots, random keys, many clients',
    generic('TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B'),
    TIMEOUT_MS,
  );
});
