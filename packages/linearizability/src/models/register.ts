import type { Model } from '../types.js';
import { quote } from './describe.js';

/** A register value: compared with `Object.is`. */
export type RegisterValue = string | number | boolean | null;

export type RegisterInput<V extends RegisterValue = number> =
  | { readonly op: 'read' }
  | { readonly op: 'write'; readonly value: V };

/** A read returns the value; a write returns nothing. */
export type RegisterOutput<V extends RegisterValue = number> = V | undefined;

/** Checks `{ op: 'read' }` / `{ op: 'write', value }` shapes; shared with the CAS register. */
export function validateRegisterOp(
  input: unknown,
  output: unknown,
  pending: boolean,
  extraOps: readonly string[] = [],
): string | undefined {
  if (typeof input !== 'object' || input === null) return 'a register input must be an object';
  const { op } = input as { op?: unknown };
  const known = ['read', 'write', ...extraOps];
  if (typeof op !== 'string' || !known.includes(op)) {
    return `register op must be one of ${known.join(', ')}, got ${JSON.stringify(op)}`;
  }
  if (op === 'write' && !isValue((input as { value?: unknown }).value)) {
    return 'register write needs a value (string, number, boolean or null)';
  }
  if (op === 'read' && !pending && !isValue(output)) {
    return `register read returned ${output === undefined ? 'nothing' : JSON.stringify(output)}`;
  }
  return undefined;
}

export function isValue(v: unknown): v is RegisterValue {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** A read/write register holding `initial` at first (default 0). Not partitioned. */
export function registerModel<V extends RegisterValue = number>(
  initial: V = 0 as V,
): Model<V, RegisterInput<V>, RegisterOutput<V>> {
  return {
    name: 'register',
    init: () => initial,
    step(state, input, output) {
      if (input.op === 'write') return { ok: true, state: input.value };
      return { ok: output === undefined || Object.is(output, state), state };
    },
    readOnly: (input) => input.op === 'read',
    validate: (input, output, pending) => validateRegisterOp(input, output, pending),
    describeOperation: (input, output) =>
      input.op === 'write' ? `write(${quote(input.value)})` : `read() → ${quote(output)}`,
    describeState: (state) => quote(state, 200),
  };
}
