import { configError } from './errors.js';
import type { LinkFaults, ProxyFaults } from './faults.js';

/**
 * Who cannot hear whom, as a matrix: `blocked[from][to]` is true when the messages `from`
 * sends to `to` are blackholed. Pure functions, so partition semantics are tested without
 * sockets.
 */
export type Blocked = readonly (readonly boolean[])[];

export function openBlocks(n: number): boolean[][] {
  return Array.from({ length: n }, () => Array.from({ length: n }, () => false));
}

/**
 * Links between different groups are blocked both ways. A node in no group is a group of its
 * own (cut off from everyone); a node in two groups is an error.
 */
export function partitionBlocks(n: number, groups: readonly (readonly number[])[]): boolean[][] {
  const groupOf = groupIndex(n, groups, 'groups');
  return square(n, (from, to) => groupOf[from] !== groupOf[to]);
}

/**
 * `a` and `b` each talk among themselves and with `bridgeNode`, never with each other: the
 * bridge is the only node both sides hear. A node in none of them is cut off from everyone.
 */
export function bridgeBlocks(
  n: number,
  a: readonly number[],
  b: readonly number[],
  bridgeNode: number,
): boolean[][] {
  const groupOf = groupIndex(n, [a, b, [bridgeNode]], 'bridge');
  const bridgeGroup = 2;
  return square(n, (from, to) => {
    const gf = groupOf[from];
    const gt = groupOf[to];
    if (gf === gt) return false;
    if (gf === bridgeGroup && gt !== undefined && gt < 2) return false;
    if (gt === bridgeGroup && gf !== undefined && gf < 2) return false;
    return true;
  });
}

/** Checks that `i` names a node of `n`. */
export function checkNode(n: number, i: number, option: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw configError(option, `must be a node index in [0, ${n - 1}], got ${String(i)}`);
  }
}

/**
 * The faults proxy i→j runs: `base` (set with setLinkFaults) plus the blackholes of `blocked`.
 * The proxy's forward direction carries what i sends to j (its requests), its backward
 * direction what j sends back to i (the replies to them).
 */
export function effectiveLinkFaults(
  base: ProxyFaults,
  blocked: Blocked,
  i: number,
  j: number,
): ProxyFaults {
  const forward: LinkFaults = { ...base.both, ...base.forward };
  const backward: LinkFaults = { ...base.both, ...base.backward };
  const faults: ProxyFaults = {
    forward: blocked[i]?.[j] ? { ...forward, blackhole: true } : forward,
    backward: blocked[j]?.[i] ? { ...backward, blackhole: true } : backward,
  };
  return base.refuse === undefined ? faults : { ...faults, refuse: base.refuse };
}

function square(n: number, f: (from: number, to: number) => boolean): boolean[][] {
  return Array.from({ length: n }, (_, from) =>
    Array.from({ length: n }, (_, to) => from !== to && f(from, to)),
  );
}

// Each node's group, or a fresh group number of its own when it is in none.
function groupIndex(
  n: number,
  groups: readonly (readonly number[])[],
  option: string,
): Array<number | undefined> {
  if (!Array.isArray(groups)) throw configError(option, 'must be an array of node lists');
  const groupOf: Array<number | undefined> = Array.from({ length: n }, () => undefined);
  groups.forEach((group, g) => {
    if (!Array.isArray(group)) throw configError(`${option}[${g}]`, 'must be an array of nodes');
    for (const node of group) {
      checkNode(n, node, `${option}[${g}]`);
      if (groupOf[node] !== undefined) {
        throw configError(option, `name node ${node} more than once`);
      }
      groupOf[node] = g;
    }
  });
  let next = groups.length;
  return groupOf.map((g) => g ?? next++);
}
