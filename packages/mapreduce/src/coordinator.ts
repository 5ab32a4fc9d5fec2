import { resolve } from 'node:path';
import {
  BadArgumentsError,
  type Clock,
  type Logger,
  RpcServer,
  realClock,
  type ServiceMethods,
  silentLogger,
  sleep,
  type TimerHandle,
  validated,
  WsServer,
} from '@flotilla/transport';
import { type Assignment, CoordinatorCore, type MapInput } from './coordinator-core.js';
import { CoordinatorClosedError, UnknownTaskError } from './errors.js';
import {
  checkInputs,
  type JobResult,
  jobFailedError,
  type ProgressSnapshot,
  summarize,
} from './job.js';
import { LongPolls } from './long-polls.js';
import {
  COORDINATOR_SERVICE,
  isReportDoneArgs,
  isReportFailedArgs,
  isRequestTaskArgs,
  type ReportDoneArgs,
  type ReportFailedArgs,
  type ReportReply,
  type RequestTaskArgs,
  type TaskReply,
} from './protocol.js';

export interface CoordinatorOptions {
  /** Input files, one map task each; map is called with these names as given. */
  readonly files: readonly string[];
  /** Reduce tasks (default 10, the lab's). */
  readonly nReduce?: number;
  /** Where mr-X-Y and mr-out-Y go (default: the current directory). */
  readonly dir?: string;
  /** What relative input paths are relative to (default: the current directory). */
  readonly baseDir?: string;
  /** A task not reported done within this is handed to another worker (default 10 s). */
  readonly taskTimeoutMs?: number;
  /** The job fails once a task has failed this many times (default 3). */
  readonly maxTaskFailures?: number;
  /** How long `requestTask` holds a worker when nothing can be handed out (default 2 s). */
  readonly longPollMs?: number;
  /** Production: transport's `realClock`; tests: a `VirtualClock`. */
  readonly clock?: Clock;
  /** Reassignments and failed attempts are logged here. */
  readonly logger?: Logger;
}

export interface ListenOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (an ephemeral port; read `url`). */
  readonly port?: number;
  /** Workers must present this shared secret. */
  readonly authToken?: string;
  /** Connection-level warnings of the WebSocket server. */
  readonly logger?: Logger;
}

const MAX_TRACKED_WORKERS = 10_000;

/** A report after `close` changes nothing; the worker is told to stop. */
const CLOSED_REPORT_REPLY: ReportReply = { accepted: false, exit: true };

/**
 * The coordinator: hands out map tasks, then reduce tasks, over the `Coordinator` RPC
 * service; hands a task out again when its worker has not finished it in time; knows when the
 * job is over. The bookkeeping is `CoordinatorCore`; this adds the clock (deadline timer,
 * long polls) and the WebSocket server.
 *
 * Lifecycle (docs/DESIGN.md): `create` → `listen` → `close`. `close` is idempotent; from its
 * first call every RPC tells the worker to exit without touching the job, long polls in
 * flight are answered `exit`, `result` rejects with `CoordinatorClosedError` if the job was
 * not over, and it resolves once the timers are cleared and the server and its connections
 * are closed.
 */
export class Coordinator {
  readonly dir: string;
  /** The RPC methods; served by `listen`, or callable directly in tests. */
  readonly service: ServiceMethods;
  /** Settles once the job is done or has failed. */
  readonly result: Promise<JobResult>;
  /** Private: every change must go through a handler, which then runs `#afterChange`. */
  readonly #core: CoordinatorCore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #startedAt: number;
  readonly #longPolls: LongPolls;
  readonly #workers = new Set<string>();
  #resolveResult!: (result: JobResult) => void;
  #rejectResult!: (error: CoordinatorClosedError) => void;
  #endedAt: number | undefined;
  #deadlineTimer: TimerHandle | undefined;
  #deadlineAt: number | undefined;
  /** Set by `listen` before it awaits, so that a `close` meanwhile still closes the server. */
  #listening: Promise<WsServer> | undefined;
  #server: WsServer | undefined;
  #closing: Promise<void> | undefined;

