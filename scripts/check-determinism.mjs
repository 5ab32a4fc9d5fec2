#!/usr/bin/env node
// Bans sources of nondeterminism in packages/*/src/**/*.ts (see DESIGN.md, "Virtual time").
// Only the real Clock/Random implementations may use them, and each such line must say so
// with a trailing comment: `// determinism: allowed (<reason>)`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

export const BANNED = [
  { name: 'Date.now(', re: /\bDate\s*\.\s*now\s*\(/ },
  { name: 'new Date(', re: /\bnew\s+Date\s*\(/ },
  { name: 'performance.now(', re: /\bperformance\s*\.\s*now\s*\(/ },
  { name: 'Math.random(', re: /\bMath\s*\.\s*random\s*\(/ },
  // Global timer calls only: `clock.setTimeout(` is fine, and so is declaring a method or
  // function of that name (`setTimeout(cb: () => void, ms: number): TimerHandle {`).
  { name: 'setTimeout(', re: /(?<![.\w$])setTimeout\s*\(/g, call: true },
  { name: 'setInterval(', re: /(?<![.\w$])setInterval\s*\(/g, call: true },
  { name: 'setImmediate(', re: /(?<![.\w$])setImmediate\s*\(/g, call: true },
  {
    name: 'globalThis timer',
    re: /\b(?:globalThis|global)\s*\.\s*(?:setTimeout|setInterval|setImmediate)\s*\(/,
  },
];

// True when the match at `m` opens a declaration rather than a call: preceded by `function`,
// or its parameter list closes on this line and is followed by a return type or a body.
function isDeclaration(code, m) {
  const before = code.slice(0, m.index);
  if (/\bfunction\s*\*?\s*$/.test(before)) return true;
  const modifiers =
    /^\s*(?:(?:public|private|protected|static|async|override|abstract|declare)\s+)*$/;
  if (!modifiers.test(before)) return false;
  let depth = 0;
  for (let i = m.index + m[0].length - 1; i < code.length; i++) {
    if (code[i] === '(') depth++;
    else if (code[i] === ')' && --depth === 0) return /^\s*[:{]/.test(code.slice(i + 1));
  }
  return false;
}

function violates(code, { re, call }) {
  if (!call) return re.test(code);
  for (const m of code.matchAll(re)) if (!isDeclaration(code, m)) return true;
  return false;
}

const ALLOW = /\/\/\s*determinism:\s*allowed\s*\([^)]+\)\s*$/;

/** Returns the violations in one file's text as { line, text, rule }. */
export function scan(text) {
  const out = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (ALLOW.test(line)) continue;
    const code = stripComment(line);
    for (const rule of BANNED) {
      if (violates(code, rule)) {
        out.push({ line: i + 1, text: line.trim(), rule: rule.name });
        break;
      }
    }
  }
  return out;
}

// Drops a trailing `//` comment and whole-line `*` / `/*` comment lines so prose that
// mentions Date.now() does not count. Strings containing `//` are rare enough to ignore.
function stripComment(line) {
  const t = line.trimStart();
  if (t.startsWith('*') || t.startsWith('/*') || t.startsWith('//')) return '';
  const idx = line.indexOf('//');
  return idx >= 0 ? line.slice(0, idx) : line;
}

function walk(dir, acc) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return acc;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, acc);
    else if (name.endsWith('.ts')) acc.push(p);
  }
  return acc;
}

export function sourceFiles(base = root) {
  const files = [];
  const pkgs = join(base, 'packages');
  let names = [];
  try {
    names = readdirSync(pkgs);
  } catch {
    return files;
  }
  for (const pkg of names.sort()) walk(join(pkgs, pkg, 'src'), files);
  return files.sort();
}

function main() {
  const files = sourceFiles();
  let count = 0;
  for (const file of files) {
    for (const v of scan(readFileSync(file, 'utf8'))) {
      console.log(`${relative(root, file)}:${v.line}: ${v.text}`);
      count++;
    }
  }
  if (count > 0) {
    console.log(
      `determinism: ${count} violation(s). Inject a Clock/Random instead, or mark the line ` +
        '`// determinism: allowed (<reason>)`.',
    );
    process.exit(1);
  }
  console.log(`determinism: ok (${files.length} files)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
