/**
 * One process per data directory: real child processes (test/fixtures/persister-process.ts)
 * hold, race for and die holding the lock. Every wait polls for a condition with a deadline;
 * every child is SIGKILLed by pid in afterEach.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RaftLogger } from '../src/env.js';
import { CorruptStateError, PersisterLockedError } from '../src/errors.js';
import { lockDir } from '../src/persister/file-lock.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { WAL_FILE } from '../src/persister/file-wal.js';
import { type PersisterProcess, PersisterProcesses } from './support/persister-process.js';

const LOCK = 'raft.lock';

let root: string;
const children = new PersisterProcesses();
const startChild = (): Promise<PersisterProcess> => children.start();

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-lock-'));
});

afterEach(async () => {
  await children.killAll();
  await rm(root, { recursive: true, force: true });
});

interface Logged {
  readonly level: 'warn' | 'info';
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

function recordingLogger(): RaftLogger & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
  };
}

async function lockLeftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith(`${LOCK}.`));
}

/** The one entry of `raft.lock/`: its name and parsed content. */
async function lockEntry(dir: string): Promise<{ name: string; content: Record<string, unknown> }> {
  const names = await readdir(join(dir, LOCK));
  expect(names).toHaveLength(1);
  const name = names[0] as string;
  const content = JSON.parse(await readFile(join(dir, LOCK, name), 'utf8')) as Record<
    string,
    unknown
  >;
  return { name, content };
}

/** A directory whose lock was left by a SIGKILLed holder that had saved `term`. */
async function staleDir(name: string, term = 7): Promise<{ dir: string; pid: number }> {
  const dir = join(root, name);
  const holder = await startChild();
  expect(await holder.ask(`open ${dir}`)).toBe(`opened ${holder.pid}`);
  expect(await holder.ask(`save ${term}`)).toBe('saved');
  await holder.kill();
  expect((await lockEntry(dir)).name.startsWith(`${holder.pid}-`)).toBe(true);
  return { dir, pid: holder.pid };
}

/** How many stale-lock removals the processes have logged so far. */
function removals(processes: readonly PersisterProcess[]): number {
  return processes.reduce(
    (sum, child) => sum + child.logs.filter((l) => l.includes('removed a stale lock')).length,
    0,
  );
}

