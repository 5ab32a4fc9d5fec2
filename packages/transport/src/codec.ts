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

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
