import type { Random } from '@flotilla/transport';
import { configError } from '../errors.js';

/**
 * One fault of a chaos run, held for `holdMs` and then undone (a killed server is restarted on
 * its data dir, a paused one resumed, links healed), followed by `gapMs` of calm.
 */
export type Fault =
  | { readonly kind: 'kill'; readonly server: number }
  | { readonly kind: 'pause'; readonly server: number }
  | { readonly kind: 'partition'; readonly groups: readonly (readonly number[])[] }
  | { readonly kind: 'isolate'; readonly server: number }
  | { readonly kind: 'one-way'; readonly from: number; readonly to: number }
  | {
      readonly kind: 'bridge';
      readonly a: readonly number[];
      readonly b: readonly number[];
      readonly via: number;
    }
  | { readonly kind: 'slow'; readonly delayMs: readonly [number, number]; readonly drop: number };

export type FaultKind = Fault['kind'];

export const FAULT_KINDS: readonly FaultKind[] = [
  'kill',
  'pause',
  'partition',
  'isolate',
  'one-way',
  'bridge',
  'slow',
];

/** Which kinds count as a partition in the summary. */
export const PARTITION_KINDS: ReadonlySet<FaultKind> = new Set([
  'partition',
  'isolate',
  'one-way',
  'bridge',
]);

export interface Episode {
  readonly index: number;
  /** The cluster the fault hits (an index into the sizes); servers are numbered within it. */
  readonly cluster: number;
  readonly fault: Fault;
  readonly holdMs: number;
  readonly gapMs: number;
}

export interface ScheduleOptions {
  /** The size of each cluster; each episode picks one, uniformly. */
  readonly clusters: readonly number[];
  /** Relative weights of the kinds; a kind left out never happens. */
  readonly weights?: Partial<Record<FaultKind, number>>;
  readonly holdMs?: readonly [number, number];
  readonly gapMs?: readonly [number, number];
}

/**
 * The weights of the done-when counts of issue 17 (≥ 200 kills, ≥ 100 partitions, ≥ 50
 * pauses per run): about half the episodes kill, a third cut links, a sixth pause.
 */
export const DEFAULT_WEIGHTS: Readonly<Record<FaultKind, number>> = {
  kill: 10,
  pause: 3.5,
  partition: 2.5,
  isolate: 2,
  'one-way': 1.5,
  bridge: 1,
  slow: 1,
};

const DEFAULT_HOLD_MS: readonly [number, number] = [300, 1500];
const DEFAULT_GAP_MS: readonly [number, number] = [100, 600];

/**
 * The episodes of a run, a pure function of the random source (seeded: replayable): what
 * happens and in what order. When it happens depends on the machine (a restart takes as long as
 * it takes), so a replay repeats the faults, not the interleaving.
 */
export function* faultSchedule(random: Random, options: ScheduleOptions): Generator<Episode> {
  const { clusters } = options;
  if (clusters.length === 0 || !clusters.every((n) => Number.isInteger(n) && n >= 1)) {
    throw configError('clusters', `must list cluster sizes >= 1, got [${clusters.join(', ')}]`);
  }
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  for (const [kind, weight] of Object.entries(weights)) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw configError(`weights.${kind}`, 'is not a fault kind');
    }
    if (!(weight >= 0 && Number.isFinite(weight))) {
      throw configError(`weights.${kind}`, `must be a finite number >= 0, got ${weight}`);
    }
  }
  const kindsBySize = clusters.map((n) => FAULT_KINDS.filter((k) => weights[k] > 0 && fits(k, n)));
  const [holdMin, holdMax] = range(options.holdMs ?? DEFAULT_HOLD_MS, 'holdMs');
  const [gapMin, gapMax] = range(options.gapMs ?? DEFAULT_GAP_MS, 'gapMs');
  if (kindsBySize.every((kinds) => kinds.length === 0)) {
    throw configError('weights', 'leave no fault that fits any cluster');
  }
  for (let index = 0; ; index++) {
    let cluster = random.int(clusters.length);
    while ((kindsBySize[cluster] as FaultKind[]).length === 0)
      cluster = random.int(clusters.length);
    const kinds = kindsBySize[cluster] as FaultKind[];
    const total = kinds.reduce((sum, k) => sum + weights[k], 0);
    let pick = random.next() * total;
    let kind = kinds[kinds.length - 1] as FaultKind;
    for (const k of kinds) {
      pick -= weights[k];
      if (pick < 0) {
        kind = k;
        break;
      }
    }
    const fault = drawFault(random, kind, clusters[cluster] as number);
    const holdMs = holdMin + random.int(holdMax - holdMin + 1);
    const gapMs = gapMin + random.int(gapMax - gapMin + 1);
    yield { index, cluster, fault, holdMs, gapMs };
  }
}

