// The two checks behind `npm run lint`, as functions over a checkout (the repository itself, or a
// copy with planted violations in the lint project's tests): ESLint with the root's
// eslint.config.js, and the boundary rules of dependency-cruiser.cjs plus cycles between features.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';
import { ESLint } from 'eslint';
import { findFeatureCycles } from './feature-cycles.mjs';

const require = createRequire(import.meta.url);
const boundaryConfig = require('./dependency-cruiser.cjs');

/** The folders whose imports the boundary rules judge (those present in the checkout). */
const productRoots = ['packages/server/src', 'packages/web/src', 'packages/fake-llm/src', 'packages/wire'];

/** A problem either check found: the rule's name, where, and what. */
export function formatProblem({ rule, file, line, message }) {
  return `${file}${line ? `:${line}` : ''}  ${rule}  ${message}`;
}

/** Lints `patterns` (default: the whole checkout) under `root` with its eslint.config.js; answers the problems. */
export async function runEslint(root, patterns = ['.']) {
  const eslint = new ESLint({ cwd: root, errorOnUnmatchedPattern: false });
  return problemsOf(root, await eslint.lintFiles(patterns));
}

/** Lints `text` as if it were the file `file` (relative to `root`, need not exist); answers the problems. */
export async function runEslintOnText(root, file, text) {
  const eslint = new ESLint({ cwd: root });
  return problemsOf(root, await eslint.lintText(text, { filePath: path.join(root, file), warnIgnored: true }));
}

function problemsOf(root, results) {
  return results.flatMap((result) =>
    result.messages.map((message) => ({
      rule: message.ruleId ?? (message.fatal ? 'parse-error' : 'eslint'),
      file: path.relative(root, result.filePath),
      line: message.line,
      message: message.message,
    })),
  );
}

/** Checks the boundary rules and cycles between features on the checkout at `root`; answers the violations. */
export async function runBoundaries(root) {
  const roots = productRoots.filter((dir) => fs.existsSync(path.join(root, dir)));
  const { options, forbidden } = boundaryConfig;
  // dependency-cruiser reads file paths relative to the working directory's baseDir.
  const { output } = await cruise(roots, { ...options, baseDir: root, validate: true, ruleSet: { forbidden } });
  const violations = output.summary.violations.map((violation) => ({
    rule: violation.rule.name,
    file: violation.from,
    message: violation.cycle?.length ? `cycle: ${[violation.from, ...violation.cycle.map((step) => step.name ?? step)].join(' -> ')}` : `imports ${violation.to}`,
  }));
  const cycles = findFeatureCycles(output.modules).map(({ features, imports }) => ({
    rule: 'no-feature-cycle',
    file: `packages/server/src/features/{${features.join(',')}}`,
    message: `features ${features.join(', ')} import each other: ${imports.map(({ from, to }) => `${short(from)} -> ${short(to)}`).join('; ')}`,
  }));
  return [...violations, ...cycles];
}

const short = (file) => file.replace(/^packages\/server\/src\/features\//, '');
