/**
 * Damage that is not a torn tail (file-persister-torn-tail.test.ts) must be reported as
 * CorruptStateError at open — with the damaged file's path and the byte offset — and must
 * leave the directory untouched.
 */
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptStateError, RaftError } from '../src/errors.js';
import { crc32 } from '../src/persister/file-crc32.js';
import { FilePersister } from '../src/persister/file-persister.js';
import { SNAPSHOT_HEADER_BYTES } from '../src/persister/file-snapshot.js';
import { RECORD_HEADER_BYTES, WAL_FILE } from '../src/persister/file-wal.js';
import { scanWal } from '../src/persister/file-wal-scan.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flotilla-file-persister-corrupt-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const walPath = (): string => join(dir, WAL_FILE);

/** A WAL of four records; the second one carries a snapshot. */
async function populate(): Promise<{ offsets: number[]; ends: number[]; snapshotPath: string }> {
  const p = await FilePersister.open(dir);
  await p.save({
    hardState: { term: 1, votedFor: 0 },
    entries: {
      from: 1,
      entries: [
        { term: 1, command: 'a' },
        { term: 1, command: 'b' },
      ],
    },
  });
  await p.save({ snapshot: { index: 1, term: 1, data: new Uint8Array(200).fill(7) } });
  await p.save({ entries: { from: 3, entries: [{ term: 2, command: { op: 'put', key: 'k' } }] } });
  await p.save({ hardState: { term: 2, votedFor: 1 } });
  await p.close();
  const bytes = await readFile(walPath());
  const { records, end } = scanWal(bytes, walPath());
  expect(end).toBe(bytes.length);
  const offsets = records.map((r) => r.offset);
  const ends = [...offsets.slice(1), end];
  const snapshot = (await readdir(dir)).find((name) => name.endsWith('.snap')) as string;
  return { offsets, ends, snapshotPath: join(dir, snapshot) };
}

async function flipByte(path: string, offset: number, mask = 0x01): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] as number) ^ mask;
  await writeFile(path, bytes);
}

async function listing(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name)));
  return files;
}

/** Opening must throw CorruptStateError(path, offset) and change nothing, every time. */
async function expectCorrupt(path: string, offset?: number): Promise<CorruptStateError> {
  const files = await listing();
  let caught: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    caught = await FilePersister.open(dir).then(
      async (p) => {
        await p.close();
        return undefined;
      },
      (error: unknown) => error,
    );
    expect(caught).toBeInstanceOf(CorruptStateError);
    expect(caught).toBeInstanceOf(RaftError);
    const error = caught as CorruptStateError;
    expect(error.code).toBe('ERR_CORRUPT_STATE');
    expect(error.path).toBe(path);
    if (offset !== undefined) expect(error.offset).toBe(offset);
    expect(error.message).toContain(path);
  }
  expect(await listing()).toEqual(files);
  return caught as CorruptStateError;
}

describe('FilePersister corruption of the WAL', () => {
  it.each([
    ['the length (low byte)', 0, 0x01],
    ['the length (high byte: the payload would run past the end of the file)', 3, 0x80],
    ['the payload checksum', 5, 0x10],
    ['the header checksum', 9, 0x01],
    ['the first payload byte', RECORD_HEADER_BYTES, 0x01],
  ])('a flipped byte in %s of a middle record', async (_region, at, mask) => {
    const { offsets } = await populate();
    const middle = offsets[2] as number;
    await flipByte(walPath(), middle + at, mask);
    await expectCorrupt(walPath(), middle);
  });

  it('a flipped byte anywhere in the payload of a middle record', async () => {
    const { offsets, ends } = await populate();
    const start = (offsets[1] as number) + RECORD_HEADER_BYTES;
    const original = await readFile(walPath());
    for (let at = start; at < (ends[1] as number); at += 7) {
      await writeFile(walPath(), original);
      await flipByte(walPath(), at, 0x40);
      await expectCorrupt(walPath(), offsets[1]);
    }
  });

  it.each([
    ['the length (high byte)', 3, 0x80],
    ['the payload checksum', 4, 0x01],
    ['the last payload byte', -1, 0x01],
  ])(
    'a flipped byte in %s of the last record is a torn write: cut, not corruption',
    async (_region, at, mask) => {
      // Nothing valid follows it, so it may be an append whose blocks were written out of
      // order and whose save never resolved (file-persister-torn-tail.test.ts sweeps every byte).
      const { offsets, ends } = await populate();
      const last = offsets[offsets.length - 1] as number;
      await flipByte(walPath(), at < 0 ? (ends[ends.length - 1] as number) + at : last + at, mask);
      const warns: Record<string, unknown>[] = [];
      const p = await FilePersister.open(dir, {
        logger: { warn: (f) => warns.push(f), info: () => {} },
      });
      expect(p.walSize).toBe(last);
      expect(p.load()?.hardState).toEqual({ term: 1, votedFor: 0 });
      expect(warns).toEqual([expect.objectContaining({ offset: last, kind: 'checksum' })]);
      await p.close();
    },
  );

  it('a flipped byte in the magic or the version of the WAL header', async () => {
    await populate();
    const original = await readFile(walPath());
    await flipByte(walPath(), 0);
    expect((await expectCorrupt(walPath(), 0)).reason).toBe('bad-magic');
    await writeFile(walPath(), original);
    await flipByte(walPath(), 4, 0x02);
    expect((await expectCorrupt(walPath(), 4)).reason).toBe('unknown-version');
  });

  it('a zero-length or cut-header WAL is damage, not a fresh node', async () => {
    await populate();
    await truncate(walPath(), 0);
    expect((await expectCorrupt(walPath(), 0)).reason).toBe('truncated');
    await writeFile(walPath(), Buffer.from('FLWL\x01'));
    await expectCorrupt(walPath(), 0);
  });

  it('bytes that are not a record after the last record: a torn tail, unless a valid record follows', async () => {
    const { offsets, ends } = await populate();
    const bytes = await readFile(walPath());
    const quiet = { logger: { warn: () => {}, info: () => {} } };
    for (const tail of [Buffer.alloc(RECORD_HEADER_BYTES, 0xab), Buffer.alloc(64)]) {
      await writeFile(walPath(), Buffer.concat([bytes, tail]));
      const p = await FilePersister.open(dir, quiet);
      expect(p.walSize).toBe(bytes.length);
      await p.close();
      // The same bytes with a valid record after them cannot be a crash.
      const lastRecord = bytes.subarray(offsets[offsets.length - 1], ends[ends.length - 1]);
      await writeFile(walPath(), Buffer.concat([bytes, tail, lastRecord]));
      await expectCorrupt(walPath(), bytes.length);
    }
  });

  it('a record with a valid checksum but an undecodable or malformed payload', async () => {
    await populate();
    const bytes = await readFile(walPath());
    const frame = (payload: Buffer): Buffer => {
      const out = Buffer.alloc(RECORD_HEADER_BYTES + payload.length);
      out.writeUInt32LE(payload.length, 0);
      out.writeUInt32LE(crc32(payload), 4);
      out.writeUInt32LE(crc32(out.subarray(0, 8)), 8);
      payload.copy(out, RECORD_HEADER_BYTES);
      return out;
    };
    for (const payload of [
      Buffer.from([0xc1]),
      Buffer.from([0x93, 1, 2, 3]),
      Buffer.from([0x81, 0xa1, 0x7a, 1]),
    ]) {
      await writeFile(walPath(), Buffer.concat([bytes, frame(payload)]));
      expect((await expectCorrupt(walPath(), bytes.length)).reason).toBe('malformed');
    }
  });
});

