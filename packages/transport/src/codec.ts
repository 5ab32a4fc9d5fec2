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

/**
 * msgpackr encodes into one module-wide buffer that grows to fit the largest message (to ~6×
 * its size: 60 MiB after a 10 MiB string) and keeps that size; its native decoder holds the
 * strings of the last message decoded until the next decode. After a message this large, give
 * both back, so that one big value does not pin memory for the life of the process.
 */
const LARGE_MESSAGE_BYTES = 256 * 1024;
const SMALL_BUFFER_BYTES = 64 * 1024;
/** msgpack nil; a constant, not `packr.pack(null)`, which is a view of the reusable buffer. */
const EMPTY_MESSAGE = Buffer.from([0xc0]);

export function encode(value: unknown): Buffer {
  try {
    const bytes = packr.pack(value);
    if (bytes.length <= LARGE_MESSAGE_BYTES) return bytes;
    // A copy of exactly the message's size, so the big buffer is garbage at once.
    const exact = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(exact);
    packr.useBuffer(Buffer.allocUnsafeSlow(SMALL_BUFFER_BYTES));
    return exact;
  } catch (err) {
    if (err instanceof CodecError) throw err;
    const reason = err instanceof RangeError ? 'value is too deep or cyclic' : errorMessage(err);
    throw new CodecError(`cannot encode value: ${reason}`, { cause: err });
  }
}

export function decode(bytes: Uint8Array): unknown {
  try {
    const value = packr.unpack(bytes);
    if (bytes.length > LARGE_MESSAGE_BYTES) packr.unpack(EMPTY_MESSAGE);
    return value;
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
