import { randomBytes } from 'node:crypto';
import {
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { RaftLogger } from '../env.js';
import { PersisterLockedError } from '../errors.js';

/**
 * One FilePersister per directory, across processes.
 *
 * Node has no flock, so the lock is a name in the data directory: `raft.lock/`, a directory
 * holding exactly one file, named `<pid>-<nonce>`, whose content records the holder (pid,
 * host, boot id, the data directory's inode). It is a directory, not a file, because that
 * gives the two conditional steps a safe takeover of a stale lock needs, with nothing but
 * rename and unlink:
 *
 * - **install only into nothing**: a taker builds its lock privately
 *   (`raft.lock.<pid>-<nonce>.tmp/<pid>-<nonce>`) and renames it to `raft.lock`. Renaming a
 *   directory succeeds only if the target does not exist or is an empty directory, so of any
 *   number of racers exactly one rename succeeds; the others see a holder. (Building it first
 *   also means a holder is never seen half-written.)
 * - **remove only the holder you judged**: a stale holder is removed by unlinking its own
 *   file, `raft.lock/<pid>-<nonce>`, a name no other holder can have. A racer that judged the
 *   same stale holder finds the name gone; none can remove a lock taken in the meantime.
 *   The directory left empty is garbage: `rmdir` (which removes only an empty directory)
 *   or the next rename replaces it.
 *
 * A holder is stale when its process is gone: `process.kill(pid, 0)` fails with ESRCH (EPERM
 * means it exists), the machine has rebooted since (another boot id), it has this process's
 * pid but is not a lock of this process (a previous incarnation: a container's pid 1 restarts
 * as pid 1), or the lock was copied from another directory (another inode). A holder on
 * another host cannot be checked and counts as alive. Nothing is fsynced: a lock that a power
 * loss erases belonged to a process that died with it.
 */

const LOCK_NAME = 'raft.lock';
const ENTRY = /^([1-9]\d*)-([0-9a-f]+)$/;
const TMP = /^raft\.lock\.([1-9]\d*)-([0-9a-f]+)\.tmp$/;
/** Rounds of "rename, find a holder, remove it as stale" before giving up under contention. */
const MAX_ROUNDS = 16;

/** Real paths of the directories open in this process. */
const openDirs = new Set<string>();
/** Nonces of the locks this process holds or is taking. */
const ownNonces = new Set<string>();

interface HolderInfo {
  readonly pid: number;
  readonly host: string | undefined;
  readonly bootId: string | undefined;
  readonly dirIno: string | undefined;
}

type Found =
  | { readonly kind: 'none' }
  | { readonly kind: 'empty' }
  | {
      readonly kind: 'holder';
      readonly entry: string;
      readonly nonce: string;
      readonly info: HolderInfo;
    }
  | { readonly kind: 'foreign'; readonly what: string };

export interface DirLock {
  /** Removes the lock. Never throws: a lock left behind is stale once this process is gone. */
  release(): Promise<void>;
}

/**
 * Takes the lock of `dir` (a real path) or throws `PersisterLockedError` naming the holder.
 * Also refuses a directory open in this process.
 */
export async function lockDir(dir: string, logger: RaftLogger): Promise<DirLock> {
  if (openDirs.has(dir)) {
    throw new PersisterLockedError(dir, 'another FilePersister in this process has it open', {
      pid: process.pid,
      host: hostname(),
    });
  }
  openDirs.add(dir);
  try {
    return await takeLock(dir, logger);
  } catch (error) {
    openDirs.delete(dir);
    throw error;
  }
}

async function takeLock(dir: string, logger: RaftLogger): Promise<DirLock> {
  const lockPath = join(dir, LOCK_NAME);
  const nonce = randomBytes(8).toString('hex');
  const entry = `${process.pid}-${nonce}`;
  const me: HolderInfo = {
    pid: process.pid,
    host: hostname(),
    bootId: await bootId(),
    dirIno: await inodeOf(dir),
  };
  const tmp = join(dir, `${LOCK_NAME}.${entry}.tmp`);
  ownNonces.add(nonce);
  let taken = false;
  try {
    await mkdir(tmp);
    await writeFile(join(tmp, entry), `${JSON.stringify(me)}\n`);
    let lastError: unknown;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      try {
        await rename(tmp, lockPath);
      } catch (error) {
        lastError = error;
        if (!OCCUPIED.has(code(error))) throw error;
        await judge(dir, lockPath, me, logger);
        continue;
      }
      taken = true;
      // The rename was atomic; reading it back checks that nothing else writes here.
      const found = await inspect(lockPath);
      if (found.kind !== 'holder' || found.entry !== entry) {
        await unlink(join(lockPath, entry)).catch(() => {});
        throw new PersisterLockedError(dir, `${lockPath} changed while it was being taken`);
      }
      await removeDeadTmpDirs(dir);
      return {
        release: async () => {
          await unlink(join(lockPath, entry)).catch(() => {});
          await rmdir(lockPath).catch(() => {});
          ownNonces.delete(nonce);
          openDirs.delete(dir);
        },
      };
    }
    throw new PersisterLockedError(dir, `${lockPath} kept changing (${String(lastError)})`);
  } catch (error) {
    ownNonces.delete(nonce);
    if (!taken) await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw error;
  }
}

