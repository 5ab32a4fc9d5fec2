// Bundled into dist at build time (it imports nothing): no runtime dependency on the transport.
import { isNonNegativeInteger, isRecord } from '@flotilla/transport/shape';
import { HistoryError } from './errors.js';
import type { HistoryEvent, HistoryOperation, Model, Operation } from './types.js';

function checkClientId(clientId: unknown, index: number): number {
  if (!isNonNegativeInteger(clientId)) {
    throw new HistoryError(
      `clientId must be a non-negative integer, got ${String(clientId)}`,
      index,
    );
  }
  return clientId;
}

function checkInput<S, I, O>(
  model: Model<S, I, O>,
  op: { input: unknown; output: unknown; pending: boolean },
  index: number,
): void {
  const problem = model.validate?.(op.input, op.output, op.pending);
  if (problem !== undefined) throw new HistoryError(problem, index);
}

/**
 * Validates an operation list and fills in the unknown-outcome convention: no return (or
 * `null` / `Infinity`, or a `gaveUp` time) becomes `return: Infinity, pending: true`.
 */
export function operationsToHistory<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
): HistoryOperation<I, O>[] {
  if (!Array.isArray(operations)) throw new HistoryError('a history must be an array');
  const history: HistoryOperation<I, O>[] = [];
  for (let index = 0; index < operations.length; index++) {
    const op: unknown = operations[index];
    if (!isRecord(op)) throw new HistoryError('an operation must be an object', index);
    const clientId = checkClientId(op.clientId, index);
    if (!('input' in op)) throw new HistoryError('operation has no input', index);
    const call = op.call;
    if (typeof call !== 'number' || !Number.isFinite(call)) {
      throw new HistoryError(`call must be a finite number, got ${String(call)}`, index);
    }
    const ret = op.return;
    const pending = ret === undefined || ret === null || ret === Number.POSITIVE_INFINITY;
    const gaveUp = op.gaveUp;
    if (gaveUp !== undefined) {
      if (!pending)
        throw new HistoryError('an operation cannot have both a return and gaveUp', index);
      if (typeof gaveUp !== 'number' || !Number.isFinite(gaveUp)) {
        throw new HistoryError(`gaveUp must be a finite number, got ${String(gaveUp)}`, index);
      }
      if (gaveUp < call) {
        throw new HistoryError(`gives up (${gaveUp}) before it is called (${call})`, index);
      }
    }
    if (!pending && (typeof ret !== 'number' || Number.isNaN(ret))) {
      throw new HistoryError(`return must be a number, null or absent, got ${String(ret)}`, index);
    }
    if (!pending && (ret as number) < call) {
      throw new HistoryError(`returns (${String(ret)}) before it is called (${call})`, index);
    }
    if (pending && op.output !== undefined && op.output !== null) {
      throw new HistoryError(
        `an operation with ${gaveUp === undefined ? 'no return' : 'gaveUp'} cannot have an output`,
        index,
      );
    }
    const output = pending ? undefined : (op.output as O | undefined);
    checkInput(model, { input: op.input, output, pending }, index);
    history.push({
      index,
      clientId,
      input: op.input as I,
      output,
      call,
      return: pending ? Number.POSITIVE_INFINITY : (ret as number),
      pending,
      // Always present, so every operation has one object shape.
      gaveUp: gaveUp as number | undefined,
    });
  }
  return history;
}

/**
 * Converts an event list (calls and returns in real-time order) to operations whose times are
 * event positions. Operations are numbered in the order of their call events; a call without
 * a return, or ended by a gave-up event, has an unknown outcome. Event ids may be reused once
 * the earlier operation returned or was given up.
 */
export function eventsToHistory<S, I, O>(
  model: Model<S, I, O>,
  events: readonly HistoryEvent<I, O>[],
): HistoryOperation<I, O>[] {
  if (!Array.isArray(events)) throw new HistoryError('a history must be an array');
  interface Open {
    index: number;
    clientId: number;
    input: I;
    call: number;
  }
  const open = new Map<number | string, Open>();
  const done: (HistoryOperation<I, O> | undefined)[] = [];
  const calls: Open[] = [];
  for (let position = 0; position < events.length; position++) {
    const ev: unknown = events[position];
    if (!isRecord(ev)) throw new HistoryError('an event must be an object', position);
    const id = ev.id;
    if (typeof id !== 'number' && typeof id !== 'string') {
      throw new HistoryError('event id must be a number or a string', position);
    }
    if (ev.kind === 'call') {
      if (open.has(id))
        throw new HistoryError(`call ${JSON.stringify(id)} is already open`, position);
      if (!('input' in ev)) throw new HistoryError('call event has no input', position);
      const call: Open = {
        index: calls.length,
        clientId: checkClientId(ev.clientId, position),
        input: ev.input as I,
        call: position,
      };
      open.set(id, call);
      calls.push(call);
      done.push(undefined);
    } else if (ev.kind === 'return' || ev.kind === 'gave-up') {
      const call = open.get(id);
      if (call === undefined) {
        throw new HistoryError(`${ev.kind} ${JSON.stringify(id)} has no open call`, position);
      }
      open.delete(id);
      if (ev.kind === 'gave-up') {
        if ('output' in ev && ev.output !== undefined) {
          throw new HistoryError('a gave-up event cannot have an output', position);
        }
        checkInput(model, { input: call.input, output: undefined, pending: true }, position);
        done[call.index] = {
          ...call,
          output: undefined,
          return: Number.POSITIVE_INFINITY,
          pending: true,
          gaveUp: position,
        };
      } else {
        const output = ev.output as O | undefined;
        checkInput(model, { input: call.input, output, pending: false }, position);
        done[call.index] = { ...call, output, return: position, pending: false };
      }
    } else {
      throw new HistoryError(`event kind must be "call", "return" or "gave-up"`, position);
    }
  }
  return calls.map((call, i) => {
    const op = done[i];
    if (op !== undefined) return op;
    checkInput(model, { input: call.input, output: undefined, pending: true }, call.call);
    return { ...call, output: undefined, return: Number.POSITIVE_INFINITY, pending: true };
  });
}
