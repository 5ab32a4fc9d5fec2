import { Packr } from 'msgpackr';

/** msgpack with plain maps, as on the wire; used for persisted state and its sizes. */
const packr = new Packr({ useRecords: false });

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
