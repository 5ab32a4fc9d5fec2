import type { KvInput, KvOutput } from './models/kv.js';
import type { Operation } from './types.js';

export interface RecorderOptions {
  /**
   * The clock for call and return times. Default: a logical counter that ticks at every call
   * and return, which orders events exactly as this process saw them (all the checker needs).
   * Pass a virtual or real clock to get meaningful times in visualizations; with a coarse clock
   * ops at the same instant count as concurrent, which is safe.
   */
  now?: () => number;
}

/** Ends an operation begun with `HistoryRecorder.begin`. */
export interface Completion<O> {
  /** Notes the return now, with the output the client got. */
  (output: O): void;
  /** Notes now as the time the client gave up waiting: the outcome stays unknown. */
  giveUp(): void;
}

/**
 * Records a history as clients run. The call time is taken before the operation starts and
 * the return time after it completes, so each recorded interval contains the real one. An
 * operation that never completes has no return; one whose promise rejects (the client gave
 * up) is recorded with `gaveUp`: either way its outcome is unknown.
 */
export class HistoryRecorder<I = unknown, O = unknown> {
  private readonly ops: Operation<I, O>[] = [];
  private readonly now: () => number;
  private tick = 0;

  constructor(options: RecorderOptions = {}) {
    this.now = options.now ?? (() => this.tick++);
  }

  /**
   * Notes a call now; the returned function notes its return with the given output, or its
   * `giveUp()` that the client stopped waiting. Calling neither leaves the operation with an
   * unknown outcome and no end.
   */
  begin(clientId: number, input: I): Completion<O> {
    const op: Operation<I, O> = { clientId, input, call: this.now() };
    this.ops.push(op);
    let done = false;
    const end = (): void => {
      if (done) throw new Error('operation already completed');
      done = true;
    };
    const complete = (output: O): void => {
      end();
      op.return = this.now();
      op.output = output;
    };
    return Object.assign(complete, {
      giveUp: (): void => {
        end();
        op.gaveUp = this.now();
      },
    });
  }

  /**
   * Runs `run` as one operation of `clientId`, recording its call, its return and the output
   * (`toOutput(value)`, or the value itself). A rejection is recorded as the time the client
   * gave up (outcome unknown) and rethrown.
   */
  async record<T>(
    clientId: number,
    input: I,
    run: () => Promise<T>,
    toOutput: (value: T) => O = (value) => value as unknown as O,
  ): Promise<T> {
    const complete = this.begin(clientId, input);
    let value: T;
    try {
      value = await run();
    } catch (err) {
      complete.giveUp();
      throw err;
    }
    complete(toOutput(value));
    return value;
  }

  /** A copy of the history so far; operations still running have no return. */
  operations(): Operation<I, O>[] {
    return this.ops.map((op) => ({ ...op }));
  }

  get size(): number {
    return this.ops.length;
  }
}

/** The clerk shape of the labs: kvsrv's append returns the old value, kvraft's returns nothing. */
export interface KvClerk {
  get(key: string): Promise<string>;
  put(key: string, value: string): Promise<unknown>;
  append(key: string, value: string): Promise<unknown>;
}

export interface RecordKvOptions {
  /** kvsrv (Lab 2): `append` resolves to the old value, which the checker then verifies. */
  appendReturnsOld?: boolean;
}

/**
 * Wraps a clerk so that every call is recorded as a `kvModel` operation of `clientId`. Use one
 * wrapper per clerk; the clerk must not run two operations at once (as in the labs).
 */
export function recordKvClerk<C extends KvClerk>(
  recorder: HistoryRecorder<KvInput, KvOutput>,
  clientId: number,
  clerk: C,
  options: RecordKvOptions = {},
): Pick<C, 'get' | 'put' | 'append'> {
  const wrapped: KvClerk = {
    get: (key) => recorder.record(clientId, { op: 'get', key }, () => clerk.get(key)),
    put: (key, value) =>
      recorder.record(
        clientId,
        { op: 'put', key, value },
        () => clerk.put(key, value),
        () => undefined,
      ),
    append: options.appendReturnsOld
      ? (key, value) =>
          recorder.record(
            clientId,
            { op: 'appendReturnsOld', key, value },
            () => clerk.append(key, value),
            (old) => (typeof old === 'string' ? old : undefined),
          )
      : (key, value) =>
          recorder.record(
            clientId,
            { op: 'append', key, value },
            () => clerk.append(key, value),
            () => undefined,
          ),
  };
  return wrapped as Pick<C, 'get' | 'put' | 'append'>;
}
