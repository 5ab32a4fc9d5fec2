import type { Model } from '../types.js';
import { quote } from './describe.js';
import { isValue, type RegisterValue, validateRegisterOp } from './register.js';

export type CasRegisterInput<V extends RegisterValue = number> =
  | { readonly op: 'read' }
  | { readonly op: 'write'; readonly value: V }
  | { readonly op: 'cas'; readonly from: V; readonly to: V };

/** read → the value; write → nothing; cas → whether it swapped; `undefined` when unknown. */
export type CasRegisterOutput<V extends RegisterValue = number> = V | boolean | undefined;

/**
 * A compare-and-set register (as Jepsen's and Porcupine's etcd model). A cas whose outcome is
 * unknown swaps if the state matches; "it failed" or "it never ran" is covered by linearizing it
 * after everything else.
 */
export function casRegisterModel<V extends RegisterValue = number>(
  initial: V = 0 as V,
): Model<V, CasRegisterInput<V>, CasRegisterOutput<V>> {
  return {
    name: 'cas-register',
    init: () => initial,
    step(state, input, output) {
      switch (input.op) {
        case 'write':
          return { ok: true, state: input.value };
        case 'read':
          return { ok: output === undefined || Object.is(output, state), state };
        case 'cas': {
          const matches = Object.is(state, input.from);
          const ok = output === undefined || output === matches;
          return { ok, state: matches ? input.to : state };
        }
        default: {
          const unreachable: never = input;
          throw new TypeError(`not a cas-register input: ${JSON.stringify(unreachable)}`);
        }
      }
    },
    // A cas that failed changed nothing wherever it was legal.
    readOnly: (input, output) => input.op === 'read' || (input.op === 'cas' && output === false),
    validate(input, output, pending) {
      const problem = validateRegisterOp(input, output, pending, ['cas']);
      if (problem !== undefined || (input as { op: string }).op !== 'cas') return problem;
      const { from, to } = input as { from?: unknown; to?: unknown };
      if (!isValue(from) || !isValue(to)) return 'cas needs from and to values';
      if (!pending && typeof output !== 'boolean') return 'cas must return true or false';
      return undefined;
    },
    describeOperation(input, output) {
      switch (input.op) {
        case 'write':
          return `write(${quote(input.value)})`;
        case 'read':
          return `read() → ${quote(output)}`;
        case 'cas':
          return `cas(${quote(input.from)}, ${quote(input.to)}) → ${quote(output)}`;
        default: {
          const unreachable: never = input;
          throw new TypeError(`not a cas-register input: ${JSON.stringify(unreachable)}`);
        }
      }
    },
    describeState: (state) => quote(state, 200),
  };
}
