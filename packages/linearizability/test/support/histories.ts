/**
 * History generators for tests and benchmarks: clients run operations back to back against a
 * sequential model, each operation taking effect at a point inside its [call, return]
 * interval, so every generated history is linearizable by construction (the points, in order,
 * are a linearization). Overlaps come from the random durations.
 */
import type {
  CasRegisterInput,
  CasRegisterOutput,
  KvInput,
  KvOutput,
  Operation,
  RegisterInput,
  RegisterOutput,
} from '../../src/index.js';

/** One operation to generate; times are in abstract units. */
export interface OpSpec {
  readonly client: number;
  /** 0..1: picks the operation kind via `kinds`. */
  readonly kind: number;
  readonly key: number;
  /** Idle time before the call. */
  readonly think: number;
  /** return - call, ≥ 1. */
  readonly duration: number;
  /** 0..1: where in [call, return] the operation takes effect. */
  readonly at: number;
  /** 'applied': no reply, but it took effect; 'lost': no reply and no effect. */
  readonly fate: 'done' | 'applied' | 'lost';
}

/** mulberry32: a tiny seeded PRNG, floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomSpecOptions {
  clients: number;
  opsPerClient: number;
  keys: number;
  /** Fraction of operations with no reply (half of them take effect). Default 0. */
  pendingRate?: number;
  /** Longest operation, in units (min 1). Default 20. */
  maxDuration?: number;
  /** Shortest operation. Default 1. */
  minDuration?: number;
  /**
   * Where operations take effect inside their interval: uniform in [effectFrom, 1] of it.
   * Default 0 (anywhere). Servers that apply and then reply put it near the end.
   */
  effectFrom?: number;
  /** Longest idle time between a client's operations. Default 3. */
  maxThink?: number;
}

export function randomSpecs(seed: number, o: RandomSpecOptions): OpSpec[] {
  const rand = prng(seed);
  const specs: OpSpec[] = [];
  const minDuration = Math.max(1, o.minDuration ?? 1);
  const effectFrom = o.effectFrom ?? 0;
  for (let client = 0; client < o.clients; client++) {
    for (let i = 0; i < o.opsPerClient; i++) {
      const p = rand();
      const pending = p < (o.pendingRate ?? 0);
      specs.push({
        client,
        kind: rand(),
        key: Math.floor(rand() * o.keys),
        think: Math.floor(rand() * ((o.maxThink ?? 3) + 1)),
        duration: minDuration + Math.floor(rand() * ((o.maxDuration ?? 20) - minDuration + 1)),
        at: effectFrom + rand() * (1 - effectFrom),
        fate: pending ? (p < (o.pendingRate ?? 0) / 2 ? 'applied' : 'lost') : 'done',
      });
    }
  }
  return specs;
}

interface Placed {
  readonly spec: OpSpec;
  readonly seq: number;
  readonly call: number;
  readonly return: number;
  readonly point: number;
}

/** Lays specs out on per-client time lines; returns them in effect order. */
function place(specs: readonly OpSpec[]): Placed[] {
  const cursor = new Map<number, number>();
  const placed = specs.map((spec, seq) => {
    const call = (cursor.get(spec.client) ?? 0) + spec.think;
    const ret = call + Math.max(1, spec.duration);
    cursor.set(spec.client, ret + 1);
    return { spec, seq, call, return: ret, point: call + spec.at * (ret - call) };
  });
  return placed.sort((a, b) => a.point - b.point || a.seq - b.seq);
}

function finish<I, O>(
  p: Placed,
  input: I,
  output: O | undefined,
): Operation<I, O> & { seq: number } {
  const op: Operation<I, O> & { seq: number } = {
    seq: p.seq,
    clientId: p.spec.client,
    input,
    call: p.call,
  };
  if (p.spec.fate === 'done') {
    op.return = p.return;
    op.output = output;
  }
  return op;
}

function bySeq<I, O>(ops: (Operation<I, O> & { seq: number })[]): Operation<I, O>[] {
  return ops.sort((a, b) => a.seq - b.seq).map(({ seq: _, ...op }) => op);
}

export interface KvSpecOptions {
  /** kvsrv's append (returns the old value) instead of kvraft's. */
  appendReturnsOld?: boolean;
  /** Fractions of get and put; the rest are appends. Default 0.45 / 0.05 (the lab's random-keys mix). */
  get?: number;
  put?: number;
}

