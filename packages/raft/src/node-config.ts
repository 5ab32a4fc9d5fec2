import { type RaftCoreConfig, validateCoreConfig, withCoreDefaults } from './core/config.js';
import { RaftConfigError } from './errors.js';
import type { RaftNodeOptions } from './node.js';

/** The default length of one tick. */
export const DEFAULT_TICK_MS = 50;
/** The longest delay a Node.js timer keeps (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function fail(option: string, why: string): never {
  throw new RaftConfigError(`${option} ${why}`, option);
}

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === 'object' &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

/**
 * A node's options checked as a whole, before anything starts (its persister is not even
 * loaded): the core's config with its defaults, and the tick length. Throws RaftConfigError
 * naming the option at fault (`err.option`).
 */
export function nodeConfig(options: RaftNodeOptions): {
  readonly core: RaftCoreConfig;
  readonly tickMs: number;
} {
  const { peers, me } = options;
  if (!Array.isArray(peers) || peers.length === 0) {
    fail('peers', 'must list at least one server (this one included)');
  }
  if (!(Number.isSafeInteger(me) && me >= 0 && me < peers.length)) {
    fail('me', `(${String(me)}) must index peers (length ${peers.length})`);
  }
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  if (!(Number.isSafeInteger(tickMs) && tickMs >= 1 && tickMs <= MAX_TIMER_MS)) {
    fail('tickMs', `(${String(tickMs)}) must be an integer number of ms from 1 to ${MAX_TIMER_MS}`);
  }
  if (!hasMethods(options.persister, ['load', 'save'])) {
    fail('persister', 'must have load() and save()');
  }
  if (!hasMethods(options.clock, ['now', 'setTimeout', 'clearTimeout'])) {
    fail('clock', 'must be a RaftClock: now, setTimeout and clearTimeout methods');
  }
  const core = withCoreDefaults({ me, peerCount: peers.length, random: options.random }, options);
  validateCoreConfig(core);
  return { core, tickMs };
}