/** rename's answers when the target is there: a non-empty directory (EPERM: Windows), a file. */
const OCCUPIED = new Set(['ENOTEMPTY', 'EEXIST', 'EPERM', 'EACCES', 'ENOTDIR', 'EISDIR']);

/**
 * After a rename found `raft.lock` occupied: throws `PersisterLockedError` for a live (or
 * uncheckable) holder, else clears what is there so that the next rename can succeed.
 */
async function judge(dir: string, lockPath: string, me: HolderInfo, logger: RaftLogger) {
  const found = await inspect(lockPath);
  switch (found.kind) {
    case 'none':
      return;
    case 'empty':
      await rmdir(lockPath).catch(() => {});
      return;
    case 'foreign':
      throw new PersisterLockedError(
        dir,
        `${lockPath} is ${found.what}, not a FilePersister lock; remove it if no process uses this directory`,
      );
    case 'holder': {
      const { info } = found;
      const stale = staleness(info, found.nonce, me);
      if (stale === undefined) {
        const where = info.host === undefined ? '' : ` on ${info.host}`;
        const unchecked = info.host !== undefined && info.host !== me.host;
        throw new PersisterLockedError(
          dir,
          `held by process ${info.pid}${where}${unchecked ? ` (another host: it cannot be checked from ${me.host})` : ''}; if no such FilePersister runs, remove ${lockPath}`,
          info,
        );
      }
      // Only this holder's own name: a lock someone took meanwhile has another. Of racers
      // that judged the same holder, one unlink succeeds; that one reports it.
      const removed = await unlink(join(lockPath, found.entry)).then(
        () => true,
        () => false,
      );
      await rmdir(lockPath).catch(() => {});
      if (removed) {
        logger.info(
          { path: lockPath, pid: info.pid, host: info.host, reason: stale },
          'raft persister: removed a stale lock',
        );
      }
      return;
    }
  }
}

/** Why the holder is stale, or undefined if it may be alive. */
function staleness(holder: HolderInfo, nonce: string, me: HolderInfo): string | undefined {
  if (holder.host !== undefined && holder.host !== me.host) return undefined;
  if (holder.dirIno !== undefined && me.dirIno !== undefined && holder.dirIno !== me.dirIno) {
    return 'copied from another directory';
  }
  if (holder.bootId !== undefined && me.bootId !== undefined && holder.bootId !== me.bootId) {
    return 'the machine restarted since';
  }
  if (holder.pid === process.pid) {
    return ownNonces.has(nonce) ? undefined : 'left by an earlier process with this pid';
  }
  return isAlive(holder.pid) ? undefined : 'its process is gone';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is someone else's.
    return code(error) !== 'ESRCH';
  }
}

async function inspect(lockPath: string): Promise<Found> {
  let names: string[];
  try {
    names = await readdir(lockPath);
  } catch (error) {
    const c = code(error);
    if (c === 'ENOENT') return { kind: 'none' };
    if (c === 'ENOTDIR') return { kind: 'foreign', what: 'a file' };
    throw error;
  }
  if (names.length === 0) return { kind: 'empty' };
  const name = names[0] as string;
  const match = names.length === 1 ? ENTRY.exec(name) : null;
  if (match === null) return { kind: 'foreign', what: `a directory holding ${names.join(', ')}` };
  let text: string;
  try {
    text = await readFile(join(lockPath, name), 'utf8');
  } catch (error) {
    // Released or taken over since the listing: look again.
    if (code(error) === 'ENOENT') return { kind: 'none' };
    if (code(error) === 'EISDIR') return { kind: 'foreign', what: `a directory holding ${name}/` };
    throw error;
  }
  return {
    kind: 'holder',
    entry: name,
    nonce: match[2] as string,
    info: parseHolder(text, Number(match[1])),
  };
}

/** The pid comes from the name, so a holder whose content is unreadable is still checked. */
function parseHolder(text: string, pid: number): HolderInfo {
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    content = undefined;
  }
  const field = (key: string): string | undefined => {
    if (typeof content !== 'object' || content === null) return undefined;
    const value = (content as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : undefined;
  };
  return { pid, host: field('host'), bootId: field('bootId'), dirIno: field('dirIno') };
}

/** Removes private lock directories of takers that died before their rename. */
async function removeDeadTmpDirs(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    const match = TMP.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    const dead = pid === process.pid ? !ownNonces.has(match[2] as string) : !isAlive(pid);
    if (dead) await rm(join(dir, name), { recursive: true, force: true }).catch(() => {});
  }
}

let bootIdRead: Promise<string | undefined> | undefined;

/** Linux's id of this boot, to tell a holder from before a reboot; undefined elsewhere. */
function bootId(): Promise<string | undefined> {
  bootIdRead ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim() || undefined,
    () => undefined,
  );
  return bootIdRead;
}

async function inodeOf(dir: string): Promise<string | undefined> {
  return stat(dir, { bigint: true }).then(
    (info) => String(info.ino),
    () => undefined,
  );
}

function code(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}
