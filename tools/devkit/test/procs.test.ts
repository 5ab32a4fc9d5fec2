import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { procCpuMicros, procStat } from '../src/bench/procstat.js';
import { isAlive, track, waitExit, waitForLine } from '../src/proc/child.js';
import { Procs, runToEnd, waitForOutput } from '../src/proc/procs.js';

const node = (code: string): [string, string[]] => [process.execPath, ['-e', code]];

const procs = new Procs();
afterEach(() => procs.killAll());

describe('Procs', () => {
  it('captures output and the exit, and waits for a line', async () => {
    const proc = procs.spawn(
      'server',
      ...node(`console.log('listening ws://127.0.0.1:1'); setTimeout(() => {}, 10000);`),
    );
    const url = await waitForOutput(proc, (out) => /^listening (\S+)$/m.exec(out)?.[1], {
      what: 'its listening line',
      timeoutMs: 10_000,
    });
    expect(url).toBe('ws://127.0.0.1:1');
    expect(proc.running).toBe(true);
    expect(isAlive(proc.pid)).toBe(true);
    const exit = await procs.stop(proc);
    expect(exit).toMatchObject({ code: null, signal: 'SIGTERM', timedOut: false });
    expect(proc.running).toBe(false);
  });

  it('finds a line printed just before the exit, and says so when there is none', async () => {
    const quick = procs.spawn('quick', ...node(`console.log('ready 42')`));
    await expect(
      waitForOutput(quick, (out) => /ready (\d+)/.exec(out)?.[1], { what: 'x', timeoutMs: 5000 }),
    ).resolves.toBe('42');
    const silent = procs.spawn('silent', ...node(`console.error('boom'); process.exit(3)`));
    await expect(
      waitForOutput(silent, () => undefined, { what: 'a line', timeoutMs: 5000 }),
    ).rejects.toThrow(/silent exited before printing a line:[\s\S]*boom/);
  });

  it('kills past the limit, and killAll leaves nothing running', async () => {
    const slow = procs.spawn('slow', ...node('setTimeout(() => {}, 60000)'), { limitMs: 50 });
    expect(await slow.exited).toMatchObject({ signal: 'SIGKILL', timedOut: true });
    const stuck = procs.spawn('stuck', ...node('setTimeout(() => {}, 60000)'));
    expect(procs.all).toHaveLength(2);
    await procs.killAll();
    expect(stuck.running).toBe(false);
    expect(isAlive(stuck.pid)).toBe(false);
    expect(procs.all).toHaveLength(0);
  });

  it('runToEnd resolves with exit and output whatever the code', async () => {
    const r = await runToEnd(
      ...node(`process.stdout.write('out'); process.stderr.write('err'); process.exit(2)`),
    );
    expect(r).toMatchObject({ code: 2, stdout: 'out', stderr: 'err', timedOut: false });
  });
});

describe('child', () => {
  it('waitForLine reads stdout until the pattern, waitExit ends it', async () => {
    const child = track(
      spawn(...node(`console.log('port 1234'); setTimeout(() => {}, 60000)`), {
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    );
    const match = await waitForLine(child, /^port (\d+)$/m, 10_000);
    expect(match[1]).toBe('1234');
    // Linux /proc: a live process has a CPU time; a finished one has none.
    if (process.platform === 'linux') {
      expect(procStat(child.pid)?.cpuMicros).toBeGreaterThanOrEqual(0);
    }
    child.kill('SIGTERM');
    await waitExit(child, 5000);
    expect(procCpuMicros(child.pid)).toBeNaN();
  });

  it('waitForLine rejects when the child exits first', async () => {
    const child = spawn(...node('process.exit(1)'), { stdio: ['ignore', 'pipe', 'inherit'] });
    await expect(waitForLine(child, /never/, 10_000, 'the child')).rejects.toThrow(
      /the child exited \(1\) before printing/,
    );
  });
});
