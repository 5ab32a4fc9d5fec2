import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type Logger, realClock, sleep } from '@flotilla/transport';
import type { CliArgs } from './cli-args.js';
import { type EarlyWorkers, spawnWorkers } from './cli-early.js';
import { Coordinator } from './coordinator.js';
import type { JobResult } from './job.js';
import { loadApp } from './load-app.js';
import { formatSummary, ProgressDisplay, summaryRecord } from './progress.js';

/** Where a command writes: JSON lines on stdout, or text (progress and logs on stderr). */
export interface CliOutput {
  readonly json: boolean;
  readonly progress: boolean;
  /** One JSON record (json mode) or one text line (text mode) on stdout. */
  result(record: Record<string, unknown>, text: string): void;
}

/**
 * Logs events as text lines through the display, or as JSON lines on stdout (with the fields,
 * for machines). The coordinator's messages say it all; `withFields` appends the fields.
 */
function displayLogger(display: ProgressDisplay, json: boolean, withFields = false): Logger {
  const line = (level: string) => (fields: Record<string, unknown>, message: string) => {
    if (json) {
      process.stdout.write(`${JSON.stringify({ event: 'log', level, msg: message, ...fields })}\n`);
      return;
    }
    const detail = withFields
      ? Object.entries(fields)
          .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join('')
      : '';
    display.log(`${level === 'warn' ? 'warning' : 'note'}: ${message}${detail}`);
  };
  return { warn: line('warn'), info: line('info') };
}

interface Started {
  readonly coordinator: Coordinator;
  readonly display: ProgressDisplay;
  readonly url: string;
}

async function startCoordinator(
  args: CliArgs,
  out: CliOutput,
  token: string | undefined,
): Promise<Started> {
  let coordinator: Coordinator | undefined;
  const display = new ProgressDisplay({
    stream: process.stderr,
    clock: realClock,
    snapshot: () => (coordinator as Coordinator).progress(),
    enabled: out.progress,
  });
  const logger = displayLogger(display, out.json);
  coordinator = await Coordinator.create({
    files: args.files,
    nReduce: args.nReduce,
    dir: args.dir,
    taskTimeoutMs: args.taskTimeoutMs,
    maxTaskFailures: args.maxTaskFailures,
    clock: realClock,
    logger,
  });
  // The transport's own warnings (bad frames, failed auth) are terse: keep their fields.
  const transportLogger = displayLogger(display, out.json, true);
  const url = await coordinator.listen({
    ...args.listen,
    authToken: token,
    logger: transportLogger,
  });
  return { coordinator, display, url };
}

async function finish(started: Started, out: CliOutput, result: JobResult): Promise<number> {
  started.display.stop();
  await started.coordinator.drain(2000);
  await started.coordinator.close();
  out.result(summaryRecord(result), formatSummary(result));
  return result.ok ? 0 : 1;
}

/** `coordinator <files...>`: serves tasks until the job is over, then exits. */
export async function coordinatorCommand(args: CliArgs, out: CliOutput): Promise<number> {
  const started = await startCoordinator(args, out, args.authToken);
  const { coordinator, display, url } = started;
  const tasks = `${args.files.length} map tasks, ${args.nReduce} reduce tasks`;
  if (out.json) out.result({ event: 'listening', url, pid: process.pid }, '');
  else process.stderr.write(`coordinator listening on ${url} (${tasks})\n`);
  display.start();
  return finish(started, out, await coordinator.result);
}

/**
 * `run <files...>`: a coordinator in this process and `--workers` worker processes (this CLI
 * again, as `worker`, usually started early: see cli-early.ts), a progress bar, and a summary.
 * Workers are killed by pid if this process is interrupted or fails; the job fails if every
 * worker has died before it is done.
 */
export async function runCommand(
  args: CliArgs,
  out: CliOutput,
  cliPath: string,
  early?: EarlyWorkers,
): Promise<number> {
  const { token, children: started } = early ?? spawnWorkers(args, cliPath);
  const children = new Set<ChildProcess>(started);
  for (const child of children) out.result({ event: 'worker-started', pid: child.pid }, '');
  const killChildren = (): void => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killChildren);
  try {
    // Check the app here too, so that a bad --app fails once, clearly, not once per worker.
    await loadApp(args.app as string);
    return await superviseJob(args, out, token, children);
  } finally {
    killChildren();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killChildren);
  }
}

async function superviseJob(
  args: CliArgs,
  out: CliOutput,
  token: string,
  children: Set<ChildProcess>,
): Promise<number> {
  const job = await startCoordinator(args, out, token);
  const { coordinator, display, url } = job;
  out.result({ event: 'listening', url, pid: process.pid }, '');
  let allDied: () => void = () => {};
  const workersGone = new Promise<void>((resolve) => {
    allDied = resolve;
  });
  const onExit = (child: ChildProcess, code: number | null, signal: string | null): void => {
    if (!children.delete(child)) return;
    const { phase } = coordinator.progress();
    const over = phase === 'done' || phase === 'failed';
    if (!over && (code !== 0 || signal !== null)) {
      display.log(
        `worker ${child.pid} exited (${signal ?? `code ${code}`}) before the job was over`,
      );
    }
    if (children.size === 0) allDied();
  };
  for (const child of [...children]) {
    child.stdin?.end(`${url}\n`);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) =>
      display.log(out.json ? line : `[worker ${child.pid}] ${line}`),
    );
    // It may have exited already (its 'exit' event came before this listener).
    if (child.exitCode !== null || child.signalCode !== null) {
      onExit(child, child.exitCode, child.signalCode);
    } else child.on('exit', (code, signal) => onExit(child, code, signal));
  }
  display.start();
  const outcome = await Promise.race([
    coordinator.result,
    workersGone.then(() => 'workers-gone' as const),
  ]);
  if (outcome === 'workers-gone') {
    job.display.stop();
    await coordinator.close();
    process.stderr.write('every worker process exited before the job was over\n');
    return 1;
  }
  const code = await finish(job, out, outcome);
  // Told to exit, the workers go within the drain; anything left after that is stuck.
  await Promise.race([workersGone, sleep(realClock, 2000)]);
  return code;
}
