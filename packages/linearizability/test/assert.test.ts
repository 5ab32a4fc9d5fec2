import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertLinearizable, kvModel, NotLinearizableError, registerModel } from '../src/index.js';
import { writeStorm } from './support/pathological.js';

describe('assertLinearizable', () => {
  it('returns the result for a linearizable history', () => {
    const ops = [
      { clientId: 0, input: { op: 'get' as const, key: 'k' }, call: 0, output: '', return: 1 },
    ];
    expect(assertLinearizable(kvModel, ops).outcome).toBe('ok');
  });

  it('throws NotLinearizableError and writes the visualization for an illegal one', () => {
    const ops = [
      { clientId: 0, input: { op: 'put' as const, key: 'k', value: 'v' }, call: 0, return: 1 },
      { clientId: 1, input: { op: 'get' as const, key: 'k' }, call: 2, output: '', return: 3 },
    ];
    let error: unknown;
    try {
      assertLinearizable(kvModel, ops);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(NotLinearizableError);
    const e = error as NotLinearizableError;
    expect(e.code).toBe('ERR_NOT_LINEARIZABLE');
    expect(e.message).toMatch(/history is not linearizable/);
    expect(e.message).toContain(`visualization: ${e.htmlPath}`);
    expect(existsSync(e.htmlPath as string)).toBe(true);
    expect(readFileSync(e.htmlPath as string, 'utf8')).toContain('Where it breaks');
    expect(() => assertLinearizable(kvModel, ops, { htmlPath: false })).toThrow(
      expect.objectContaining({ htmlPath: undefined }),
    );
  });

  it('passes on unknown, as the lab does, and says so', () => {
    const lines: string[] = [];
    const result = assertLinearizable(registerModel(0), writeStorm(40), {
      timeLimitMs: 50,
      onUnknown: (line) => lines.push(line),
    });
    expect(result.outcome).toBe('unknown');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/timed out, assuming history is ok/);
  });
});