/** A bridge needs two sides and a third node; a cut link, two nodes. */
function fits(kind: FaultKind, n: number): boolean {
  if (kind === 'bridge') return n >= 3;
  if (kind === 'partition' || kind === 'isolate' || kind === 'one-way' || kind === 'slow') {
    return n >= 2;
  }
  return true;
}

function range(value: readonly [number, number], option: string): [number, number] {
  const [min, max] = value;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && min <= max)) {
    throw configError(
      option,
      `must be integers [min, max] with 0 <= min <= max, got [${min}, ${max}]`,
    );
  }
  return [min, max];
}

function drawFault(random: Random, kind: FaultKind, n: number): Fault {
  switch (kind) {
    case 'kill':
    case 'pause':
    case 'isolate':
      return { kind, server: random.int(n) };
    case 'partition': {
      // A minority of 1..floor((n-1)/2) (at least 1) against the rest.
      const order = shuffled(random, n);
      const size = 1 + random.int(Math.max(1, Math.floor((n - 1) / 2)));
      return { kind, groups: [order.slice(0, size).sort(), order.slice(size).sort()] };
    }
    case 'one-way': {
      const [from, to] = shuffled(random, n) as [number, number];
      return { kind, from, to };
    }
    case 'bridge': {
      const order = shuffled(random, n);
      const via = order[0] as number;
      const rest = order.slice(1);
      const half = Math.max(1, Math.floor(rest.length / 2));
      return { kind, a: rest.slice(0, half).sort(), b: rest.slice(half).sort(), via };
    }
    case 'slow':
      return { kind, delayMs: [5, 40 + random.int(60)], drop: 0.05 + random.int(10) / 100 };
    default: {
      const unreachable: never = kind;
      throw new TypeError(`unknown fault kind ${String(unreachable)}`);
    }
  }
}

function shuffled(random: Random, n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

/**
 * One line per episode, as the run prints it: `#12 kill kv-1 (hold 800 ms, gap 250 ms)`, the
 * servers named `<cluster>-<id>` after `clusters` (default `c<index>`).
 */
export function describeEpisode(e: Episode, clusters: readonly string[] = []): string {
  const cluster = clusters[e.cluster] ?? `c${e.cluster}`;
  return `#${e.index} ${describeFault(e.fault, cluster)} (hold ${e.holdMs} ms, gap ${e.gapMs} ms)`;
}

export function describeFault(f: Fault, cluster = 's'): string {
  const s = (i: number) => `${cluster}-${i}`;
  const group = (g: readonly number[]) => `{${g.map(s).join(',')}}`;
  switch (f.kind) {
    case 'kill':
    case 'pause':
    case 'isolate':
      return `${f.kind} ${s(f.server)}`;
    case 'partition':
      return `partition ${f.groups.map(group).join(' | ')}`;
    case 'one-way':
      return `one-way ${s(f.from)} -/-> ${s(f.to)}`;
    case 'bridge':
      return `bridge ${group(f.a)} <-${s(f.via)}-> ${group(f.b)}`;
    case 'slow':
      return `slow links of ${cluster} ${f.delayMs[0]}-${f.delayMs[1]} ms, drop ${Math.round(f.drop * 100)}%`;
    default: {
      const unreachable: never = f;
      throw new TypeError(`unknown fault ${JSON.stringify(unreachable)}`);
    }
  }
}
