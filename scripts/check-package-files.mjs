#!/usr/bin/env node
// Every package ships the repository's LICENSE (npm packs a LICENSE only from the package's
// own folder) and its CHANGELOG.md (written by `changeset version`), and names both in `files`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const license = readFileSync(join(root, 'LICENSE'), 'utf8');
const problems = [];
for (const name of readdirSync(join(root, 'packages'))) {
  const dir = join(root, 'packages', name);
  const manifestPath = join(dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  const files = manifest.files ?? [];
  for (const file of ['LICENSE', 'CHANGELOG.md']) {
    if (!existsSync(join(dir, file))) problems.push(`packages/${name}: no ${file}`);
    if (!files.includes(file)) problems.push(`packages/${name}: "files" does not list ${file}`);
  }
  const own = join(dir, 'LICENSE');
  if (existsSync(own) && readFileSync(own, 'utf8') !== license) {
    problems.push(`packages/${name}/LICENSE differs from the repository's LICENSE`);
  }
}
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
