/**
 * The load of kvsrv-bench.ts: keys and values, the clerks of one cell, and the closed loop.
 * Runs in the bench's own process, against a server in another.
 */
import { performance } from 'node:perf_hooks';
import { encode, WsClient } from '@flotilla/transport';
import { Clerk, connectClerk, frameBytesFor } from '../src/index.js';
import { SERVICE } from '../src/protocol.js';
import type { Cell, Op } from './report.js';

export const KEY_BYTES = 16;
export const VALUE_BYTES = 128;

/** The floor's value (ws-echo.mjs --payload 128 sends 'v' × 128). */
export const value = 'v'.repeat(VALUE_BYTES);

/** `k` and 15 digits: 16 bytes, as ws-echo.mjs's keys. */
export function makeKeys(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `k${String(i).padStart(KEY_BYTES - 1, '0')}`);
}

/** A small deterministic (xorshift32) picker of keys, one per clerk. */
function keyPicker(keys: readonly string[], seed: number): () => string {
  let x = (Math.imul(seed, 0x9e3779b1) + 1) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return keys[x % keys.length] as string;
  };
}

/** Puts `value` under every key (so Gets read 128 bytes), then checks one. */
export async function preload(
  url: string,
  authToken: string,
  keys: readonly string[],
): Promise<void> {
  const loader = connectClerk(url, { authToken });
  try {
    for (const key of keys) await loader.put(key, value);
    if ((await loader.get(keys[keys.length - 1] as string)) !== value)
      throw new Error('sanity check: get did not return the value put');
  } finally {
    await loader.close();
  }
}

/**
 * The clerks of one cell, connected and warm: `own` gives each its own WebSocket
 * (connectClerk), `shared` puts all of them on one WsClient built as connectClerk builds it.
 */
export async function openClerks(
  url: string,
  authToken: string,
  cell: Cell,
  firstKey: string,
): Promise<{ clerks: Clerk[]; close: () => Promise<void> }> {
  let clerks: Clerk[];
  let close: () => Promise<void>;
  if (cell.connections === 'own') {
    clerks = Array.from({ length: cell.clerks }, () => connectClerk(url, { authToken }));
    close = async () => {
      await Promise.all(clerks.map((c) => c.close()));
    };
  } else {
    const client = new WsClient({
      url,
      authToken,
      maxFrameBytes: frameBytesFor({}),
      callTimeoutMs: 5000,
    });
    clerks = Array.from({ length: cell.clerks }, () => new Clerk(client));
    close = async () => {
      await Promise.all(clerks.map((c) => c.close()));
      await client.close();
    };
  }
  await Promise.all(clerks.map((c) => c.get(firstKey)));
  return { clerks, close };
}

/**
 * Closed loop: each clerk does `op` on a random key, one at a time, until `ms` is up (the
 * operation in flight at the deadline is waited for and counted). Latencies in ms go into
 * `lat` when given; returns the failures (a refusal, or a Get not answering 128 bytes).
 */
export async function closedLoop(
  clerks: readonly Clerk[],
  keys: readonly string[],
  op: Op,
  ms: number,
  lat: number[] | undefined,
): Promise<number> {
  const deadline = performance.now() + ms;
  let failures = 0;
  await Promise.all(
    clerks.map(async (clerk, i) => {
      const pick = keyPicker(keys, i + 1);
      while (performance.now() < deadline) {
        const key = pick();
        const t0 = performance.now();
        try {
          if (op === 'put') await clerk.put(key, value);
          else if ((await clerk.get(key)).length !== VALUE_BYTES) failures++;
        } catch {
          failures++;
        }
        lat?.push(performance.now() - t0);
      }
    }),
  );
  return failures;
}

/** The frames one operation puts on the wire (as WsClient and WsServer encode them). */
export function frameBytes(op: Op, key: string): { req: number; reply: number } {
  const id = 100_000;
  const clientId = 2 ** 52 + 12345;
  return op === 'put'
    ? {
        req: encode([2, id, `${SERVICE}.Put`, { key, value, clientId, seq: id }]).length,
        reply: encode([3, id, {}]).length,
      }
    : {
        req: encode([2, id, `${SERVICE}.Get`, { key }]).length,
        reply: encode([3, id, { value }]).length,
      };
}
