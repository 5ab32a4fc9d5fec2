import { LabError } from './errors.js';

/** Client `cli`'s `j`-th value in GenericTest and the append tests: `"x <cli> <j> y"`. */
export function appendElement(cli: number, j: number): string {
  return `x ${cli} ${j} y`;
}

/** Client `clnt`'s `count` elements each occur exactly once in `v`, in increasing order. */
export function checkClntAppends(clnt: number, v: string, count: number): void {
  let lastoff = -1;
  for (let j = 0; j < count; j++) {
    const wanted = appendElement(clnt, j);
    const off = v.indexOf(wanted);
    if (off < 0) {
      throw new LabError(`${clnt} missing element ${wanted} in Append result ${preview(v)}`);
    }
    if (v.lastIndexOf(wanted) !== off) {
      throw new LabError(`duplicate element ${wanted} in Append result`);
    }
    if (off <= lastoff) throw new LabError(`wrong order for element ${wanted} in Append result`);
    lastoff = off;
  }
}

/** For every client i, its `counts[i]` elements occur exactly once in `v`, in order. */
export function checkConcurrentAppends(v: string, counts: readonly number[]): void {
  counts.forEach((count, i) => {
    checkClntAppends(i, v, count);
  });
}

/** A long value shortened for a failure message. */
export function preview(value: string): string {
  if (value.length <= 300) return JSON.stringify(value);
  const head = JSON.stringify(value.slice(0, 150));
  return `${head}…(${value.length} chars)…${JSON.stringify(value.slice(-150))}`;
}

/** The lab's `check(cfg, t, ck, key, value)`: a Get through `clerk` must return `value` exactly. */
export async function checkGet(
  clerk: { get(key: string): Promise<string> },
  key: string,
  value: string,
): Promise<void> {
  const v = await clerk.get(key);
  if (v !== value) {
    throw new LabError(`Get(${key}): expected:\n${preview(value)}\nreceived:\n${preview(v)}`);
  }
}
