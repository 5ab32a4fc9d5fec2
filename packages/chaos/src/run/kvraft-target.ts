import { connectClerk } from '@flotilla/kvraft';
import { silentLogger } from '@flotilla/transport';
import type { ProcessSpec } from '../managed-process.js';
import type { ChaosTarget } from './target.js';

export interface KvraftTargetOptions {
  /** How to run `flotilla-kvraft` (the arguments of `serve` are appended). */
  readonly command: ProcessSpec;
  readonly authToken: string;
  /** Replicas (default 3). */
  readonly servers?: number;
  /** Snapshot threshold (bytes); small, so restarts go through InstallSnapshot too. */
  readonly maxraftstate?: number;
}

/** The kvraft service (`flotilla-kvraft serve`): one cluster, `kv`. */
export function kvraftTarget(options: KvraftTargetOptions): ChaosTarget {
  const { command, authToken, servers = 3, maxraftstate = 64 * 1024 } = options;
  const env = serverEnv(command);
  return {
    name: 'kvraft',
    ready: /^listening ws:\/\/\S+$/,
    clusters: [
      {
        name: 'kv',
        size: servers,
        serverSpec: (id, peers, dataDir) => ({
          ...command,
          env,
          args: [
            ...(command.args ?? []),
            'serve',
            ...['--id', String(id), '--peers', peers.join(',')],
            ...['--data-dir', dataDir, '--auth-token', authToken],
            ...['--maxraftstate', String(maxraftstate)],
          ],
        }),
      },
    ],
    connect: (net) => connectClerk(net.clientUrls('kv'), { authToken, logger: silentLogger }),
  };
}

/** The token goes by flag; one inherited from the environment must not override it. */
export function serverEnv(command: ProcessSpec): Record<string, string | undefined> {
  return { ...(command.env ?? process.env), FLOTILLA_AUTH_TOKEN: undefined };
}
