/**
 * Supervisor against small `node -e` children, in real time. Every wait has a deadline; the
 * afterEach stopAll()s and then checks by pid that nothing it started is alive.
 */
import { poll } from '@flotilla/devkit/time/within';
import { afterEach, describe, expect, it } from 'vitest';
import { ChaosError, type ProcessExit, Supervisor } from '../src/index.js';

/** Prints "ready <pid>", then one "tick" line every 20 ms, forever. */
const TICKER = {
  command: process.execPath,
  args: ['-e', 'console.log("ready " + process.pid); setInterval(() => console.log("tick"), 20);'],
};

let sup: Supervisor;
const pids: number[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function spawn(name: string, spec = TICKER): number {
  const pid = sup.spawn(name, spec);
  pids.push(pid);
  return pid;
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    return err instanceof ChaosError ? err.code : String(err);
  }
  return undefined;
}

afterEach(async () => {
  await sup.stopAll();
  for (const pid of pids.splice(0)) expect(alive(pid)).toBe(false);
});

describe('Supervisor', () => {
  it('spawns a named process, reports its pid and waits for its output', async () => {
    sup = new Supervisor();
    const pid = spawn('a');
    expect(sup.pid('a')).toBe(pid);
    const match = await sup.waitForOutput('a', /^ready (\d+)$/, 10_000);
    expect(Number(match[1])).toBe(pid);
    expect(sup.state('a')).toBe('running');
    expect(sup.output('a')[0]).toEqual({ stream: 'stdout', text: `ready ${pid}` });
  });

  it('times out waitForOutput with ERR_WAIT_TIMEOUT', async () => {
    sup = new Supervisor();
    spawn('a');
    await expect(sup.waitForOutput('a', /never/, 200)).rejects.toMatchObject({
      code: 'ERR_WAIT_TIMEOUT',
    });
  });

  it('pauses and resumes, refusing the wrong state with ERR_PROCESS_STATE', async () => {
    sup = new Supervisor();
    spawn('a');
    await sup.waitForOutput('a', /^ready/, 10_000);
    expect(codeOf(() => sup.resume('a'))).toBe('ERR_PROCESS_STATE');
    sup.pause('a');
    expect(sup.state('a')).toBe('paused');
    expect(codeOf(() => sup.pause('a'))).toBe('ERR_PROCESS_STATE');
    // Stopped: no tick is printed for a while (the pipe may still hold one written before).
    const frozen = sup.output('a').length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sup.output('a').length).toBeLessThanOrEqual(frozen + 1);
    sup.resume('a');
    expect(sup.state('a')).toBe('running');
    await poll('ticks again', () => (sup.output('a').length > frozen + 2 ? true : undefined), {
      timeoutMs: 5000,
    });
  });

  it('reports a kill as expected and an exit of the process`s own as unexpected', async () => {
    sup = new Supervisor();
    const exits: ProcessExit[] = [];
    sup.onExit((exit) => exits.push(exit));
    spawn('killed');
    spawn('crashes', { command: process.execPath, args: ['-e', 'process.exit(3)'] });
    const killed = await sup.kill('killed');
    expect(killed).toMatchObject({ name: 'killed', signal: 'SIGKILL', expected: true });
    const crashed = await sup.exited('crashes');
    expect(crashed).toMatchObject({ name: 'crashes', code: 3, expected: false });
    await poll('2 exits', () => (exits.length === 2 ? true : undefined), { timeoutMs: 5000 });
    expect(exits.map((e) => [e.name, e.expected]).sort()).toEqual([
      ['crashes', false],
      ['killed', true],
    ]);
    expect(codeOf(() => sup.kill('killed'))).toBe('ERR_PROCESS_STATE');
  });

  it('terminates with SIGTERM, and SIGKILLs a process that ignores it after the timeout', async () => {
    sup = new Supervisor();
    spawn('polite');
    spawn('stubborn', {
      command: process.execPath,
      args: [
        '-e',
        'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1000);',
      ],
    });
    await sup.waitForOutput('stubborn', /^ready$/, 10_000);
    await sup.waitForOutput('polite', /^ready/, 10_000);
    expect(await sup.terminate('polite', 5000)).toMatchObject({
      signal: 'SIGTERM',
      expected: true,
    });
    expect(await sup.terminate('stubborn', 200)).toMatchObject({
      signal: 'SIGKILL',
      expected: true,
    });
  });

  it('restarts with the same command as a new generation', async () => {
    sup = new Supervisor();
    const first = spawn('a');
    await sup.waitForOutput('a', /^ready/, 10_000);
    const second = await sup.restart('a');
    pids.push(second);
    expect(second).not.toBe(first);
    const match = await sup.waitForOutput('a', /^ready (\d+)$/, 10_000);
    expect(Number(match[1])).toBe(second);
    expect(await sup.kill('a')).toMatchObject({ generation: 1 });
  });

  it('throws ERR_UNKNOWN_PROCESS, ERR_SPAWN and ERR_PROCESS_STATE for a running name', () => {
    sup = new Supervisor();
    expect(codeOf(() => sup.pid('nobody'))).toBe('ERR_UNKNOWN_PROCESS');
    expect(codeOf(() => sup.spawn('x', { command: '/nonexistent/command' }))).toBe('ERR_SPAWN');
    spawn('a');
    expect(codeOf(() => sup.spawn('a', TICKER))).toBe('ERR_PROCESS_STATE');
  });

  it('stopAll ends running and paused processes alike and leaves no pid alive', async () => {
    sup = new Supervisor();
    const before = process.listenerCount('exit');
    const a = spawn('a');
    const b = spawn('b');
    expect(process.listenerCount('exit')).toBe(before + 1);
    await sup.waitForOutput('b', /^ready/, 10_000);
    sup.pause('b');
    await sup.stopAll();
    expect(alive(a)).toBe(false);
    expect(alive(b)).toBe(false);
    expect(sup.state('b')).toBe('exited');
    expect((await sup.exited('b')).expected).toBe(true);
    // The exit hook is there only while a child lives.
    expect(process.listenerCount('exit')).toBe(before);
  });
});
