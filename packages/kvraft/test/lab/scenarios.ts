import type { SimulationReport } from '@flotilla/transport';
import type { LabRunOptions } from './config.js';
import { genericArgs, genericTest, genericTestSpeed, type Part } from './generic.js';
import { onePartition, snapshotRpc, snapshotSize, unreliableOneKey } from './special.js';

/** One lab test, runnable with any seed (the vitest files: the default one; stress: many). */
export interface LabTest {
  /** The lab's name, e.g. `TestBasic4A`. */
  readonly name: string;
  /** What it tests: the rest of its vitest title (`TestBasic4A: one client`). */
  readonly what: string;
  run(seed?: number, options?: { readonly quiet?: boolean }): Promise<SimulationReport<void>>;
}

type Body = (name: string, run: LabRunOptions) => Promise<SimulationReport<void>>;

function labTest(name: string, what: string, body: Body): LabTest {
  return { name, what, run: (seed, options = {}) => body(name, { seed, quiet: options.quiet }) };
}

/** GenericTest with `genericArgs`' arguments, in the lab's order. */
function generic(...args: Parameters<typeof genericArgs>): Body {
  const o = genericArgs(...args);
  return (name, run) => genericTest(name, o, run);
}

/** GenericTestSpeed. */
function speed(part: Part, maxraftstate: number): Body {
  return (name, run) => genericTestSpeed(name, part, maxraftstate, run);
}

/**
 * Every test of the lab's kvraft suite (6.5840 Spring 2024, Lab 4A–4B), by its lab name, in
 * the order of the lab's test_test.go; GenericTest's arguments in its order (part, nclients,
 * nservers, unreliable, crash, partitions, maxraftstate, randomkeys). The vitest titles are
 * `<name>: <what>`.
 */
export const scenarios: readonly LabTest[] = [
  labTest('TestBasic4A', 'one client', generic('4A', 1, 5, false, false, false, -1, false)),
  labTest('TestSpeed4A', 'ops complete fast enough', speed('4A', -1)),
  labTest('TestConcurrent4A', 'many clients', generic('4A', 5, 5, false, false, false, -1, false)),
  labTest(
    'TestUnreliable4A',
    'unreliable net, many clients',
    generic('4A', 5, 5, true, false, false, -1, false),
  ),
  labTest('TestUnreliableOneKey4A', 'concurrent append to same key, unreliable', unreliableOneKey),
  labTest(
    'TestOnePartition4A',
    'progress in majority, none in minority, completion after heal',
    onePartition,
  ),
  labTest(
    'TestManyPartitionsOneClient4A',
    'partitions, one client',
    generic('4A', 1, 5, false, false, true, -1, false),
  ),
  labTest(
    'TestManyPartitionsManyClients4A',
    'partitions, many clients',
    generic('4A', 5, 5, false, false, true, -1, false),
  ),
  labTest(
    'TestPersistOneClient4A',
    'restarts, one client',
    generic('4A', 1, 5, false, true, false, -1, false),
  ),
  labTest(
    'TestPersistConcurrent4A',
    'restarts, many clients',
    generic('4A', 5, 5, false, true, false, -1, false),
  ),
  labTest(
    'TestPersistConcurrentUnreliable4A',
    'unreliable net, restarts, many clients',
    generic('4A', 5, 5, true, true, false, -1, false),
  ),
  labTest(
    'TestPersistPartition4A',
    'restarts, partitions, many clients',
    generic('4A', 5, 5, false, true, true, -1, false),
  ),
  labTest(
    'TestPersistPartitionUnreliable4A',
    'unreliable net, restarts, partitions, many clients',
    generic('4A', 5, 5, true, true, true, -1, false),
  ),
  labTest(
    'TestPersistPartitionUnreliableLinearizable4A',
    'unreliable net, restarts, partitions, random keys, many clients',
    generic('4A', 15, 7, true, true, true, -1, true),
  ),
  labTest('TestSnapshotRPC4B', 'InstallSnapshot RPC', snapshotRpc),
  labTest('TestSnapshotSize4B', 'snapshot size is reasonable', snapshotSize),
  labTest('TestSpeed4B', 'ops complete fast enough', speed('4B', 1000)),
  labTest(
    'TestSnapshotRecover4B',
    'restarts, snapshots, one client',
    generic('4B', 1, 5, false, true, false, 1000, false),
  ),
  labTest(
    'TestSnapshotRecoverManyClients4B',
    'restarts, snapshots, many clients',
    generic('4B', 20, 5, false, true, false, 1000, false),
  ),
  labTest(
    'TestSnapshotUnreliable4B',
    'unreliable net, snapshots, many clients',
    generic('4B', 5, 5, true, false, false, 1000, false),
  ),
  labTest(
    'TestSnapshotUnreliableRecover4B',
    'unreliable net, restarts, snapshots, many clients',
    generic('4B', 5, 5, true, true, false, 1000, false),
  ),
  labTest(
    'TestSnapshotUnreliableRecoverConcurrentPartition4B',
    'unreliable net, restarts, partitions, snapshots, many clients',
    generic('4B', 5, 5, true, true, true, 1000, false),
  ),
  labTest(
    'TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B',
    'unreliable net, restarts, partitions, snapshots, random keys, many clients',
    generic('4B', 15, 7, true, true, true, 1000, true),
  ),
];

/** The tests of one part of the lab ('4A' or '4B'). */
export function scenariosOf(part: Part): readonly LabTest[] {
  return scenarios.filter((s) => s.name.endsWith(part));
}
