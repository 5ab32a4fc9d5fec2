/** Worker threads running one stress task at a time each; a hung or crashed worker is replaced. */
import { Worker } from 'node:worker_threads';
import { firstLine, type Outcome, type Task } from './worker.js';

export class Pool {
  readonly #size: number;
  readonly #timeoutMs: number;
  readonly #bootstrap: URL;
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();

  /** `registryUrl`: the scenario module each worker imports (see registry.ts). */
  constructor(size: number, timeoutMs: number, registryUrl: string) {
    this.#size = size;
    this.#timeoutMs = timeoutMs;
    // A worker thread does not inherit tsx's loader, so it registers tsx before importing any
    // TypeScript (tsx also applies the tsconfig `paths` of the working directory, which map
    // e.g. @flotilla/transport to its src).
    const tsx = import.meta.resolve('tsx/esm/api');
    const worker = new URL('./worker.ts', import.meta.url).href;
    const source =
      `import { register } from ${JSON.stringify(tsx)}; register();\n` +
      `const { serveStress } = await import(${JSON.stringify(worker)});\n` +
      `await serveStress(${JSON.stringify(registryUrl)});`;
    this.#bootstrap = new URL(`data:text/javascript,${encodeURIComponent(source)}`);
  }

  async runAll(tasks: readonly Task[], onOutcome: (outcome: Outcome) => void): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < tasks.length) {
        const task = tasks[next++] as Task;
        onOutcome(await this.#run(task));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#size, tasks.length) }, lane));
  }

  async close(): Promise<void> {
    await Promise.all([...this.#all].map((w) => w.terminate()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  #spawn(): Worker {
    const worker = new Worker(this.#bootstrap);
    this.#all.add(worker);
    return worker;
  }

  #run(task: Task): Promise<Outcome> {
    const worker = this.#idle.pop() ?? this.#spawn();
    return new Promise<Outcome>((resolve) => {
      const done = (outcome: Outcome, healthy: boolean): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (healthy) {
          this.#idle.push(worker);
        } else {
          this.#all.delete(worker);
          void worker.terminate();
        }
        resolve(outcome);
      };
      const onMessage = (outcome: Outcome): void => done(outcome, true);
      const onError = (err: Error): void =>
        done({ ...task, ok: false, error: `worker crashed: ${firstLine(err)}` }, false);
      const onExit = (code: number): void =>
        done({ ...task, ok: false, error: `worker exited with code ${code}` }, false);
      const timer = setTimeout(() => {
        const error = `no result after ${this.#timeoutMs / 1000} s of wall time (hung?)`;
        done({ ...task, ok: false, error }, false);
      }, this.#timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(task);
    });
  }
}
