import type { Sim } from '@flotilla/transport';
import type { Clerk } from '../../src/index.js';
import { KvConfig, MiB } from './harness.js';
import {
  describeGrowth,
  growth,
  type MemoryGrowth,
  type MemoryReading,
  readBaseline,
  readMemory,
  runGc,
} from './memory.js';

/*
 * The lab's memory tests. The lab reads the whole Go heap after `runtime.GC()`; a Node process
 * starts with tens of MB of its own, so (the spec's porting note) each test holds the GROWTH
 * of live memory against the lab's limit: the baseline is read after forced GC just before
 * the first operation (after the clerks exist, for the many-clients tests), the final reading
 * after forced GC at the lab's point (see memory.ts for how GC is forced and readings settle).
 * What counts: growth of the live V8 heap (where the server's strings and maps live) plus
 * growth of off-heap memory (buffers, the wire codec's included: after a message over 256 KiB
 * it gives back msgpackr's grown encode buffer and the decoder's last strings).
 *
 * Large values are made inside small helpers and never held by the test after the call, so
 * only the server's copies (and whatever the clerk or network keep) can show.
 */

/** ck Puts `key` = a new random value of n characters. */
async function putRandom(cfg: KvConfig, ck: Clerk, key: string, n: number): Promise<void> {
  await ck.put(key, cfg.randValue(n));
}

/** ck Appends a new random value of n characters to `key`; resolves to the old value's length. */
async function appendRandom(cfg: KvConfig, ck: Clerk, key: string, n: number): Promise<number> {
  return (await ck.append(key, cfg.randValue(n))).length;
}

/** ck Appends `value` to `key`, dropping the old value it answers. */
async function appendDropping(ck: Clerk, key: string, value: string): Promise<void> {
  await ck.append(key, value);
}

async function getLength(ck: Clerk, key: string): Promise<number> {
  return (await ck.get(key)).length;
}

/** The baseline reading (the event-loop turns between GCs are 0 ms virtual sleeps). */
function baseline(sim: Sim): Promise<MemoryReading> {
  return readBaseline(() => sim.sleep(0));
}

/** The final reading. */
function measure(sim: Sim): Promise<MemoryReading> {
  return readMemory(() => sim.sleep(0));
}

/** Logs the growth and returns it. */
function report(label: string, g: MemoryGrowth, perClient?: number): MemoryGrowth {
  console.log(describeGrowth(label, g, perClient));
  return g;
}

/** MemGet2: Gets of a 10 MiB value leave nothing behind: floored growth in MiB < 10. */
export async function memGet(sim: Sim): Promise<void> {
  const MEM = 10; // in MiB

  const cfg = new KvConfig(sim, true);

  const ck0 = cfg.makeClient();
  const ck1 = cfg.makeClient();

  cfg.begin('Test: memory use get');

  const m0 = await baseline(sim);

  await putRandom(cfg, ck0, 'k', MiB * MEM);

  let n = await getLength(ck0, 'k');
  if (n !== MiB * MEM) cfg.fatal(`error: incorrect len ${n}`);
  n = await getLength(ck1, 'k');
  if (n !== MiB * MEM) cfg.fatal(`error: incorrect len ${n}`);

  await ck0.put('k', '0');

  runGc();
  const g = report('TestMemGet2', growth(m0, await measure(sim)));
  const m = Math.floor(g.counted / MiB);
  if (m >= MEM) cfg.fatal(`error: server using too much memory ${m}`);

  cfg.end();
}

/** MemPut2: a 10 MiB value overwritten by "" leaves nothing behind: floored growth in MiB < 10. */
export async function memPut(sim: Sim): Promise<void> {
  const MEM = 10; // in MiB

  const cfg = new KvConfig(sim, false);

  cfg.begin('Test: memory use put');

  const ck0 = cfg.makeClient();
  const ck1 = cfg.makeClient();

  const m0 = await baseline(sim);

  await putRandom(cfg, ck0, 'k', MiB * MEM);
  await ck1.put('k', '');

  runGc();
  const g = report('TestMemPut2', growth(m0, await measure(sim)));
  const m = Math.floor(g.counted / MiB);
  if (m >= MEM) cfg.fatal(`error: server using too much memory ${m}`);

  cfg.end();
}

