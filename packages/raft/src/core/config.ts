import type { RaftRandom } from '../env.js';
import { RaftConfigError } from '../errors.js';

/** RaftCore's settings (RaftNode fills them from its options and `CORE_DEFAULTS`). */
export interface RaftCoreConfig {
  readonly me: number;
  readonly peerCount: number;
  /** Election timeout, in ticks, is drawn from [electionTicks, 2 × electionTicks). */
  readonly electionTicks: number;
  /** A leader sends each follower an AppendEntries at least this often, in ticks. */
  readonly heartbeatTicks: number;
  readonly maxEntriesPerAppend: number;
  /**
   * An AppendEntries carries no more entries than fit in this many bytes (estimated; one entry
   * always goes, however large): keep it well under the transport's frame limit.
   */
  readonly maxAppendBytes: number;
  /** AppendEntries outstanding per follower while streaming (pipelining depth). */
  readonly maxInflightAppends: number;
  /** A leader that has not heard from a majority within an election timeout steps down. */
  readonly checkQuorum: boolean;
  /** Run a pre-vote round before raising the term (Raft thesis §9.6). */
  readonly preVote: boolean;
  /**
   * A new leader appends a no-op entry of its term (§8 of the extended paper, as etcd does):
   * committing it commits everything its predecessors left uncommitted, with no proposal
   * needed, and lets it serve reads (ReadIndex needs an entry of its term committed).
   */
  readonly noopOnElection: boolean;
  /**
   * Largest InstallSnapshot chunk, in bytes of snapshot data: keep it well under the
   * transport's largest message (its frame limit), with room for the RPC's envelope.
   */
  readonly snapshotChunkBytes: number;
  readonly random: RaftRandom;
}

/** The settings of RaftCoreConfig that have defaults. */
export type RaftCoreSettings = Omit<RaftCoreConfig, 'me' | 'peerCount' | 'random'>;

/** RaftNode's defaults for the core's settings (the README's options table). */
export const CORE_DEFAULTS: RaftCoreSettings = {
  electionTicks: 10,
  heartbeatTicks: 2,
  maxEntriesPerAppend: 512,
  // 4 MiB: a quarter of @flotilla/transport's default 16 MiB frame limit.
  maxAppendBytes: 4 * 1024 * 1024,
  maxInflightAppends: 16,
  checkQuorum: true,
  preVote: true,
  noopOnElection: true,
  // 1 MiB: a sixteenth of @flotilla/transport's default 16 MiB frame limit.
  snapshotChunkBytes: 1024 * 1024,
};

/** A full config: `settings` where given (not undefined), `CORE_DEFAULTS` elsewhere. */
export function withCoreDefaults(
  base: Pick<RaftCoreConfig, 'me' | 'peerCount' | 'random'>,
  settings: { readonly [K in keyof RaftCoreSettings]?: RaftCoreSettings[K] | undefined },
): RaftCoreConfig {
  const d = CORE_DEFAULTS;
  return {
    ...base,
    electionTicks: settings.electionTicks ?? d.electionTicks,
    heartbeatTicks: settings.heartbeatTicks ?? d.heartbeatTicks,
    maxEntriesPerAppend: settings.maxEntriesPerAppend ?? d.maxEntriesPerAppend,
    maxAppendBytes: settings.maxAppendBytes ?? d.maxAppendBytes,
    maxInflightAppends: settings.maxInflightAppends ?? d.maxInflightAppends,
    checkQuorum: settings.checkQuorum ?? d.checkQuorum,
    preVote: settings.preVote ?? d.preVote,
    noopOnElection: settings.noopOnElection ?? d.noopOnElection,
    snapshotChunkBytes: settings.snapshotChunkBytes ?? d.snapshotChunkBytes,
  };
}

function fail(option: string, why: string): never {
  throw new RaftConfigError(`${option} ${why}`, option);
}

function positiveInteger(option: string, value: unknown, consequence: string): void {
  if (!(Number.isSafeInteger(value) && (value as number) >= 1)) {
    fail(option, `(${String(value)}) must be a positive integer${consequence}`);
  }
}

/**
 * Throws RaftConfigError, naming the option at fault (`err.option`), unless every setting can
 * work. The numeric ones are caught here because they would not fail loudly later: zero
 * in-flight appends or entries per append stall replication without an error, and heartbeats
 * no more frequent than election timeouts let followers time out under a live leader.
 */
export function validateCoreConfig(config: RaftCoreConfig): void {
  const { me, peerCount } = config;
  positiveInteger('peerCount', peerCount, ': the number of servers, this one included');
  if (!(Number.isSafeInteger(me) && me >= 0 && me < peerCount)) {
    fail('me', `(${String(me)}) must be an integer in [0, peerCount = ${peerCount})`);
  }
  positiveInteger('electionTicks', config.electionTicks, '');
  positiveInteger('heartbeatTicks', config.heartbeatTicks, '');
  if (config.heartbeatTicks >= config.electionTicks) {
    fail(
      'heartbeatTicks',
      `(${config.heartbeatTicks}) must be less than electionTicks (${config.electionTicks}): ` +
        'followers would time out between heartbeats',
    );
  }
  positiveInteger(
    'maxEntriesPerAppend',
    config.maxEntriesPerAppend,
    ': with none, no AppendEntries carries an entry and replication stalls',
  );
  positiveInteger(
    'maxAppendBytes',
    config.maxAppendBytes,
    ': an AppendEntries must have room for an entry',
  );
  positiveInteger(
    'maxInflightAppends',
    config.maxInflightAppends,
    ': with none, a streaming follower is never sent an entry',
  );
  positiveInteger(
    'snapshotChunkBytes',
    config.snapshotChunkBytes,
    ': an InstallSnapshot chunk must carry data',
  );
  for (const option of ['checkQuorum', 'preVote', 'noopOnElection'] as const) {
    if (typeof config[option] !== 'boolean') {
      fail(option, `(${String(config[option])}) must be a boolean`);
    }
  }
  if (typeof config.random?.int !== 'function') fail('random', 'must have an int(n) method');
}
