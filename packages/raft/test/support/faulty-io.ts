/**
 * A FilePersisterIo that fails on command: the `io` option of FilePersister.open with faults
 * a test arms and disarms while the persister runs. Everything not failed is node:fs itself,
 * so what reaches the disk is real and a reopen with the plain file system reads it back.
 */
import { open as fsOpen, readdir, readFile, rename, unlink } from 'node:fs/promises';
import type { FilePersisterFile, FilePersisterIo } from '../../src/persister/file-io.js';

export type FaultOp =
  | 'open'
  | 'readFile'
  | 'readdir'
  | 'rename'
  | 'unlink'
  | 'write'
  | 'sync'
  | 'datasync'
  | 'truncate';

export interface Fault {
  readonly op: FaultOp;
  /** The file (or directory) it applies to: a path or a test of the path. Default: any. */
  readonly path?: string | ((path: string) => boolean);
  readonly code: 'EIO' | 'ENOSPC';
  /**
   * For `write`: the first matching write really writes this many bytes (fewer than asked, as
   * a full disk does) and returns; the fault fires on the writes after it.
   */
  readonly shortWrite?: number;
  /** Fire this many times, then disarm. Default: every time until `clear()`. */
  readonly times?: number;
}

interface Armed {
  readonly fault: Fault;
  left: number;
  shortDone: boolean;
}

/** An error shaped as Node's own (`code`, `errno`, `syscall`, `path`). */
export function fsError(
  code: 'EIO' | 'ENOSPC',
  syscall: string,
  path: string,
): NodeJS.ErrnoException {
  const text = code === 'EIO' ? 'i/o error' : 'no space left on device';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), {
    code,
    errno: code === 'EIO' ? -5 : -28,
    syscall,
    path,
  });
}

/** An open file's current name: a rename moves the names of the files open under the old one. */
interface OpenName {
  path: string;
}

export class FaultyIo {
  readonly #armed: Armed[] = [];
  readonly #names = new Set<OpenName>();
  /** Every fault that fired: which operation, on which path. */
  readonly fired: { readonly op: FaultOp; readonly path: string }[] = [];

  readonly io: FilePersisterIo = {
    open: async (path, flags) => {
      this.#check('open', path);
      return this.#wrap(await fsOpen(path, flags), path);
    },
    readFile: async (path) => {
      this.#check('readFile', path);
      return readFile(path);
    },
    readdir: async (path) => {
      this.#check('readdir', path);
      return readdir(path);
    },
    rename: async (from, to) => {
      this.#check('rename', to);
      await rename(from, to);
      for (const name of this.#names) if (name.path === from) name.path = to;
    },
    unlink: async (path) => {
      this.#check('unlink', path);
      return unlink(path);
    },
  };

  inject(fault: Fault): void {
    this.#armed.push({ fault, left: fault.times ?? Number.POSITIVE_INFINITY, shortDone: false });
  }

  clear(): void {
    this.#armed.length = 0;
  }

  #match(op: FaultOp, path: string): Armed | undefined {
    return this.#armed.find(({ fault, left }) => {
      if (fault.op !== op || left <= 0) return false;
      if (fault.path === undefined) return true;
      return typeof fault.path === 'string' ? fault.path === path : fault.path(path);
    });
  }

  #fire(armed: Armed, op: FaultOp, path: string): never {
    armed.left--;
    this.fired.push({ op, path });
    throw fsError(armed.fault.code, op, path);
  }

  #check(op: FaultOp, path: string): void {
    const armed = this.#match(op, path);
    if (armed !== undefined) this.#fire(armed, op, path);
  }

  #wrap(file: FilePersisterFile, openedAs: string): FilePersisterFile {
    const name: OpenName = { path: openedAs };
    this.#names.add(name);
    return {
      write: async (buffer, offset, length, position) => {
        const { path } = name;
        const armed = this.#match('write', path);
        if (armed?.fault.shortWrite !== undefined && !armed.shortDone) {
          armed.shortDone = true;
          const part = Math.min(armed.fault.shortWrite, length - 1);
          return file.write(buffer, offset, part, position);
        }
        if (armed !== undefined) this.#fire(armed, 'write', path);
        return file.write(buffer, offset, length, position);
      },
      sync: async () => {
        this.#check('sync', name.path);
        return file.sync();
      },
      datasync: async () => {
        this.#check('datasync', name.path);
        return file.datasync();
      },
      truncate: async (length) => {
        this.#check('truncate', name.path);
        return file.truncate(length);
      },
      close: () => {
        this.#names.delete(name);
        return file.close();
      },
    };
  }
}
