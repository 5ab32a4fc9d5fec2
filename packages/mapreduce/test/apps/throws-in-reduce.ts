// Not a lab app: reduce throws on one key every time.
import * as wc from '../../src/apps/wc.js';

export const map = wc.map;

export function reduce(key: string, values: string[]): string {
  if (key === 'Sherlock') throw new TypeError('cannot count Sherlock');
  return wc.reduce(key, values);
}
