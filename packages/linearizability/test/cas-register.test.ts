import { describe, expect, it } from 'vitest';
import {
  type CasRegisterInput,
  type CasRegisterOutput,
  casRegisterModel,
  checkOperations,
  type Operation,
} from '../src/index.js';

type Op = Operation<CasRegisterInput, CasRegisterOutput>;
const model = casRegisterModel(0);
const cas = (
  clientId: number,
  from: number,
  to: number,
  call: number,
  ret?: number,
  ok?: boolean,
): Op => ({
  clientId,
  input: { op: 'cas', from, to },
  call,
  ...(ret === undefined ? {} : { return: ret, output: ok }),
});
const read = (clientId: number, output: number, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'read' },
  call,
  output,
  return: ret,
});
const write = (clientId: number, value: number, call: number, ret: number): Op => ({
  clientId,
  input: { op: 'write', value },
  call,
  return: ret,
});

describe('CAS register model', () => {
  it('a sequence of successful and failed compare-and-sets', () => {
    const ops = [
      cas(0, 0, 1, 0, 1, true),
      cas(0, 0, 2, 2, 3, false),
      cas(0, 1, 2, 4, 5, true),
      read(0, 2, 6, 7),
    ];
    expect(checkOperations(model, ops).outcome).toBe('ok');
  });

  it('lost update: two concurrent cas(0 → x) cannot both succeed', () => {
    const ops = [cas(0, 0, 1, 0, 10, true), cas(1, 0, 2, 0, 10, true)];
    expect(checkOperations(model, ops).outcome).toBe('illegal');
  });

  it('two concurrent cas(0 → x): exactly one wins, and reads see the winner', () => {
    const ops = [cas(0, 0, 1, 0, 10, false), cas(1, 0, 2, 0, 10, true), read(2, 2, 20, 30)];
    expect(checkOperations(model, ops).outcome).toBe('ok');
    const wrong = [cas(0, 0, 1, 0, 10, false), cas(1, 0, 2, 0, 10, true), read(2, 1, 20, 30)];
    expect(checkOperations(model, wrong).outcome).toBe('illegal');
  });

  it('a cas that reports failure although the value matched is illegal', () => {
    expect(checkOperations(model, [cas(0, 0, 1, 0, 1, false)]).outcome).toBe('illegal');
    expect(checkOperations(model, [write(0, 5, 0, 1), cas(0, 5, 1, 2, 3, false)]).outcome).toBe(
      'illegal',
    );
  });

  it('a cas with unknown outcome may have swapped, or not', () => {
    const unknown = cas(0, 0, 1, 0);
    expect(checkOperations(model, [unknown, read(1, 1, 10, 20)]).outcome).toBe('ok');
    expect(checkOperations(model, [unknown, read(1, 0, 10, 20)]).outcome).toBe('ok');
    expect(checkOperations(model, [unknown, read(1, 0, 10, 20), read(1, 1, 30, 40)]).outcome).toBe(
      'ok',
    );
    expect(checkOperations(model, [unknown, read(1, 1, 10, 20), read(1, 0, 30, 40)]).outcome).toBe(
      'illegal',
    );
  });

  it('a cas with unknown outcome after the value moved on cannot swap', () => {
    // The register holds 3 before the cas is called, and nothing sets it back to 0.
    const ops = [write(1, 3, 0, 1), cas(0, 0, 1, 2), read(1, 1, 10, 20)];
    expect(checkOperations(model, ops).outcome).toBe('illegal');
  });

  it('rejects a malformed cas', () => {
    const bad = {
      clientId: 0,
      input: { op: 'cas', from: 0 },
      call: 0,
      output: true,
      return: 1,
    } as unknown as Op;
    expect(() => checkOperations(model, [bad])).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_HISTORY', index: 0 }),
    );
    const noBool = {
      clientId: 0,
      input: { op: 'cas', from: 0, to: 1 },
      call: 0,
      output: 1,
      return: 1,
    } as unknown as Op;
    expect(() => checkOperations(model, [noBool])).toThrow(/true or false/);
  });

  it('the README example: a null initial value, and a write that gave up but did happen', () => {
    const model = casRegisterModel<number | null>(null);
    const ops = [
      { clientId: 0, input: { op: 'read' as const }, call: 0, output: null, return: 2 },
      { clientId: 1, input: { op: 'write' as const, value: 3 }, call: 1, gaveUp: 9 },
      {
        clientId: 2,
        input: { op: 'cas' as const, from: 3, to: 4 },
        call: 10,
        output: true,
        return: 12,
      },
      { clientId: 0, input: { op: 'read' as const }, call: 13, output: 4, return: 14 },
    ];
    expect(checkOperations(model, ops).outcome).toBe('ok');
    // Had it never happened, the cas could not have swapped.
    expect(
      checkOperations(
        model,
        ops.filter((op) => op.clientId !== 1),
      ).outcome,
    ).toBe('illegal');
  });
});
