import { configError } from './errors.js';

/**
 * What happens to the messages of one direction of a link. Every field is optional; an empty
 * object is a perfect link. Probabilities are drawn per message from the injected `Random`.
 */
export interface LinkFaults {
  /** Accept every message and deliver none (a partition). Wins over every other field. */
  readonly blackhole?: boolean;
  /** Probability in [0, 1] that a message is dropped. */
  readonly drop?: number;
  /** Probability in [0, 1] that a delivered message is delivered twice. */
  readonly duplicate?: number;
  /**
   * Probability in [0, 1] that a message is held back for up to `reorderMaxHoldMs` more, so
   * that later messages overtake it. Messages not held keep their send order.
   */
  readonly reorder?: number;
  /** The longest extra hold of a reordered message (default 50 ms). */
  readonly reorderMaxHoldMs?: number;
  /** Latency added to every message: a fixed delay, or uniform in [min, max]. */
  readonly delayMs?: number | readonly [number, number];
}

/**
 * The faults of one proxy. `forward` is what the dialing side sends (requests), `backward`
 * what the dialed side sends back (replies). `both` applies to each direction, under the
 * direction's own fields (a field set in `forward` wins over the same field of `both`).
 */
export interface ProxyFaults {
  readonly forward?: LinkFaults;
  readonly backward?: LinkFaults;
  readonly both?: LinkFaults;
  /** Fail the handshake of new connections at once (HTTP 503). Current ones are kept. */
  readonly refuse?: boolean;
}

/** `LinkFaults` with every field filled in: what a `FaultPipe` runs on. */
export interface ResolvedLinkFaults {
  readonly blackhole: boolean;
  readonly drop: number;
  readonly duplicate: number;
  readonly reorder: number;
  readonly reorderMaxHoldMs: number;
  readonly delayMinMs: number;
  readonly delayMaxMs: number;
}

export const DEFAULT_REORDER_MAX_HOLD_MS = 50;

export const NO_FAULTS: ResolvedLinkFaults = {
  blackhole: false,
  drop: 0,
  duplicate: 0,
  reorder: 0,
  reorderMaxHoldMs: DEFAULT_REORDER_MAX_HOLD_MS,
  delayMinMs: 0,
  delayMaxMs: 0,
};

/** Checks `faults` and fills in the defaults; throws ERR_CHAOS_CONFIG naming the bad field. */
export function resolveLinkFaults(faults: LinkFaults, name = 'faults'): ResolvedLinkFaults {
  if (typeof faults !== 'object' || faults === null) {
    throw configError(name, 'must be an object');
  }
  const known = new Set([
    'blackhole',
    'drop',
    'duplicate',
    'reorder',
    'reorderMaxHoldMs',
    'delayMs',
  ]);
  for (const key of Object.keys(faults)) {
    if (!known.has(key)) throw configError(`${name}.${key}`, 'is not a link fault');
  }
  if (faults.blackhole !== undefined && typeof faults.blackhole !== 'boolean') {
    throw configError(`${name}.blackhole`, 'must be a boolean');
  }
  const [delayMinMs, delayMaxMs] = delayRange(faults.delayMs, `${name}.delayMs`);
  return {
    blackhole: faults.blackhole ?? false,
    drop: probability(faults.drop, `${name}.drop`),
    duplicate: probability(faults.duplicate, `${name}.duplicate`),
    reorder: probability(faults.reorder, `${name}.reorder`),
    reorderMaxHoldMs: milliseconds(
      faults.reorderMaxHoldMs ?? DEFAULT_REORDER_MAX_HOLD_MS,
      `${name}.reorderMaxHoldMs`,
    ),
    delayMinMs,
    delayMaxMs,
  };
}

/** A proxy's faults as one resolved `LinkFaults` per direction. */
export interface ResolvedProxyFaults {
  readonly forward: ResolvedLinkFaults;
  readonly backward: ResolvedLinkFaults;
  readonly refuse: boolean;
}

export function resolveProxyFaults(faults: ProxyFaults, name = 'faults'): ResolvedProxyFaults {
  if (typeof faults !== 'object' || faults === null) {
    throw configError(name, 'must be an object');
  }
  const known = new Set(['forward', 'backward', 'both', 'refuse']);
  for (const key of Object.keys(faults)) {
    if (!known.has(key)) throw configError(`${name}.${key}`, 'is not a proxy fault');
  }
  if (faults.refuse !== undefined && typeof faults.refuse !== 'boolean') {
    throw configError(`${name}.refuse`, 'must be a boolean');
  }
  // Validate `both` on its own so an error names the field that holds the bad value.
  resolveLinkFaults(faults.both ?? {}, `${name}.both`);
  resolveLinkFaults(faults.forward ?? {}, `${name}.forward`);
  resolveLinkFaults(faults.backward ?? {}, `${name}.backward`);
  return {
    forward: resolveLinkFaults({ ...faults.both, ...faults.forward }, `${name}.forward`),
    backward: resolveLinkFaults({ ...faults.both, ...faults.backward }, `${name}.backward`),
    refuse: faults.refuse ?? false,
  };
}

function probability(value: number | undefined, name: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw configError(name, `must be a probability in [0, 1], got ${String(value)}`);
  }
  return value;
}

function milliseconds(value: number, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw configError(name, `must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function delayRange(value: LinkFaults['delayMs'], name: string): [number, number] {
  if (value === undefined) return [0, 0];
  if (typeof value === 'number') {
    const ms = milliseconds(value, name);
    return [ms, ms];
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw configError(name, 'must be a number or a [min, max] pair');
  }
  const min = milliseconds(value[0], `${name}[0]`);
  const max = milliseconds(value[1], `${name}[1]`);
  if (min > max) throw configError(name, `has min ${min} over max ${max}`);
  return [min, max];
}