describe('FilePersister corruption of the snapshot', () => {
  it('a flipped byte anywhere in the snapshot header', async () => {
    const { snapshotPath } = await populate();
    const original = await readFile(snapshotPath);
    for (let at = 0; at < SNAPSHOT_HEADER_BYTES; at++) {
      await writeFile(snapshotPath, original);
      await flipByte(snapshotPath, at);
      await expectCorrupt(snapshotPath);
    }
  });

  it('a flipped byte in the snapshot body', async () => {
    const { snapshotPath } = await populate();
    const original = await readFile(snapshotPath);
    for (const at of [SNAPSHOT_HEADER_BYTES, SNAPSHOT_HEADER_BYTES + 100, original.length - 1]) {
      await writeFile(snapshotPath, original);
      await flipByte(snapshotPath, at, 0x80);
      const error = await expectCorrupt(snapshotPath, SNAPSHOT_HEADER_BYTES);
      expect(error.reason).toBe('checksum');
    }
  });

  it('a snapshot file cut short or grown', async () => {
    const { snapshotPath } = await populate();
    const original = await readFile(snapshotPath);
    for (const length of [0, 10, SNAPSHOT_HEADER_BYTES, original.length - 1]) {
      await writeFile(snapshotPath, original.subarray(0, length));
      expect((await expectCorrupt(snapshotPath)).reason).toBe('truncated');
    }
    await writeFile(snapshotPath, Buffer.concat([original, Buffer.from([0])]));
    await expectCorrupt(snapshotPath);
  });

  it('an unknown snapshot format version (with a valid header checksum)', async () => {
    const { snapshotPath } = await populate();
    const bytes = await readFile(snapshotPath);
    bytes.writeUInt32LE(2, 4);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 44)), 44);
    await writeFile(snapshotPath, bytes);
    expect((await expectCorrupt(snapshotPath, 4)).reason).toBe('unknown-version');
  });

  it('a valid snapshot file that is not the one the WAL refers to', async () => {
    const { snapshotPath } = await populate();
    const otherDir = `${dir}-other`;
    try {
      const other = await FilePersister.open(otherDir);
      await other.save({ snapshot: { index: 1, term: 1, data: new Uint8Array(200).fill(8) } });
      await other.close();
      const name = (await readdir(otherDir)).find((n) => n.endsWith('.snap')) as string;
      await writeFile(snapshotPath, await readFile(join(otherDir, name)));
      expect((await expectCorrupt(snapshotPath, 0)).reason).toBe('snapshot-mismatch');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('a WAL that refers to a missing snapshot file', async () => {
    const { offsets, snapshotPath } = await populate();
    await unlink(snapshotPath);
    expect((await expectCorrupt(walPath(), offsets[1])).reason).toBe('missing-snapshot');
  });

  it('snapshot files without a WAL', async () => {
    await populate();
    await unlink(walPath());
    expect((await expectCorrupt(walPath(), 0)).reason).toBe('missing-wal');
  });
});

describe('FilePersister fresh directories', () => {
  it('an empty directory loads as undefined (a fresh node)', async () => {
    const p = await FilePersister.open(dir);
    expect(p.load()).toBeUndefined();
    await p.close();
  });

  it('a missing directory loads as undefined (a fresh node)', async () => {
    const p = await FilePersister.open(join(dir, 'not-yet'));
    expect(p.load()).toBeUndefined();
    await p.close();
  });
});
