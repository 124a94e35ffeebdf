// ESLint (flat config) with typescript-eslint's recommended rules. The packages, TypeScript 6 among
// them, live in tools/lint (installed by `npm ci --prefix tools/lint`) apart from the build's
// TypeScript 7. `npm run lint` runs this and the boundary checker; so does `npm test`.
// Type-aware rules are off: they cost ~40-55 s on 2 cores against ~7 s for the whole tree without.
import { defineConfig, eslintComments, globals, js, tseslint } from './tools/lint/deps.js';

/** Kysely query builders: SQL lives in the owning `*.repo.ts` or under platform/db/. */
const queryBuilders = ['selectFrom', 'insertInto', 'updateTable', 'deleteFrom'];
const sqlOutsideRepo = 'SQL lives in the owning feature\'s *.repo.ts (or platform/db/): call that repo or its service.';

export default defineConfig(
  { ignores: ['**/node_modules/', '**/dist/', 'bench/results/', '.test-results/'] },
  {
    files: ['**/*.{ts,tsx,mts,cts,js,mjs,cjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    plugins: { '@eslint-community/eslint-comments': eslintComments },
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The style allows `any` only with a comment saying why: that comment is the
      // `eslint-disable-next-line @typescript-eslint/no-explicit-any -- <why>` directive.
      '@typescript-eslint/no-explicit-any': 'error',
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: ['eslint-enable'] }],
      // A leading underscore marks a binding kept on purpose, e.g. `{ id: _id, ...rest }` to drop a key.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    files: ['packages/web/src/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Query builders and raw `sql` only in a repo, under platform/db/, or in a test next to the code.
    files: ['packages/server/src/**/*.{ts,tsx}'],
    ignores: ['**/*.repo.ts', 'packages/server/src/platform/db/**', '**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...queryBuilders.map((name) => ({
          selector: `CallExpression > MemberExpression.callee[property.name='${name}']`,
          message: `${name}() outside a repo: ${sqlOutsideRepo}`,
        })),
      ],
      'no-restricted-imports': ['error', { paths: [{ name: 'kysely', importNames: ['sql'], message: `raw sql outside a repo: ${sqlOutsideRepo}` }] }],
    },
  },
);
