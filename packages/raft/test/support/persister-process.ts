import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from '@flotilla/devkit/proc/child';
import { poll } from '@flotilla/devkit/time/within';

/**
 * FilePersisters in processes of their own (test/fixtures/persister-process.ts), driven by
 * lines on stdin, for the cross-process lock tests. Every wait polls with a deadline; every
 * process is SIGKILLed by pid in `killAll` (afterEach).
 */

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/persister-process.ts', import.meta.url));
const LINE_MS = 20_000;

/** A persister process, driven by lines on stdin (see the fixture). */
export class PersisterProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly #lines: string[] = [];
  /** The "log …" lines, apart from the answers. */
  readonly logs: string[] = [];
  #read = 0;
  #stderr = '';
  #exited = false;
  readonly exited: Promise<void>;

  constructor() {
    // cwd: the package, so tsx finds its tsconfig (the @flotilla/transport/shape path).
    this.proc = track(
      spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
        cwd: PACKAGE_DIR,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    if (this.proc.pid === undefined) throw new Error('could not start the persister process');
    this.pid = this.proc.pid;
    let partial = '';
    this.proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) (line.startsWith('log ') ? this.logs : this.#lines).push(line);
    });
    this.proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', () => {
        this.#exited = true;
        resolve();
      }),
    );
  }

  send(line: string): void {
    this.proc.stdin?.write(`${line}\n`);
  }

  /** The next line it prints. */
  next(what: string): Promise<string> {
    return poll(
      `${what} from process ${this.pid}`,
      () => {
        const line = this.#lines[this.#read];
        if (line !== undefined) {
          this.#read++;
          return line;
        }
        if (this.#exited) throw new Error(`process ${this.pid} exited; stderr: ${this.#stderr}`);
        return undefined;
      },
      { timeoutMs: LINE_MS },
    );
  }

  async ask(line: string): Promise<string> {
    this.send(line);
    return this.next(`the answer to "${line}"`);
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** SIGKILL by pid, and wait until it is reaped (so its pid is no longer alive). */
  async kill(): Promise<void> {
    if (!this.#exited) process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }
}

/** The processes a test started. */
export class PersisterProcesses {
  readonly #all: PersisterProcess[] = [];

  /** Starts one and waits until it is ready for commands. */
  async start(): Promise<PersisterProcess> {
    const child = new PersisterProcess();
    this.#all.push(child);
    const line = await child.next('ready');
    if (line !== 'ready') throw new Error(`process ${child.pid} said ${line} instead of ready`);
    return child;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.#all.map((child) => child.kill()));
    this.#all.length = 0;
  }
}
