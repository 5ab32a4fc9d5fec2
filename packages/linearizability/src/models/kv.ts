import type { Model } from '../types.js';
import { describeDifference, quote } from './describe.js';
import { KvState } from './kv-state.js';

/**
 * A key/value operation, as the MIT 6.5840 labs record them:
 * - `get` → the value (`""` for a missing key);
 * - `put` replaces the value and returns nothing;
 * - `append` (kvraft, shardkv: Labs 4–5) appends and returns nothing;
 * - `appendReturnsOld` (kvsrv: Lab 2, 2024) appends and returns the value before the append.
 */
export type KvInput =
  | { readonly op: 'get'; readonly key: string }
  | {
      readonly op: 'put' | 'append' | 'appendReturnsOld';
      readonly key: string;
      readonly value: string;
    };

/** The value returned by `get` and `appendReturnsOld`; `undefined` for `put`, `append`, or unknown. */
export type KvOutput = string | undefined;

const OPS = new Set(['get', 'put', 'append', 'appendReturnsOld']);

/**
 * The lab's KV model (Porcupine's `kvModel` in the lab tests), partitioned by key: the state of
 * one key is a string, initially `""` (held in a `KvState`, whose `value` is that string). A get, or an append-with-return, is legal iff its
 * output equals the state; with an unknown outcome anything is accepted and a put or append
 * takes effect (or, by being linearized last, never does).
 */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: 'kv',
  init: () => KvState.empty(),
  step(state, input, output) {
    switch (input.op) {
      case 'get':
        return { ok: output === undefined || output === state.value, state };
      case 'put':
        return { ok: true, state: state.put(input.value) };
      case 'append':
        return { ok: true, state: state.append(input.value) };
      case 'appendReturnsOld':
        return {
          ok: output === undefined || output === state.value,
          state: state.append(input.value),
        };
      default: {
        const unreachable: never = input;
        throw new TypeError(`not a kv input: ${JSON.stringify(unreachable)}`);
      }
    }
  },
  readOnly: (input) => input.op === 'get',
  // Without a put, a key's value only grows, so a get or append-with-return can still become
  // legal only if the value so far is a prefix of what it saw.
  lookahead: {
    resets: (input) => input.op === 'put',
    observes: (input, output) =>
      output !== undefined && (input.op === 'get' || input.op === 'appendReturnsOld'),
    mayReach: (state, _input, output) => output === undefined || output.startsWith(state.value),
  },
  partitionKey: (input) => input.key,
  validate(input, output, pending) {
    if (typeof input !== 'object' || input === null) return 'a kv input must be an object';
    const { op, key, value } = input as { op?: unknown; key?: unknown; value?: unknown };
    if (typeof op !== 'string' || !OPS.has(op)) {
      return `kv op must be one of get, put, append, appendReturnsOld, got ${JSON.stringify(op)}`;
    }
    if (typeof key !== 'string') return `kv ${op} needs a string key`;
    if (op !== 'get' && typeof value !== 'string') return `kv ${op} needs a string value`;
    const returnsValue = op === 'get' || op === 'appendReturnsOld';
    if (!pending && returnsValue && typeof output !== 'string') {
      return `kv ${op} returned ${output === undefined ? 'nothing' : JSON.stringify(output)}, expected a string`;
    }
    return undefined;
  },
  describeOperation(input, output) {
    const key = JSON.stringify(input.key);
    switch (input.op) {
      case 'get':
        return `get(${key}) → ${quote(output)}`;
      case 'put':
        return `put(${key}, ${quote(input.value)})`;
      case 'append':
        return `append(${key}, ${quote(input.value)})`;
      case 'appendReturnsOld':
        return `append(${key}, ${quote(input.value)}) → ${quote(output)}`;
      default: {
        const unreachable: never = input;
        throw new TypeError(`not a kv input: ${JSON.stringify(unreachable)}`);
      }
    }
  },
  describeState: (state) => quote(state.value, 200),
  describeMismatch: (state, _input, output) =>
    output === undefined ? undefined : describeDifference(state.value, output),
};
