import { hostname } from 'node:os';
import {
  type CallResult,
  type Clock,
  type Logger,
  type NoReplyCode,
  noReplyKind,
  realClock,
  silentLogger,
  sleep,
  type TimerHandle,
  WsClient,
} from '@flotilla/transport';
import type { App } from './app.js';
import { CoordinatorUnreachableError, describeError, ProtocolError } from './errors.js';
import {
  clipMessage,
  isReportReply,
  isTaskReply,
  type MapAssignment,
  Method,
  PROTOCOL_VERSION,
  type ReduceAssignment,
  type TaskKind,
} from './protocol.js';
import { runMapTask, runReduceTask, type TaskStats } from './tasks.js';

export interface WorkerOptions {
  /** The coordinator's URL, e.g. `ws://127.0.0.1:7000`. */
  readonly url: string;
  readonly app: App;
  readonly authToken?: string;
  /** Default `<hostname>:<pid>`. */
  readonly workerId?: string;
  /** Production: transport's `realClock`. */
  readonly clock?: Clock;
  /**
   * Give up when the coordinator cannot be reached this long after starting (default 2 s). As
   * in the lab, a worker that cannot contact its coordinator exits: a coordinator that is gone
   * shows as a refused connection, known at once, so the retries only need to cover one that
   * is still starting.
   */
  readonly connectTimeoutMs?: number;
  /** Once connected, the coordinator counts as gone when it stays unreachable this long (default 2 s). */
  readonly goneAfterMs?: number;
  /** Per-call timeout; a long poll is held at most a few seconds (default 30 s). */
  readonly callTimeoutMs?: number;
  /** Connection warnings of the WebSocket client (default: silent). */
  readonly logger?: Logger;
  /** Hears each task start, finish and failure. */
  readonly onEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | {
      readonly type: 'task-start';
      readonly kind: TaskKind;
      readonly taskId: number;
      readonly attempt: number;
    }
  | {
      readonly type: 'task-done';
      readonly kind: TaskKind;
      readonly taskId: number;
      readonly attempt: number;
      readonly stats: TaskStats;
      readonly ms: number;
    }
  | {
      readonly type: 'task-failed';
      readonly kind: TaskKind;
      readonly taskId: number;
      readonly attempt: number;
      readonly code: string;
      readonly message: string;
    };

export interface WorkerExit {
  /** `done`/`failed`: the coordinator said the job is over. `coordinator-gone`: it went away. */
  readonly reason: 'done' | 'failed' | 'coordinator-gone';
  readonly tasksDone: number;
  readonly tasksFailed: number;
}

const GONE = Symbol('coordinator gone');

/** `connectTimeoutMs`'s default. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/**
 * The worker loop: ask the coordinator for a task, run it, report it, until the coordinator
 * says the job is over or cannot be reached any more. A task that throws is reported as
 * failed (with the error's code and message) and the loop goes on.
 *
 * Rejects with `CoordinatorUnreachableError` when it never reaches the coordinator (or the
 * auth token is refused), and `ProtocolError` when the coordinator answers in a way this
 * worker does not understand.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerExit> {
  const clock = options.clock ?? realClock;
  const workerId = options.workerId ?? `${hostname()}:${process.pid}`;
  const goneAfterMs = options.goneAfterMs ?? 2000;
  const client = new WsClient({
    url: options.url,
    authToken: options.authToken,
    callTimeoutMs: options.callTimeoutMs ?? 30_000,
    reconnect: { initialDelayMs: 50, maxDelayMs: 250 },
    logger: options.logger ?? silentLogger,
    clock,
  });
  const emit = options.onEvent ?? (() => {});
  let tasksDone = 0;
  let tasksFailed = 0;

  /** One call, retried while the connection recovers; GONE once it has not for `goneAfterMs`. */
  const call = async <R>(
    method: string,
    args: unknown,
    isReply: (x: unknown) => x is R,
  ): Promise<R | typeof GONE> => {
    let failingSince: number | undefined;
    for (;;) {
      // A call made while reconnecting would wait for its whole timeout: wait here instead,
      // and only as long as the coordinator may plausibly come back.
      if (client.state === 'connecting') {
        failingSince ??= clock.now();
        while (client.state === 'connecting' && clock.now() - failingSince < goneAfterMs) {
          await sleep(clock, 25);
        }
        if (client.state === 'connecting') return GONE;
      }
      const result: CallResult = await client.call(method, args);
      if (result.ok) {
        if (!isReply(result.reply)) throw new ProtocolError(`${method}: unexpected reply`);
        return result.reply;
      }
      if (result.code === 'AUTH_FAILED') {
        throw new CoordinatorUnreachableError(
          `the coordinator at ${options.url} refused the auth token`,
        );
      }
      if (!isNetworkFailure(result.code)) {
        throw new ProtocolError(
          `${method}: the coordinator answered ${result.code}${result.message ? `: ${result.message}` : ''}`,
        );
      }
      if (client.state === 'closed') return GONE;
      failingSince ??= clock.now();
      if (clock.now() - failingSince >= goneAfterMs) return GONE;
      await sleep(clock, 25);
    }
  };

