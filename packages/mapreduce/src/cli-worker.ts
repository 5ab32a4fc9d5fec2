import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { realClock } from '@flotilla/transport';
import type { CliArgs } from './cli-args.js';
import type { CliOutput } from './cli-coordinator.js';
import { CoordinatorUnreachableError } from './errors.js';
import { loadApp } from './load-app.js';
import { formatBytes } from './progress.js';
import { runSequential } from './sequential.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, runWorker, type WorkerEvent } from './worker.js';

/**
 * How long a worker of `run` (`--coordinator -`) waits for its URL and then for the
 * coordinator, unless `--connect-timeout` says otherwise. It is started before its coordinator
 * has loaded, which takes a fraction of a second on an idle machine but can take seconds on a
 * loaded one; and its coordinator is its parent, which closes the worker's stdin (or kills it)
 * if it dies, so waiting longer never leaves a worker behind for nothing.
 */
const RUN_WORKER_WAIT_MS = 10_000;

/**
 * `worker --coordinator URL --app APP`: runs tasks until the coordinator says the job is over
 * or goes away (exit 0). Exit 1 when the app cannot be loaded, the coordinator is never
 * reached or speaks another protocol. A failing task is reported, logged and not fatal.
 */
export async function workerCommand(args: CliArgs, out: CliOutput): Promise<number> {
  const { app, source } = await loadApp(args.app as string);
  const workerId = `${hostname()}:${process.pid}`;
  const onEvent = (event: WorkerEvent): void => {
    if (event.type === 'task-failed') {
      process.stderr.write(
        `worker ${workerId}: ${event.kind} task ${event.taskId} (attempt ${event.attempt}) failed: ${event.code}: ${event.message}\n`,
      );
    } else if (args.verbose) {
      const what = `${event.kind} task ${event.taskId} (attempt ${event.attempt})`;
      process.stderr.write(
        event.type === 'task-start'
          ? `worker ${workerId}: ${what} started\n`
          : `worker ${workerId}: ${what} done in ${event.ms.toFixed(0)} ms (${formatBytes(event.stats.inputBytes)} in, ${event.stats.keys} keys)\n`,
      );
    }
  };
  // `--coordinator -`: started by `run` before its coordinator was listening; the URL comes
  // on stdin once it is. Given a URL, the worker's default applies: a coordinator that is not
  // there within a couple of seconds is taken to be gone (the lab's "job count" test starts
  // workers after the job is over, and they must exit promptly).
  const fromStdin = args.coordinator === '-';
  const connectTimeoutMs =
    args.connectTimeoutMs ?? (fromStdin ? RUN_WORKER_WAIT_MS : DEFAULT_CONNECT_TIMEOUT_MS);
  const url = fromStdin ? await urlFromStdin(connectTimeoutMs) : (args.coordinator as string);
  const exit = await runWorker({
    url,
    app,
    authToken: args.authToken,
    workerId,
    clock: realClock,
    connectTimeoutMs,
    onEvent,
  });
  if (out.json || args.verbose) {
    out.result(
      { event: 'worker-exit', workerId, app: source, ...exit },
      `worker ${workerId}: exiting (${exit.reason}; ${exit.tasksDone} tasks done, ${exit.tasksFailed} failed)`,
    );
  }
  return 0;
}

/** `sequential --app APP files...`: the lab's mrsequential, writing one output file. */
export async function sequentialCommand(args: CliArgs, out: CliOutput): Promise<number> {
  const { app } = await loadApp(args.app as string);
  const started = realClock.now();
  const result = await runSequential({ app, files: args.files, outFile: args.out });
  const seconds = (realClock.now() - started) / 1000;
  const mbPerSec = seconds > 0 ? result.bytes / 1048576 / seconds : 0;
  out.result(
    {
      event: 'done',
      ...result,
      seconds: Number(seconds.toFixed(3)),
      mbPerSec: Number(mbPerSec.toFixed(2)),
    },
    `sequential: ${result.files} files, ${formatBytes(result.bytes)}, ${result.pairs} pairs, ${result.keys} keys in ${seconds.toFixed(2)} s → ${result.outFile}`,
  );
  return 0;
}

/** The first line of stdin: the coordinator's URL, written by `run` once it listens. */
function urlFromStdin(timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin });
    const timer = realClock.setTimeout(() => {
      lines.close();
      reject(
        new CoordinatorUnreachableError(`no coordinator URL on stdin within ${timeoutMs / 1000} s`),
      );
    }, timeoutMs);
    let got = false;
    lines.once('line', (line) => {
      got = true;
      realClock.clearTimeout(timer);
      lines.close();
      resolve(line.trim());
    });
    lines.once('close', () => {
      realClock.clearTimeout(timer);
      if (!got)
        reject(new CoordinatorUnreachableError('stdin closed before a coordinator URL came'));
    });
  });
}
