import { type CliArgs, parseCli, USAGE } from './cli-args.js';
import { type CliOutput, coordinatorCommand, runCommand } from './cli-coordinator.js';
import type { EarlyWorkers } from './cli-early.js';
import { sequentialCommand, workerCommand } from './cli-worker.js';
import { describeError, MapReduceError, UsageError } from './errors.js';

/**
 * Runs one CLI invocation and returns its exit status (the entry file exits with it).
 * `cliPath` is the entry file itself, which `run` starts again as workers; `early` are the
 * workers it already started (cli-early.ts).
 */
export async function main(
  argv: readonly string[],
  cliPath: string,
  early?: EarlyWorkers,
): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCli(argv, process.env);
  } catch (err) {
    for (const child of early?.children ?? []) child.kill('SIGKILL');
    process.stderr.write(`flotilla-mapreduce: ${describeError(err).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const out: CliOutput = {
    json: args.json,
    progress: args.json ? false : (args.progress ?? process.stderr.isTTY === true),
    result: (record, text) => {
      if (args.json) process.stdout.write(`${JSON.stringify(record)}\n`);
      else if (text !== '') process.stdout.write(`${text}\n`);
    },
  };
  try {
    switch (args.command) {
      case 'run':
        return await runCommand(args, out, cliPath, early);
      case 'coordinator':
        return await coordinatorCommand(args, out);
      case 'worker':
        return await workerCommand(args, out);
      case 'sequential':
        return await sequentialCommand(args, out);
    }
  } catch (err) {
    for (const child of early?.children ?? []) child.kill('SIGKILL');
    const { code, message } = describeError(err);
    if (args.json) process.stdout.write(`${JSON.stringify({ event: 'error', code, message })}\n`);
    process.stderr.write(`flotilla-mapreduce ${args.command}: ${message}\n`);
    if (!(err instanceof MapReduceError) && err instanceof Error && err.stack) {
      process.stderr.write(`${err.stack}\n`);
    }
    return err instanceof UsageError ? 2 : 1;
  }
}
