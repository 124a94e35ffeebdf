#!/usr/bin/env node
// `npm run lint`: ESLint over the whole checkout, then the boundary rules (dependency-cruiser and
// cycles between features). Prints each problem as `file:line  rule  message`, exits 1 if any.
import path from 'node:path';
import { ensureLintPackages } from './install.mjs';

if (!ensureLintPackages()) process.exit(1);
const { formatProblem, runBoundaries, runEslint } = await import('./checks.mjs');
const root = path.resolve(import.meta.dirname, '../..');

let problems = 0;
for (const [name, check] of [['eslint', () => runEslint(root)], ['boundaries', () => runBoundaries(root)]]) {
  const started = performance.now();
  const found = await check();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  for (const problem of found) console.log(formatProblem(problem));
  console.log(`== ${name}: ${found.length} problem${found.length === 1 ? '' : 's'} (${seconds} s)`);
  problems += found.length;
}
process.exit(problems === 0 ? 0 : 1);