async function expectLocked(dir: string, pid: number, host: string): Promise<PersisterLockedError> {
  const error = await FilePersister.open(dir).then(
    async (p) => {
      await p.close();
      throw new Error('opened a locked directory');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersisterLockedError);
  const locked = error as PersisterLockedError;
  expect(locked.code).toBe('ERR_PERSISTER_LOCKED');
  expect(locked.pid).toBe(pid);
  expect(locked.host).toBe(host);
  expect(locked.message).toContain(String(pid));
  return locked;
}

describe('FilePersister: one process per data directory', () => {
  it('a live holder in another process blocks open at once, naming its pid and host', async () => {
    const dir = join(root, 'd');
    const holder = await startChild();
    expect(await holder.ask(`open ${dir}`)).toBe(`opened ${holder.pid}`);
    await expectLocked(dir, holder.pid, hostname());
    const other = await startChild();
    expect(await other.ask(`open ${dir}`)).toBe(`locked ${holder.pid} ${hostname()}`);
    // The refused opens left nothing behind.
    expect(await lockLeftovers(dir)).toEqual([]);
    expect((await lockEntry(dir)).name.startsWith(`${holder.pid}-`)).toBe(true);
    // Closing removes the lock: the next process opens at once.
    expect(await holder.ask('close')).toBe('closed');
    expect(await readdir(dir)).not.toContain(LOCK);
    expect(await other.ask(`open ${dir}`)).toBe(`opened ${other.pid}`);
    expect(await other.ask('close')).toBe('closed');
  }, 60_000);

  it('a SIGKILLed holder does not block a restart: its stale lock is taken over and reported', async () => {
    const { dir, pid } = await staleDir('d', 7);
    const logger = recordingLogger();
    const p = await FilePersister.open(dir, { logger });
    expect(p.load()?.hardState).toEqual({ term: 7, votedFor: null });
    expect(logger.lines).toEqual([
      {
        level: 'info',
        fields: expect.objectContaining({ pid, reason: 'its process is gone' }),
        message: expect.stringContaining('stale lock'),
      },
    ]);
    expect((await lockEntry(dir)).name.startsWith(`${process.pid}-`)).toBe(true);
    await p.close();
    expect(await readdir(dir)).not.toContain(LOCK);
  }, 60_000);

  it('a holder that exited without close leaves a lock that does not block either', async () => {
    const dir = join(root, 'd');
    const holder = await startChild();
    expect(await holder.ask(`open ${dir}`)).toBe(`opened ${holder.pid}`);
    holder.proc.stdin?.end();
    await holder.exited;
    expect(await readdir(dir)).toContain(LOCK);
    const p = await FilePersister.open(dir, { logger: recordingLogger() });
    await p.close();
  }, 60_000);

  it('racing openers, on a fresh directory or a stale lock: exactly one wins, every time', async () => {
    const racers = await Promise.all([startChild(), startChild(), startChild()]);
    for (let round = 0; round < 6; round++) {
      const stale = round % 2 === 1;
      const dir = stale ? (await staleDir(`r${round}`)).dir : join(root, `r${round}`);
      const removalsBefore = removals(racers);
      // All the requests go out before any answer is read, so the opens overlap.
      for (const racer of racers) racer.send(`open ${dir}`);
      const answers = await Promise.all(racers.map((racer) => racer.next('an open answer')));
      const winners = racers.filter((racer, i) => answers[i] === `opened ${racer.pid}`);
      expect(winners, `round ${round} (${stale ? 'stale' : 'fresh'}): ${answers}`).toHaveLength(1);
      const winner = winners[0] as PersisterProcess;
      for (const [i, racer] of racers.entries()) {
        if (racer !== winner) expect(answers[i]).toBe(`locked ${winner.pid} ${hostname()}`);
      }
      expect((await lockEntry(dir)).name.startsWith(`${winner.pid}-`)).toBe(true);
      expect(await lockLeftovers(dir)).toEqual([]);
      // Of the racers that judged the SIGKILLed holder, exactly one removed its lock (each
      // logs before it answers, on the same pipe).
      expect(removals(racers) - removalsBefore).toBe(stale ? 1 : 0);
      expect(await winner.ask('save 9')).toBe('saved');
      expect(await winner.ask('close')).toBe('closed');
      const p = await FilePersister.open(dir);
      expect(p.load()?.hardState.term).toBe(9);
      await p.close();
    }
  }, 120_000);
});

describe('FilePersister lock: what counts as held', () => {
  it('a lock naming another host blocks (it cannot be checked from here)', async () => {
    const { dir, pid } = await staleDir('d');
    const { name, content } = await lockEntry(dir);
    await writeFile(join(dir, LOCK, name), JSON.stringify({ ...content, host: 'elsewhere' }));
    const error = await expectLocked(dir, pid, 'elsewhere');
    expect(error.message).toContain('another host');
    expect(error.message).toContain(join(dir, LOCK));
  }, 60_000);

  it('a live process named by the lock blocks, even one this user may not signal (EPERM)', async () => {
    const dir = join(root, 'd');
    const p = await FilePersister.open(dir);
    const { content } = await lockEntry(dir);
    await p.close();
    // pid 1 is always alive; unless this runs as root, signalling it fails with EPERM.
    await mkdir(join(dir, LOCK));
    await writeFile(join(dir, LOCK, '1-00aa'), JSON.stringify({ ...content, pid: 1 }));
    await expectLocked(dir, 1, hostname());
  });

  it("a lock with this process's pid that this process does not hold is an earlier incarnation's", async () => {
    const dir = join(root, 'd');
    const p = await FilePersister.open(dir);
    const { name, content } = await lockEntry(dir);
    await p.close();
    await mkdir(join(dir, LOCK));
    await writeFile(join(dir, LOCK, name), JSON.stringify(content));
    const logger = recordingLogger();
    const again = await FilePersister.open(dir, { logger });
    expect(logger.lines.map((line) => line.fields.reason)).toEqual([
      'left by an earlier process with this pid',
    ]);
    await again.close();
  });

  it.skipIf(process.platform !== 'linux')(
    'a lock from before a reboot (another boot id) is stale even if its pid is alive now',
    async () => {
      const dir = join(root, 'd');
      const p = await FilePersister.open(dir);
      const { content } = await lockEntry(dir);
      await p.close();
      await mkdir(join(dir, LOCK));
      const entry = `${process.ppid}-00bb`;
      await writeFile(
        join(dir, LOCK, entry),
        JSON.stringify({ ...content, pid: process.ppid, bootId: 'an-earlier-boot' }),
      );
      const logger = recordingLogger();
      const again = await FilePersister.open(dir, { logger });
      expect(logger.lines.map((line) => line.fields.reason)).toEqual([
        'the machine restarted since',
      ]);
      await again.close();
    },
  );

  it('a copy of an open directory is not locked by the original', async () => {
    const dir = join(root, 'd');
    const p = await FilePersister.open(dir);
    await p.save({ hardState: { term: 3, votedFor: 1 } });
    const copy = join(root, 'copy');
    await cp(dir, copy, { recursive: true });
    const logger = recordingLogger();
    const other = await FilePersister.open(copy, { logger });
    expect(other.load()?.hardState).toEqual({ term: 3, votedFor: 1 });
    expect(logger.lines.map((line) => line.fields.reason)).toEqual([
      'copied from another directory',
    ]);
    await other.close();
    await p.close();
  });

  it('something else at raft.lock blocks with a message saying what to remove', async () => {
    const dir = join(root, 'd');
    await mkdir(dir);
    await writeFile(join(dir, LOCK), 'not a lock');
    const asFile = await FilePersister.open(dir).catch((e: unknown) => e);
    expect(asFile).toBeInstanceOf(PersisterLockedError);
    expect((asFile as Error).message).toContain('not a FilePersister lock');
    await rm(join(dir, LOCK));
    await mkdir(join(dir, LOCK));
    await writeFile(join(dir, LOCK, 'a'), '');
    await writeFile(join(dir, LOCK, 'b'), '');
    await expect(FilePersister.open(dir)).rejects.toBeInstanceOf(PersisterLockedError);
  });

  it('an empty raft.lock and private lock directories of dead takers are cleaned up', async () => {
    const { pid } = await staleDir('dead-pid-source');
    const dir = join(root, 'd');
    await mkdir(join(dir, LOCK), { recursive: true });
    const deadTmp = `${LOCK}.${pid}-00cc.tmp`;
    const liveTmp = `${LOCK}.1-00dd.tmp`;
    await mkdir(join(dir, deadTmp));
    await writeFile(join(dir, deadTmp, `${pid}-00cc`), '{}');
    await mkdir(join(dir, liveTmp));
    const p = await FilePersister.open(dir);
    expect(await lockLeftovers(dir)).toEqual([liveTmp]);
    await p.close();
  }, 60_000);

  it('a failed open (corrupt state) releases the lock it took', async () => {
    const dir = join(root, 'd');
    const p = await FilePersister.open(dir);
    await p.close();
    await writeFile(join(dir, WAL_FILE), Buffer.alloc(0));
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(FilePersister.open(dir)).rejects.toBeInstanceOf(CorruptStateError);
      expect(await readdir(dir)).not.toContain(LOCK);
    }
    expect((await stat(join(dir, WAL_FILE))).size).toBe(0);
  });
});

