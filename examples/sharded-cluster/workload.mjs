// The writes of the sharded-cluster demo and their check. Each clerk makes one operation at a
// time; four in five append a unique token (`c3.17;`: clerk 3's 17th operation) to one of
// twenty shared keys, two per shard, one in five puts a value to a key of its own (spread
// over the shards too). At the end every key is read back: each append key must hold every
// acknowledged token exactly once, each clerk's tokens in the order it made them, and each
// put key the value that was put.
import { randomBytes } from 'node:crypto';
import { key2shard } from '@flotilla/shardkv';

/** First letters a-t: key2shard (the first byte mod 10) puts two of them on each shard. */
export const APPEND_KEYS = [
  'alpha',
  'bravo',
  'charlie',
  'delta',
  'echo',
  'foxtrot',
  'golf',
  'hotel',
  'india',
  'juliett',
  'kilo',
  'lima',
  'mike',
  'november',
  'oscar',
  'papa',
  'quebec',
  'romeo',
  'sierra',
  'tango',
];
/** One key of each shard, by shard. */
export const SHARD_KEYS = Array.from({ length: 10 }, (_, shard) =>
  APPEND_KEYS.find((key) => key2shard(key) === shard),
);

/**
 * `ops` operations over `clerks`. `stopped()` ends the workers early (a failure), `onAck` runs
 * after each acknowledgement, `guard` races the read-back against the run's failure.
 */
export function createWorkload({ ops, clerks, stopped, onAck, guard, now }) {
  const stats = { acked: 0, appends: 0, puts: 0, stallMs: 0, stallAt: 0 };
  /** Acknowledged appends: key → Set of tokens; acknowledged puts: key → value. */
  const appended = new Map(APPEND_KEYS.map((key) => [key, new Set()]));
  const written = new Map();
  let nextOp = 0;
  let appendCursor = 0;
  let putCursor = 0;
  let lastAckAt = 0;

  function acknowledged() {
    const t = now();
    if (lastAckAt > 0 && t - lastAckAt > stats.stallMs) {
      stats.stallMs = t - lastAckAt;
      stats.stallAt = lastAckAt;
    }
    lastAckAt = t;
    stats.acked++;
    onAck();
  }

  /** Clerk c: one operation at a time, so its k-th token is applied after its (k-1)-th. */
  async function worker(c) {
    const clerk = clerks[c];
    for (let k = 1; nextOp < ops && !stopped(); k++) {
      const op = nextOp++;
      if (op % 5 === 4) {
        const key = `${APPEND_KEYS[putCursor++ % APPEND_KEYS.length]}-c${c}.${k}`;
        const value = `${op}:${randomBytes(6).toString('hex')}`;
        await clerk.put(key, value);
        written.set(key, value);
        stats.puts++;
      } else {
        const key = APPEND_KEYS[appendCursor++ % APPEND_KEYS.length];
        const item = `c${c}.${k}`;
        await clerk.append(key, `${item};`);
        appended.get(key).add(item);
        stats.appends++;
      }
      acknowledged();
    }
  }

  /** Reads every key back (the clerks share the reads) and lists every write that is not there once, in order. */
  async function check() {
    const problems = [];
    const keys = [...APPEND_KEYS, ...written.keys()];
    const values = new Map();
    let next = 0;
    await guard(
      Promise.all(
        clerks.map(async (clerk) => {
          while (next < keys.length) {
            const key = keys[next++];
            values.set(key, await clerk.get(key));
          }
        }),
      ),
    );
    let appendsFound = 0;
    for (const key of APPEND_KEYS) {
      const want = appended.get(key);
      const items = values.get(key).split(';');
      if (items.pop() !== '') problems.push(`${key}: does not end with ";"`);
      const seen = new Set();
      const lastK = new Map();
      for (const item of items) {
        const match = /^c(\d+)\.(\d+)$/.exec(item);
        if (match === null) {
          problems.push(`${key}: holds ${JSON.stringify(item)}, which no clerk wrote`);
          continue;
        }
        if (seen.has(item)) problems.push(`${key}: ${item} is there twice`);
        else if (!want.has(item))
          problems.push(`${key}: ${item} is there but was never acknowledged`);
        else appendsFound++;
        seen.add(item);
        const [c, k] = [Number(match[1]), Number(match[2])];
        if ((lastK.get(c) ?? 0) >= k)
          problems.push(`${key}: ${item} comes after c${c}.${lastK.get(c)}`);
        lastK.set(c, k);
      }
      for (const item of want)
        if (!seen.has(item)) problems.push(`${key}: acknowledged ${item} is missing`);
    }
    let putsFound = 0;
    for (const [key, value] of written) {
      const got = values.get(key);
      if (got === value) putsFound++;
      else
        problems.push(`${key}: is ${JSON.stringify(got)}, acknowledged ${JSON.stringify(value)}`);
    }
    return { problems, appendsFound, putsFound, keys: keys.length };
  }

  return {
    stats,
    /** True once every operation has been handed to a clerk. */
    allIssued: () => nextOp >= ops,
    run: () => Promise.all(clerks.map((_, c) => worker(c))),
    check,
  };
}
