#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { startWorkersEarly } from './cli-early.js';

const cliPath = fileURLToPath(import.meta.url);
const argv = process.argv.slice(2);
// msgpackr loads a native add-on, when installed, to decode long strings faster: ~10 ms of
// every process's start-up, for RPC messages of a few hundred bytes. Set before `run` starts
// its workers, so they inherit it; a value set by the user wins.
process.env.MSGPACKR_NATIVE_ACCELERATION_DISABLED ??= 'true';
// Before loading the rest (see cli-early.ts): `run` starts its workers first.
const early = startWorkersEarly(argv, cliPath);
const { main } = await import('./cli-main.js');

// Exit explicitly: an app may leave timers or handles behind, and a worker told the job is
// over must not linger because of them.
main(argv, cliPath, early).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `flotilla-mapreduce: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    for (const child of early?.children ?? []) child.kill('SIGKILL');
    process.exit(1);
  },
);
