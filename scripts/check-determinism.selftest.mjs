// Vitest-free self-check of scripts/check-determinism.mjs: `node scripts/check-determinism.selftest.mjs`.
import assert from 'node:assert/strict';
import { scan } from './check-determinism.mjs';

const bad = [
  'const t = Date.now();',
  'const d = new Date();',
  'const p = performance.now();',
  'const r = Math.random();',
  'setTimeout(() => {}, 10);',
  'const h = setInterval(tick, 5);',
  'await new Promise((r) => setImmediate(r));',
  'x = Date . now ( );',
  'const id = setTimeout(() => done(), 5);',
  'return new Promise((resolve) => setTimeout(resolve, ms));',
  'queueMicrotask(() => setImmediate(next));',
  'globalThis.setTimeout(fire, 1);',
  'const t = ready ? setTimeout(fire, 1) : undefined;',
];
const good = [
  'clock.setTimeout(() => {}, 10);',
  'this.clock.setInterval(tick, 5);',
  'const t = clock.now();',
  'const r = random.next();',
  'const d = Date.now(); // determinism: allowed (real clock)',
  'setTimeout(fire, ms); // determinism: allowed (RealClock)',
  '// Date.now() is banned here',
  ' * uses Math.random() in production',
  'function mySetTimeout() {}',
  'const parsed = new DateFormat();',
  '  setTimeout(callback: () => void, delayMs: number): TimerHandle;',
  '  setTimeout(callback: () => void, delayMs: number): TimerHandle {',
  '  override setInterval(cb, ms) {',
  'export function setImmediate(fn: () => void): void {',
];
for (const line of bad) assert.equal(scan(line).length, 1, `should flag: ${line}`);
for (const line of good) assert.equal(scan(line).length, 0, `should pass: ${line}`);
assert.deepEqual(
  scan('a\nb\nconst x = Math.random();\n').map((v) => v.line),
  [3],
);
assert.equal(
  scan('Date.now(); // determinism: allowed ()').length,
  1,
  'empty reason is not a reason',
);
console.log(`check-determinism selftest: ok (${bad.length + good.length + 2} cases)`);
