// Installs tools/lint's packages (ESLint, typescript-eslint on TypeScript 6, dependency-cruiser)
// when they are missing or older than its lock file: a fresh clone's `npm test` and `npm run lint`
// then work after the root's `npm ci` alone. Uses only Node's own modules, so it runs before them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = import.meta.dirname;

/** Runs `npm ci` in tools/lint unless its node_modules matches its lock file; answers whether the packages are there. */
export function ensureLintPackages() {
  const lock = path.join(dir, 'package-lock.json');
  const installed = path.join(dir, 'node_modules', '.package-lock.json');
  if (fs.existsSync(installed) && fs.statSync(installed).mtimeMs >= fs.statSync(lock).mtimeMs) return true;
  console.log('== installing the linter: npm ci --prefix tools/lint');
  const npm = spawnSync('npm', ['ci', '--prefix', dir, '--no-audit', '--no-fund'], { stdio: 'inherit' });
  return npm.status === 0;
}