/**
 * MemAppend2: two 10 MiB Appends by two clerks (the value is 20 MiB, the second Append's
 * cached reply the first 10 MiB): floored growth in MiB ≤ 30.
 */
export async function memAppend(sim: Sim): Promise<void> {
  const MEM = 10; // in MiB

  const cfg = new KvConfig(sim, false);

  cfg.begin('Test: memory use append');

  const ck0 = cfg.makeClient();
  const ck1 = cfg.makeClient();

  const m0 = await baseline(sim);

  await appendRandom(cfg, ck0, 'k', MiB * MEM);
  await appendRandom(cfg, ck1, 'k', MiB * MEM);

  runGc();
  const g = report('TestMemAppend2', growth(m0, await measure(sim)));
  const m = Math.floor(g.counted / MiB);
  if (m > 3 * MEM) cfg.fatal(`error: server using too much memory ${m}`);

  cfg.end();
}

/** MemPutManyClients: 100,000 clerks Put once each: growth ≤ 100,000 × 200 bytes. */
export async function memPutManyClients(sim: Sim): Promise<void> {
  const NCLIENT = 100_000;
  const MEM = 1000;

  const cfg = new KvConfig(sim, false);
  const v = cfg.randValue(MEM);

  const cks = Array.from({ length: NCLIENT }, () => cfg.makeClient());

  // allow threads started by labrpc to start
  await cfg.sleep(1000);

  cfg.begin('Test: memory use many put clients');

  runGc();
  runGc();
  const m0 = await baseline(sim);

  for (let i = 0; i < NCLIENT; i++) await (cks[i] as Clerk).put('k', v);

  runGc();
  await cfg.sleep(1000);
  runGc();

  const g = report('TestMemPutManyClients', growth(m0, await measure(sim)), NCLIENT);
  if (g.counted > NCLIENT * 200) {
    cfg.fatal(
      `error: server using too much memory ${g.counted} (${(g.counted / NCLIENT).toFixed(2)} per client)`,
    );
  }

  for (const ck of cks) cfg.deleteClient(ck);

  cfg.end();
}

/** MemGetManyClients: 100,000 clerks Get once each: growth < 100,000 × 10 bytes. */
export async function memGetManyClients(sim: Sim): Promise<void> {
  const NCLIENT = 100_000;

  const cfg = new KvConfig(sim, false);
  cfg.begin('Test: memory use many get client');

  const ck = cfg.makeClient();
  await ck.put('0', '');
  cfg.deleteClient(ck);

  const cks = Array.from({ length: NCLIENT }, () => cfg.makeClient());

  // allow threads started by labrpc to start
  await cfg.sleep(1000);

  runGc();
  runGc();
  const m0 = await baseline(sim);

  for (let i = 0; i < NCLIENT; i++) await (cks[i] as Clerk).get('0');

  runGc();
  await cfg.sleep(1000);
  runGc();

  const g = report('TestMemGetManyClients', growth(m0, await measure(sim)), NCLIENT);
  if (g.counted >= NCLIENT * 10) {
    cfg.fatal(
      `error: server using too much memory ${g.counted} (${(g.counted / NCLIENT).toFixed(2)} per client)`,
    );
  }

  for (const c of cks) cfg.deleteClient(c);

  cfg.end();
}

/**
 * MemManyAppends: 1,000 Appends of the same 1,000-character value (final value 1,000,000
 * characters): growth < 3 × 1,000 × 1,000 bytes, so the server keeps no history of old values.
 */
export async function memManyAppends(sim: Sim): Promise<void> {
  const N = 1000;
  const MEM = 1000;

  const cfg = new KvConfig(sim, false);

  cfg.begin('Test: memory use many appends');

  const ck = cfg.makeClient();
  const rdVal = cfg.randValue(MEM);

  runGc();
  runGc();
  const m0 = await baseline(sim);

  for (let i = 0; i < N; i++) await appendDropping(ck, 'k', rdVal);

  runGc();
  await cfg.sleep(1000);
  runGc();

  const m1 = await measure(sim);
  const g = report('TestMemManyAppends', growth(m0, m1));
  if (g.counted >= 3 * MEM * N) {
    cfg.fatal(
      `error: server using too much memory: growth ${g.counted} (m0 ${m0.heapUsed} m1 ${m1.heapUsed})`,
    );
  }

  console.log(`m0 ${m0.heapUsed} m1 ${m1.heapUsed}`);

  cfg.end();
}
