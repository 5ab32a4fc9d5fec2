import type { RaftLogger } from '../env.js';
import { RaftConfigError } from '../errors.js';
import { type FilePersisterIo, IO_OPERATIONS, nodeIo } from './file-io.js';

export interface FilePersisterOptions {
  /**
   * Compact when the WAL exceeds this many times the live state (and `compactMinBytes`): a
   * finite number > 1. Default 4.
   */
  readonly compactRatio?: number;
  /**
   * Never compact a WAL smaller than this many bytes: a non-negative integer, or `Infinity` to
   * compact only when `compact()` is called. Default 4 MiB.
   */
  readonly compactMinBytes?: number;
  /**
   * Where `open` reports what it repaired: a torn final write cut from the log (`warn`), a
   * stale lock taken over (`info`). pino's shape, so a pino logger fits. Default: one JSON
   * line to stderr.
   */
  readonly logger?: RaftLogger;
  /**
   * For fault-injection testing: replaces some of the file operations the persister does on
   * its directory (`open`, `readFile`, `readdir`, `rename`, `unlink`; the handles `open`
   * returns do `write`, `sync`, `datasync`, `truncate`, `close`). Those not given are
   * node:fs/promises'. Default: all of node:fs/promises.
   */
  readonly io?: Partial<FilePersisterIo>;
}

/** The options with their defaults filled in, checked. */
export interface FilePersisterConfig {
  readonly compactRatio: number;
  readonly compactMinBytes: number;
  readonly logger: RaftLogger;
  readonly io: FilePersisterIo;
}

const DEFAULT_COMPACT_RATIO = 4;
const DEFAULT_COMPACT_MIN_BYTES = 4 * 1024 * 1024;

/**
 * Checks `FilePersister.open`'s arguments before anything touches the disk: a bad one throws
 * `RaftConfigError` naming it. The arguments are `unknown` because JavaScript callers (and
 * parsed configuration) can pass anything.
 */
export function checkOptions(dir: unknown, options: unknown): FilePersisterConfig {
  if (typeof dir !== 'string' || dir.length === 0 || dir.includes('\0')) {
    throw new RaftConfigError(
      `FilePersister.open: dir must be a non-empty path (got ${show(dir)})`,
      'dir',
    );
  }
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new RaftConfigError(
      `FilePersister.open: options must be an object (got ${show(options)})`,
      'options',
    );
  }
  const { compactRatio, compactMinBytes, logger, io } = options as Record<string, unknown>;
  const ratio = compactRatio === undefined ? DEFAULT_COMPACT_RATIO : compactRatio;
  // Finite: an infinite ratio times an empty state is NaN, which would compact on every save.
  if (typeof ratio !== 'number' || !Number.isFinite(ratio) || !(ratio > 1)) {
    throw new RaftConfigError(
      `FilePersister option compactRatio must be a finite number > 1 (got ${show(compactRatio)})`,
      'compactRatio',
    );
  }
  const minBytes = compactMinBytes === undefined ? DEFAULT_COMPACT_MIN_BYTES : compactMinBytes;
  if (
    typeof minBytes !== 'number' ||
    !(minBytes >= 0) ||
    !(Number.isSafeInteger(minBytes) || minBytes === Number.POSITIVE_INFINITY)
  ) {
    throw new RaftConfigError(
      `FilePersister option compactMinBytes must be a non-negative integer or Infinity (got ${show(compactMinBytes)})`,
      'compactMinBytes',
    );
  }
  if (logger !== undefined && !isLogger(logger)) {
    throw new RaftConfigError(
      'FilePersister option logger must have warn(fields, message) and info(fields, message) methods',
      'logger',
    );
  }
  return {
    compactRatio: ratio,
    compactMinBytes: minBytes,
    logger: logger ?? stderrLogger,
    io: io === undefined ? nodeIo : checkIo(io),
  };
}

/** Only known operations, each a function: a misspelt one would silently inject nothing. */
function checkIo(io: unknown): FilePersisterIo {
  const known: readonly string[] = IO_OPERATIONS;
  const fail = (detail: string): never => {
    throw new RaftConfigError(
      `FilePersister option io must be an object of file operations (${known.join(', ')}): ${detail}`,
      'io',
    );
  };
  if (typeof io !== 'object' || io === null || Array.isArray(io)) return fail(`got ${show(io)}`);
  for (const [name, op] of Object.entries(io)) {
    if (!known.includes(name)) fail(`unknown operation ${JSON.stringify(name)}`);
    if (op !== undefined && typeof op !== 'function') fail(`${name} is not a function`);
  }
  const given = io as Partial<FilePersisterIo>;
  return {
    open: given.open ?? nodeIo.open,
    readFile: given.readFile ?? nodeIo.readFile,
    readdir: given.readdir ?? nodeIo.readdir,
    rename: given.rename ?? nodeIo.rename,
    unlink: given.unlink ?? nodeIo.unlink,
  };
}

function isLogger(value: unknown): value is RaftLogger {
  if (typeof value !== 'object' || value === null) return false;
  const { warn, info } = value as Record<string, unknown>;
  return typeof warn === 'function' && typeof info === 'function';
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null)
    return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

/** The default: one JSON line per event on stderr (the same lines as transport's default). */
export const stderrLogger: RaftLogger = {
  warn: (fields, message) => writeLine('warn', fields, message),
  info: (fields, message) => writeLine('info', fields, message),
};

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  let line: string;
  try {
    line = JSON.stringify({ level, msg: message, ...fields });
  } catch {
    line = JSON.stringify({ level, msg: message, fields: 'unprintable' });
  }
  process.stderr.write(`${line}\n`);
}
