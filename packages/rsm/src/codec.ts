import { Packr } from 'msgpackr';

/** msgpack with plain maps, as raft persists its log and the transport sends its messages. */
const packr = new Packr({ useRecords: false });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

export function decode(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}