describe('the lock protocol under contention', () => {
  it('of many takers at once, exactly one wins, on a fresh directory and over a stale lock', async () => {
    // Aliases of one directory ("d", "d/.", "d/./.", …) pass the in-process check, so the
    // takers race on the lock itself, interleaved by the fs thread pool.
    for (let round = 0; round < 40; round++) {
      const dir = join(root, `c${round}`);
      await mkdir(dir);
      const stale = round % 2 === 1;
      if (stale) {
        // A lock with this pid that this process does not hold: an earlier incarnation's.
        await mkdir(join(dir, LOCK));
        await writeFile(join(dir, LOCK, `${process.pid}-5ca1ab1e`), '{}');
      }
      const log = recordingLogger();
      const aliases = Array.from({ length: 8 }, (_, i) => dir + '/.'.repeat(i));
      // Staggered starts (0–7 fs round trips), varying by round, so that late takers judge the
      // lock while early ones are installing theirs.
      const results = await Promise.allSettled(
        aliases.map(async (alias, i) => {
          for (let k = 0; k < (i * (round + 1)) % 8; k++) await stat(dir);
          return lockDir(alias, log);
        }),
      );
      const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(won, `round ${round}`).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') {
          expect(result.reason).toBeInstanceOf(PersisterLockedError);
          expect((result.reason as PersisterLockedError).pid).toBe(process.pid);
        }
      }
      // Of the takers that judged the stale holder, exactly one removed it.
      expect(log.lines).toHaveLength(stale ? 1 : 0);
      expect(await lockLeftovers(dir)).toEqual([]);
      expect((await lockEntry(dir)).name.startsWith(`${process.pid}-`)).toBe(true);
      await won[0]?.release();
      expect(await readdir(dir)).toEqual([]);
    }
  });
});
