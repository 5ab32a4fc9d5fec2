import { isRecord } from '@flotilla/transport/shape';
import { HistoryError } from '../errors.js';
import type { HistoryEvent, Operation } from '../types.js';

export type HistoryFile =
  | { readonly kind: 'operations'; readonly operations: Operation[] }
  | { readonly kind: 'events'; readonly events: HistoryEvent[] };

/**
 * Reads a history file's JSON: an array of operations or of events, or an object with an
 * `operations` or `events` array (which includes the JSON export, so exports re-check).
 * Events are told apart by their `kind` field.
 */
export function parseHistoryFile(text: string): HistoryFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new HistoryError(`not valid JSON: ${(err as Error).message}`);
  }
  if (isRecord(data)) {
    if (Array.isArray(data.operations)) return { kind: 'operations', operations: data.operations };
    if (Array.isArray(data.events)) return { kind: 'events', events: data.events };
    throw new HistoryError(
      'expected an array, or an object with an "operations" or "events" array',
    );
  }
  if (!Array.isArray(data)) throw new HistoryError('expected an array of operations or events');
  const first: unknown = data[0];
  const isEvent = typeof first === 'object' && first !== null && 'kind' in first;
  return isEvent ? { kind: 'events', events: data } : { kind: 'operations', operations: data };
}
