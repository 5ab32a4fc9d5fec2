import { defineScenario, type Scenario } from '../harness/run.js';
import { initialElection3A, manyElections3A, reElection3A } from './scenarios-3a.js';
import {
  backup3B,
  basicAgree3B,
  concurrentStarts3B,
  count3B,
  failAgree3B,
  failNoAgree3B,
  followerFailure3B,
  leaderFailure3B,
  rejoin3B,
  rpcBytes3B,
} from './scenarios-3b.js';
import {
  figure8Unreliable3C,
  figure83C,
  persist13C,
  persist23C,
  persist33C,
  reliableChurn3C,
  unreliableAgree3C,
  unreliableChurn3C,
} from './scenarios-3c.js';
import {
  snapshotAllCrash3D,
  snapshotBasic3D,
  snapshotInit3D,
  snapshotInstall3D,
  snapshotInstallCrash3D,
  snapshotInstallUnCrash3D,
  snapshotInstallUnreliable3D,
} from './scenarios-3d.js';

/**
 * Every test of the lab's Raft suite (6.5840 Spring 2024, Lab 3A–3D), by its lab name, in the
 * lab's order. The vitest files run each with the seed `seedFor(name)`; the stress runner runs
 * them over many seeds.
 */
export const scenarios: readonly Scenario[] = [
  defineScenario('InitialElection3A', initialElection3A),
  defineScenario('ReElection3A', reElection3A),
  defineScenario('ManyElections3A', manyElections3A),
  defineScenario('BasicAgree3B', basicAgree3B),
  defineScenario('RPCBytes3B', rpcBytes3B),
  defineScenario('FollowerFailure3B', followerFailure3B),
  defineScenario('LeaderFailure3B', leaderFailure3B),
  defineScenario('FailAgree3B', failAgree3B),
  defineScenario('FailNoAgree3B', failNoAgree3B),
  defineScenario('ConcurrentStarts3B', concurrentStarts3B),
  defineScenario('Rejoin3B', rejoin3B),
  defineScenario('Backup3B', backup3B),
  defineScenario('Count3B', count3B),
  defineScenario('Persist13C', persist13C),
  defineScenario('Persist23C', persist23C),
  defineScenario('Persist33C', persist33C),
  defineScenario('Figure83C', figure83C),
  defineScenario('UnreliableAgree3C', unreliableAgree3C),
  defineScenario('Figure8Unreliable3C', figure8Unreliable3C),
  defineScenario('ReliableChurn3C', reliableChurn3C),
  defineScenario('UnreliableChurn3C', unreliableChurn3C),
  defineScenario('SnapshotBasic3D', snapshotBasic3D),
  defineScenario('SnapshotInstall3D', snapshotInstall3D),
  defineScenario('SnapshotInstallUnreliable3D', snapshotInstallUnreliable3D),
  defineScenario('SnapshotInstallCrash3D', snapshotInstallCrash3D),
  defineScenario('SnapshotInstallUnCrash3D', snapshotInstallUnCrash3D),
  defineScenario('SnapshotAllCrash3D', snapshotAllCrash3D),
  defineScenario('SnapshotInit3D', snapshotInit3D),
];

/** The scenarios of one part of the lab ('3A' … '3D'). */
export function scenariosOf(part: '3A' | '3B' | '3C' | '3D'): readonly Scenario[] {
  return scenarios.filter((s) => s.name.endsWith(part));
}