  const report = async (
    task: MapAssignment | ReduceAssignment,
    outcome: { stats: TaskStats } | { error: { code: string; message: string } },
  ): Promise<typeof GONE | undefined> => {
    const ref = {
      protocol: PROTOCOL_VERSION,
      workerId,
      kind: task.kind,
      taskId: task.taskId,
      attempt: task.attempt,
    };
    const reply =
      'stats' in outcome
        ? await call(Method.reportDone, { ...ref, stats: outcome.stats }, isReportReply)
        : await call(Method.reportFailed, { ...ref, error: outcome.error }, isReportReply);
    return reply === GONE ? GONE : undefined;
  };

  try {
    await connect(client, clock, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    for (;;) {
      const reply = await call(
        Method.requestTask,
        { protocol: PROTOCOL_VERSION, workerId },
        isTaskReply,
      );
      if (reply === GONE) return { reason: 'coordinator-gone', tasksDone, tasksFailed };
      if (reply.kind === 'wait') continue;
      if (reply.kind === 'exit') return { reason: reply.reason, tasksDone, tasksFailed };
      const { kind, taskId, attempt } = reply;
      emit({ type: 'task-start', kind, taskId, attempt });
      const started = clock.now();
      let outcome: { stats: TaskStats } | { error: { code: string; message: string } };
      try {
        const stats =
          reply.kind === 'map'
            ? await runMapTask(options.app, reply)
            : await runReduceTask(options.app, reply);
        outcome = { stats };
        tasksDone++;
        emit({ type: 'task-done', kind, taskId, attempt, stats, ms: clock.now() - started });
      } catch (err) {
        const { code, message } = describeError(err);
        outcome = { error: { code, message: clipMessage(message) } };
        tasksFailed++;
        emit({ type: 'task-failed', kind, taskId, attempt, code, message });
      }
      if ((await report(reply, outcome)) === GONE) {
        return { reason: 'coordinator-gone', tasksDone, tasksFailed };
      }
    }
  } finally {
    await client.close();
  }
}

async function connect(client: WsClient, clock: Clock, timeoutMs: number): Promise<void> {
  let timer: TimerHandle;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const ready = client.ready().then(
    () => 'ready' as const,
    (err: unknown) => err,
  );
  const outcome = await Promise.race([ready, timedOut]);
  clock.clearTimeout(timer);
  if (outcome === 'ready') return;
  if (outcome === 'timeout') {
    throw new CoordinatorUnreachableError(
      `cannot reach the coordinator at ${client.url} within ${timeoutMs / 1000} s`,
    );
  }
  throw new CoordinatorUnreachableError(
    `cannot reach the coordinator at ${client.url}: ${describeError(outcome).message}`,
  );
}

/**
 * The outcomes that say nothing about the coordinator's answer, only that there was none:
 * transport's `lost` and `unavailable` (retried until `goneAfterMs`) and `closed` (the client
 * is closed: the coordinator counts as gone). `refused` is a wrong token or a coordinator
 * speaking another protocol, which no retry fixes.
 */
export function isNetworkFailure(code: NoReplyCode): boolean {
  return noReplyKind(code) !== 'refused';
}
