import type { SimulationReport } from '@flotilla/transport';
import { challenge1Delete, challenge2Partial, challenge2Unaffected } from './challenge.js';
import { concurrent1, concurrent2, concurrent3 } from './concurrent.js';
import type { LabRunOptions } from './config.js';
import { joinLeave, missChange, snapshot } from './movement.js';
import { rejection, staticShards } from './static.js';
import { unreliable1, unreliable2, unreliable3 } from './unreliable.js';

/** One lab test, runnable with any seed (the vitest files: the default one; stress: many). */
export interface LabTest {
  /** The lab's name, e.g. `TestStaticShards5A`. */
  readonly name: string;
  /** What it tests: the rest of its vitest title. */
  readonly what: string;
  run(seed?: number, options?: { readonly quiet?: boolean }): Promise<SimulationReport<void>>;
}

type Body = (name: string, run: LabRunOptions) => Promise<SimulationReport<void>>;

function labTest(name: string, what: string, body: Body): LabTest {
  return { name, what, run: (seed, options = {}) => body(name, { seed, quiet: options.quiet }) };
}

/** Every test of the lab's shardkv suite (6.5840 Spring 2024, Lab 5A–5B and the challenges), in its order. */
export const scenarios: readonly LabTest[] = [
  labTest('TestStaticShards5A', 'static shards', staticShards),
  labTest('TestRejection5A', 'rejection', rejection),
  labTest('TestJoinLeave5B', 'join then leave', joinLeave),
  labTest('TestSnapshot5B', 'snapshots, join, and leave', snapshot),
  labTest('TestMissChange5B', 'servers miss configuration changes', missChange),
  labTest('TestConcurrent1_5B', 'concurrent puts and configuration changes', concurrent1),
  labTest('TestConcurrent2_5B', 'more concurrent puts and configuration changes', concurrent2),
  labTest('TestConcurrent3_5B', 'concurrent configuration change and restart', concurrent3),
  labTest('TestUnreliable1_5B', 'unreliable 1', unreliable1),
  labTest('TestUnreliable2_5B', 'unreliable 2', unreliable2),
  labTest('TestUnreliable3_5B', 'unreliable 3', unreliable3),
  labTest('TestChallenge1Delete', 'shard deletion (challenge 1)', challenge1Delete),
  labTest(
    'TestChallenge2Unaffected',
    'unaffected shard access (challenge 2)',
    challenge2Unaffected,
  ),
  labTest(
    'TestChallenge2Partial',
    'partial migration shard access (challenge 2)',
    challenge2Partial,
  ),
];

/** The scenarios of a part: `5A`, `5B`, or `Challenge`. */
export function scenariosOf(part: '5A' | '5B' | 'Challenge'): readonly LabTest[] {
  return scenarios.filter((s) =>
    part === 'Challenge' ? s.name.startsWith('TestChallenge') : s.name.endsWith(part),
  );
}