/** A linearizable KV history (values as the lab's: "x <client> <n> y"). */
export function kvHistory(
  specs: readonly OpSpec[],
  o: KvSpecOptions = {},
): Operation<KvInput, KvOutput>[] {
  const state = new Map<string, string>();
  const counter = new Map<number, number>();
  const out: (Operation<KvInput, KvOutput> & { seq: number })[] = [];
  for (const p of place(specs)) {
    const key = String(p.spec.key);
    const old = state.get(key) ?? '';
    const n = counter.get(p.spec.client) ?? 0;
    counter.set(p.spec.client, n + 1);
    const value = `x ${p.spec.client} ${n} y`;
    const applies = p.spec.fate !== 'lost';
    if (p.spec.kind < (o.get ?? 0.45)) {
      out.push(finish(p, { op: 'get', key }, old));
    } else if (p.spec.kind < (o.get ?? 0.45) + (o.put ?? 0.05)) {
      if (applies) state.set(key, value);
      out.push(finish(p, { op: 'put', key, value }, undefined));
    } else {
      if (applies) state.set(key, old + value);
      const op = o.appendReturnsOld ? 'appendReturnsOld' : 'append';
      out.push(finish(p, { op, key, value }, o.appendReturnsOld ? old : undefined));
    }
  }
  return bySeq(out);
}

/** A linearizable register history; writes write distinct positive values; initial 0. */
export function registerHistory(
  specs: readonly OpSpec[],
): Operation<RegisterInput, RegisterOutput>[] {
  let state = 0;
  const out: (Operation<RegisterInput, RegisterOutput> & { seq: number })[] = [];
  for (const p of place(specs)) {
    if (p.spec.kind < 0.5) {
      out.push(finish(p, { op: 'read' }, state));
    } else {
      const value = p.seq + 1;
      if (p.spec.fate !== 'lost') state = value;
      out.push(finish(p, { op: 'write', value }, undefined));
    }
  }
  return bySeq(out);
}

export interface CasSpecOptions {
  /** Values are drawn from 0 .. values - 1, so states repeat as in Jepsen's tests. Default 5. */
  values?: number;
  /** Fractions of reads and writes; the rest are compare-and-sets. Default 1/3 each. */
  read?: number;
  write?: number;
}

/**
 * A linearizable compare-and-set register history shaped like Jepsen's etcd/Knossos ones:
 * values from a small range, the register initially `null` (never written). An operation with
 * no reply is always a write or a cas (a write that may or may not have happened); a read with
 * no reply would say nothing.
 */
export function casHistory(
  specs: readonly OpSpec[],
  o: CasSpecOptions = {},
): Operation<CasRegisterInput<number | null>, CasRegisterOutput<number | null>>[] {
  const values = o.values ?? 5;
  const readShare = o.read ?? 1 / 3;
  const writeShare = o.write ?? 1 / 3;
  let state: number | null = null;
  type CasOp = Operation<CasRegisterInput<number | null>, CasRegisterOutput<number | null>>;
  const out: (CasOp & { seq: number })[] = [];
  for (const p of place(specs)) {
    const applies = p.spec.fate !== 'lost';
    // The kind's fraction is reused for the values, so a spec fixes the whole operation.
    const scaled = (p.spec.kind * 7919) % 1;
    const value = Math.floor(scaled * values);
    const from = Math.floor(((p.spec.kind * 104729) % 1) * values);
    const done = p.spec.fate === 'done';
    if (done && p.spec.kind < readShare) {
      out.push(finish(p, { op: 'read' }, state));
    } else if (!done || p.spec.kind < readShare + writeShare) {
      if (applies) state = value;
      out.push(finish(p, { op: 'write', value }, undefined));
    } else {
      const swapped = state === from;
      if (swapped) state = value;
      out.push(finish(p, { op: 'cas', from, to: value }, swapped));
    }
  }
  return bySeq(out);
}

/**
 * Changes the output of one completed read (get / read) to `impossible`, a value no operation
 * ever writes; returns the history index changed, or -1 if there is no completed read.
 */
export function corruptOneRead<I extends { op: string }, O>(
  ops: Operation<I, O>[],
  pick: number,
  impossible: O,
): number {
  const reads = ops
    .map((op, i) => ({ op, i }))
    .filter(
      ({ op }) => (op.input.op === 'get' || op.input.op === 'read') && op.return !== undefined,
    );
  if (reads.length === 0) return -1;
  const chosen = reads[Math.floor(pick * reads.length) % reads.length] as {
    op: Operation<I, O>;
    i: number;
  };
  ops[chosen.i] = { ...chosen.op, output: impossible };
  return chosen.i;
}