  /** For inputs already checked (`create` checks the files, then calls this). */
  constructor(inputs: readonly MapInput[], options: Omit<CoordinatorOptions, 'files'> = {}) {
    this.#clock = options.clock ?? realClock;
    this.#logger = options.logger ?? silentLogger;
    this.#longPolls = new LongPolls(this.#clock, options.longPollMs ?? 2000);
    this.dir = resolve(options.dir ?? process.cwd());
    this.#core = new CoordinatorCore({
      inputs,
      nReduce: options.nReduce ?? 10,
      taskTimeoutMs: options.taskTimeoutMs ?? 10_000,
      maxTaskFailures: options.maxTaskFailures ?? 3,
    });
    this.#startedAt = this.#clock.now();
    this.result = new Promise((resolve, reject) => {
      this.#resolveResult = resolve;
      this.#rejectResult = reject;
    });
    // Closed before the job is over, `result` rejects: not an unhandled rejection for a
    // caller that never looked at it.
    this.result.catch(() => {});
    this.service = {
      requestTask: validated(isRequestTaskArgs, (args) => this.#requestTask(args)),
      reportDone: validated(isReportDoneArgs, (args) => this.#reportDone(args)),
      reportFailed: validated(isReportFailedArgs, (args) => this.#reportFailed(args)),
    };
  }

  /** Checks the input files, then makes a coordinator for them. */
  static async create(options: CoordinatorOptions): Promise<Coordinator> {
    const inputs = await checkInputs(options.files, options.baseDir ?? process.cwd());
    return new Coordinator(inputs, options);
  }

  /**
   * Serves the `Coordinator` service over WebSocket; resolves with the URL workers dial.
   * Rejects, leaving nothing listening, when the port cannot be bound or `close` was called.
   */
  async listen(options: ListenOptions = {}): Promise<string> {
    if (this.#closing !== undefined) throw new CoordinatorClosedError();
    if (this.#listening !== undefined) throw new Error('Coordinator is already listening');
    const rpcServer = new RpcServer({ logger: options.logger ?? this.#logger, clock: this.#clock });
    rpcServer.addService(COORDINATOR_SERVICE, this.service);
    const listening = WsServer.listen({
      rpcServer,
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      authToken: options.authToken,
      logger: options.logger ?? this.#logger,
      clock: this.#clock,
    });
    this.#listening = listening;
    let server: WsServer;
    try {
      server = await listening;
    } catch (err) {
      this.#listening = undefined;
      throw err;
    }
    // `close` came while binding: it closes this server (it awaits `#listening`).
    if (this.#closing !== undefined) throw new CoordinatorClosedError();
    this.#server = server;
    return server.url;
  }

  get url(): string | undefined {
    return this.#server?.url;
  }

  progress(): ProgressSnapshot {
    const counts = this.#core.counts();
    return {
      ...counts,
      files: this.#core.inputs.length,
      bytes: this.#core.inputs.reduce((sum, input) => sum + input.bytes, 0),
      workersConnected: this.#server?.connectionCount ?? 0,
      workersSeen: this.#workers.size,
      elapsedMs: (this.#endedAt ?? this.#clock.now()) - this.#startedAt,
    };
  }

  /**
   * After the job is over: waits until every worker has hung up (they do once told to exit)
   * or `graceMs` has passed, whichever comes first. A worker busy with a redundant task is
   * told when it reports; one that never reports is not waited for past the grace.
   */
  async drain(graceMs = 2000): Promise<void> {
    const until = this.#clock.now() + graceMs;
    while ((this.#server?.connectionCount ?? 0) > 0 && this.#clock.now() < until) {
      await sleep(this.#clock, 10);
    }
  }

  /**
   * Stops: answers the long polls in flight with "exit", rejects `result` if the job is not
   * over, cancels the timers, and closes the server and every connection. Every call returns
   * the first call's promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Before the first await: the handlers refuse new work from here on.
    this.#clearDeadline();
    this.#longPolls.answerAll(this.#exitReply());
    if (!this.#over()) {
      this.#rejectResult(
        new CoordinatorClosedError('the coordinator was closed before the job was over'),
      );
    }
    const server = await this.#listening?.catch(() => undefined);
    await server?.close();
    this.#server = undefined;
  }

  // ---- RPC handlers ------------------------------------------------------------------------

  #requestTask(args: RequestTaskArgs): TaskReply | Promise<TaskReply> {
    if (this.#closing !== undefined) return this.#exitReply();
    // Only for the summary's worker count; capped so that made-up ids cannot grow it forever.
    if (this.#workers.size < MAX_TRACKED_WORKERS) this.#workers.add(args.workerId);
    const next = this.#next();
    if (next !== undefined) return next;
    return this.#longPolls.hold();
  }

  #reportDone(args: ReportDoneArgs): ReportReply {
    if (this.#closing !== undefined) return CLOSED_REPORT_REPLY;
    const accepted = this.#apply(() =>
      this.#core.complete(args.kind, args.taskId, args.attempt, args.stats),
    );
    if (!accepted && this.#core.phase !== 'failed') {
      this.#logger.info(
        { kind: args.kind, taskId: args.taskId, attempt: args.attempt, worker: args.workerId },
        `${args.kind} task ${args.taskId} attempt ${args.attempt} finished after another attempt had; its output is the same`,
      );
    }
    this.#afterChange();
    return { accepted, exit: this.#over() };
  }

  #reportFailed(args: ReportFailedArgs): ReportReply {
    if (this.#closing !== undefined) return CLOSED_REPORT_REPLY;
    const accepted = this.#apply(() =>
      this.#core.fail(args.kind, args.taskId, args.attempt, args.error, args.workerId),
    );
    if (accepted) {
      const outcome = this.#core.phase === 'failed' ? 'giving up on the job' : 'retrying';
      this.#logger.warn(
        {
          kind: args.kind,
          taskId: args.taskId,
          attempt: args.attempt,
          worker: args.workerId,
          code: args.error.code,
          error: args.error.message,
        },
        `${args.kind} task ${args.taskId} attempt ${args.attempt} failed on worker ${args.workerId}: ${args.error.code}: ${args.error.message}; ${outcome}`,
      );
    }
    this.#afterChange();
    return { accepted, exit: this.#over() };
  }

  /** Runs a core call; a report naming a task never handed out is the caller's bad argument. */
  #apply<T>(call: () => T): T {
    try {
      return call();
    } catch (err) {
      if (err instanceof UnknownTaskError) throw new BadArgumentsError(err.message);
      throw err;
    }
  }

  // ---- scheduling --------------------------------------------------------------------------

  /** A reply for a worker asking now, or undefined when it should wait. */
  #next(): TaskReply | undefined {
    const before = this.#core.counts().reassigned;
    const assignment = this.#core.assign(this.#clock.now());
    this.#logExpired(before);
    if (assignment === 'exit') return this.#exitReply();
    if (assignment === 'wait') return undefined;
    this.#armDeadline();
    return this.#toReply(assignment);
  }

  #toReply(assignment: Assignment): TaskReply {
    if (assignment.kind === 'map') {
      return {
        kind: 'map',
        taskId: assignment.taskId,
        attempt: assignment.attempt,
        filename: assignment.input.filename,
        path: assignment.input.path,
        nReduce: this.#core.nReduce,
        dir: this.dir,
      };
    }
    return {
      kind: 'reduce',
      taskId: assignment.taskId,
      attempt: assignment.attempt,
      nMap: this.#core.inputs.length,
      dir: this.dir,
    };
  }

  #exitReply(): TaskReply {
    return { kind: 'exit', reason: this.#core.phase === 'done' ? 'done' : 'failed' };
  }

  #over(): boolean {
    return this.#core.phase === 'done' || this.#core.phase === 'failed';
  }

  /** Hands newly available tasks (or the news that the job is over) to waiting workers. */
  #afterChange(): void {
    this.#longPolls.serve(() => this.#next());
    this.#armDeadline();
    this.#settleIfOver();
  }

  /** Keeps one timer set for the earliest deadline of a running task. */
  #armDeadline(): void {
    const next = this.#core.nextDeadline();
    if (next === this.#deadlineAt) return;
    this.#clearDeadline();
    if (next === undefined) return;
    this.#deadlineAt = next;
    this.#deadlineTimer = this.#clock.setTimeout(
      () => {
        this.#deadlineTimer = undefined;
        this.#deadlineAt = undefined;
        const before = this.#core.counts().reassigned;
        this.#core.expire(this.#clock.now());
        this.#logExpired(before);
        this.#afterChange();
      },
      Math.max(0, next - this.#clock.now()),
    );
  }

  #clearDeadline(): void {
    if (this.#deadlineTimer !== undefined) this.#clock.clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = undefined;
    this.#deadlineAt = undefined;
  }

  #logExpired(before: number): void {
    const expired = this.#core.counts().reassigned - before;
    if (expired > 0) {
      this.#logger.info(
        { tasks: expired, phase: this.#core.phase, timeoutMs: this.#core.taskTimeoutMs },
        `${expired} ${this.#core.phase} task(s) not finished within ${this.#core.taskTimeoutMs / 1000} s; handing them out again`,
      );
    }
  }

  #settleIfOver(): void {
    if (!this.#over() || this.#endedAt !== undefined) return;
    this.#endedAt = this.#clock.now();
    this.#clearDeadline();
    const summary = summarize(this.progress(), this.#core.nReduce, this.dir);
    const failure = this.#core.failure;
    if (failure === undefined) {
      this.#resolveResult({ ok: true, summary });
      return;
    }
    const error = jobFailedError(failure, this.#core.maxTaskFailures);
    this.#resolveResult({ ok: false, summary, error, failure });
  }
}
