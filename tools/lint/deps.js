// The linter's packages, resolved from tools/lint/node_modules: the root's eslint.config.js
// imports them from here because the root installs TypeScript 7 (no compiler API) while
// typescript-eslint needs TypeScript 6's. `npm ci --prefix tools/lint` installs them.
export { default as eslintComments } from '@eslint-community/eslint-plugin-eslint-comments';
export { default as js } from '@eslint/js';
export { defineConfig } from 'eslint/config';
export { default as globals } from 'globals';
export { default as tseslint } from 'typescript-eslint';
