/**
 * FilePersister.open checks its arguments before it touches the disk: a bad one is
 * RaftConfigError (ERR_RAFT_CONFIG) naming it, and the directory is not even created.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RaftConfigError, RaftError } from '../src/errors.js';
import { FilePersister, type FilePersisterOptions } from '../src/persister/file-persister.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-options-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function expectConfigError(dir: unknown, options: unknown, option: string) {
  const error = await FilePersister.open(dir as string, options as FilePersisterOptions).then(
    async (p) => {
      await p.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RaftConfigError);
  expect(error).toBeInstanceOf(RaftError);
  const config = error as RaftConfigError;
  expect(config.code).toBe('ERR_RAFT_CONFIG');
  expect(config.option).toBe(option);
  expect(config.message).toContain(option);
  // Nothing on disk: not the directory, not a lock.
  expect(await readdir(root)).toEqual([]);
}

const quiet = { warn: () => {}, info: () => {} };

describe('FilePersister.open options', () => {
  it.each([1, 0.5, 0, -2, Number.NaN, Number.POSITIVE_INFINITY, '4', null])(
    'compactRatio %s',
    async (compactRatio) => {
      await expectConfigError(join(root, 'd'), { compactRatio }, 'compactRatio');
    },
  );

  it.each([-1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY, '0', 2 ** 60])(
    'compactMinBytes %s',
    async (compactMinBytes) => {
      await expectConfigError(join(root, 'd'), { compactMinBytes }, 'compactMinBytes');
    },
  );

  it.each([
    ['not an object', 'console'],
    ['without info', { warn: () => {} }],
    ['with a non-function warn', { warn: 1, info: () => {} }],
  ])('logger %s', async (_what, logger) => {
    await expectConfigError(join(root, 'd'), { logger }, 'logger');
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['with a NUL byte', 'a\0b'],
  ])('dir %s', async (_what, dir) => {
    await expectConfigError(dir, {}, 'dir');
  });

  it('options that are not an object', async () => {
    await expectConfigError(join(root, 'd'), 'compact', 'options');
  });

  it('the edges of the ranges are accepted; Infinity for compactMinBytes never compacts', async () => {
    for (const options of [
      { compactRatio: 1.0001, compactMinBytes: 0 },
      { compactRatio: 1e9, compactMinBytes: Number.MAX_SAFE_INTEGER },
      { compactMinBytes: Number.POSITIVE_INFINITY, compactRatio: 2 },
      {},
      undefined,
    ]) {
      const dir = join(root, 'edge');
      const p = await FilePersister.open(dir, options && { ...options, logger: quiet });
      for (let i = 1; i <= 30; i++) {
        await p.save({ hardState: { term: i, votedFor: null } });
      }
      if (options?.compactMinBytes === Number.POSITIVE_INFINITY) {
        // 30 records of the same hard state, none compacted away.
        expect(p.walSize).toBeGreaterThan(30 * 12);
      }
      await p.close();
      await rm(dir, { recursive: true });
    }
  });
});
