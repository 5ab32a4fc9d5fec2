import { Packr } from 'msgpackr';
import { CodecError } from './errors.js';

/**
 * The one msgpack codec used on the wire and in the simulated network.
 *
 * Plain maps (no msgpackr records) keep frames interoperable with any msgpack implementation.
 * msgpackr silently encodes functions as `undefined`; `writeFunction` makes that fail
 * instead, so a value that cannot cross a real wire cannot cross the simulated one either.
 */
const packr = new Packr({
  useRecords: false,
  // Never decode msgpackr's reference extensions: a peer could send a cyclic value, or a small
  // DAG that explodes when walked or re-encoded.
  structuredClone: false,
  writeFunction: () => {
    throw new CodecError('cannot encode a function');
  },
});

export function encode(value: unknown): Buffer {
  try {
    return packr.pack(value);
  } catch (err) {
    if (err instanceof CodecError) throw err;
    const reason = err instanceof RangeError ? 'value is too deep or cyclic' : errorMessage(err);
    throw new CodecError(`cannot encode value: ${reason}`, { cause: err });
  }
}

export function decode(bytes: Uint8Array): unknown {
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new CodecError(`cannot decode frame: ${errorMessage(err)}`, { cause: err });
  }
}

/** A message for anything thrown; never throws itself. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && typeof err.message === 'string') return err.message;
  return describe(err);
}

/**
 * A short, safe description of an untrusted value for logs and error frames. `String(v)`
 * is not safe: a decoded map with a non-callable `toString` makes it throw.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}…` : value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${value}`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}
