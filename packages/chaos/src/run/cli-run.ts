import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ChaosError } from '../errors.js';
import type { ProcessSpec } from '../managed-process.js';
import { kvraftTarget } from './kvraft-target.js';
import { runChaos } from './runner.js';
import { shardkvTarget } from './shardkv-target.js';
import { formatSummary } from './summary.js';

export const USAGE = `usage: flotilla-chaos kvraft|shardkv [options]

Runs a kvraft cluster (or a shardkv deployment: a controller and replica groups, with shards
moving all along) as real processes on 127.0.0.1, each link through a fault proxy, with
recorded clerks, and plays a seeded schedule of faults (SIGKILL + restart on the same data
dir, SIGSTOP/SIGCONT, partitions, one-way and bridge partitions, slow and lossy links), one at
a time. Then it undoes them, reads every key, checks the history for linearizability and every
acknowledged write, prints a summary, and ends every process it started.

  --minutes M          how long to inject faults (default 1; at most 60)
  --episodes E         stop after E faults even if time is left
  --servers N          replicas of each cluster (default 3)
  --groups G           shardkv: replica groups (default 3)
  --clerks C           concurrent clerks (default 5)
  --keys K             keys of each kind (default 3)
  --seed S             the schedule's seed (default: random, printed)
  --dir DIR            data dirs and the HTML history (default: a new temp dir, removed on PASS)
  --server-command CMD how to run flotilla-kvraft or flotilla-shardkv, words split on
                       spaces (default: node and the package's installed bin)
  --ctrler-command CMD shardkv: how to run flotilla-shardctrler (default: the same way)
  --json               print the summary as one JSON line
  -h, --help

Exit codes: 0 pass, 1 a violation (not linearizable, a lost or duplicated write, a server that
crashed), 2 bad usage.`;

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let values: ReturnType<typeof parse>['values'];
  let positionals: string[];
  try {
    ({ values, positionals } = parse(argv));
  } catch (err) {
    io.stderr(`flotilla-chaos: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const service = positionals[0];
  if (positionals.length !== 1 || (service !== 'kvraft' && service !== 'shardkv')) {
    io.stderr(`flotilla-chaos: expected the service to run: kvraft or shardkv\n${USAGE}\n`);
    return 2;
  }
  const number = (flag: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value))
      throw new ChaosError('ERR_CHAOS_CONFIG', `--${flag} must be a number, got ${raw}`);
    return value;
  };
  const ownDir = values.dir === undefined;
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'flotilla-chaos-'));
  try {
    const minutes = number('minutes', values.minutes, 1);
    const seed = number('seed', values.seed, randomBytes(4).readUInt32LE(0));
    const episodes =
      values.episodes === undefined ? undefined : number('episodes', values.episodes, 0);
    const authToken = randomBytes(16).toString('hex');
    const replicas = number('servers', values.servers, 3);
    const target =
      service === 'kvraft'
        ? kvraftTarget({
            command: serverCommand(values['server-command'], '@flotilla/kvraft', 'flotilla-kvraft'),
            authToken,
            servers: replicas,
          })
        : shardkvTarget({
            shardkvCommand: serverCommand(
              values['server-command'],
              '@flotilla/shardkv',
              'flotilla-shardkv',
            ),
            ctrlerCommand: serverCommand(
              values['ctrler-command'],
              '@flotilla/shardctrler',
              'flotilla-shardctrler',
            ),
            authToken,
            replicas,
            groups: number('groups', values.groups, 3),
          });
    const summary = await runChaos({
      target,
      seed,
      durationMs: minutes * 60_000,
      ...(episodes === undefined ? {} : { maxEpisodes: episodes }),
      clerks: number('clerks', values.clerks, 5),
      keys: number('keys', values.keys, 3),
      baseDir: dir,
      log: values.json ? () => {} : (line) => io.stdout(`${line}\n`),
    });
    io.stdout(values.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary)}\n`);
    if (summary.ok && ownDir) rmSync(dir, { recursive: true, force: true });
    else io.stdout(`data dirs: ${dir}\n`);
    return summary.ok ? 0 : 1;
  } catch (err) {
    if (err instanceof ChaosError && err.code === 'ERR_CHAOS_CONFIG') {
      io.stderr(`flotilla-chaos: ${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** The command of `flag` split on spaces, or node running the installed bin of `pkg`. */
function serverCommand(flag: string | undefined, pkg: string, binName: string): ProcessSpec {
  if (flag !== undefined) {
    const [command, ...args] = flag.split(' ').filter((w) => w !== '');
    if (command === undefined) {
      throw new ChaosError('ERR_CHAOS_CONFIG', 'a server command is empty');
    }
    return { command, args };
  }
  const require = createRequire(import.meta.url);
  const manifest = require.resolve(`${pkg}/package.json`);
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> };
  return { command: process.execPath, args: [join(dirname(manifest), bin[binName] as string)] };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      minutes: { type: 'string' },
      episodes: { type: 'string' },
      servers: { type: 'string' },
      groups: { type: 'string' },
      clerks: { type: 'string' },
      keys: { type: 'string' },
      seed: { type: 'string' },
      dir: { type: 'string' },
      'server-command': { type: 'string' },
      'ctrler-command': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}
