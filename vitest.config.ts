import { defineConfig } from 'vitest/config';

// One runner, several projects: the fake model server, the server's unit tests,
// and the server's HTTP suite on each database (PARLEY_TEST_DB picks the dialect).
const serverTests = ['packages/server/test/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'fake-llm', include: ['packages/fake-llm/test/**/*.test.ts'] } },
      { extends: true, test: { name: 'server-unit', include: ['packages/server/src/**/*.test.ts'] } },
      { extends: true, test: { name: 'server-sqlite', include: serverTests, env: { PARLEY_TEST_DB: 'sqlite' } } },
      { extends: true, test: { name: 'server-postgres', include: serverTests, env: { PARLEY_TEST_DB: 'postgres' } } },
      // The web app's component tests, in a simulated DOM.
      { extends: true, test: { name: 'web', include: ['packages/web/src/**/*.test.{ts,tsx}'], environment: 'happy-dom' } },
      // Browser end-to-end tests: one real server and Chromium per file, files one after another.
      {
        extends: true,
        test: { name: 'e2e-browser', include: ['e2e/browser/**/*.test.ts'], testTimeout: 90_000, hookTimeout: 120_000, fileParallelism: false },
      },
      // The deploy kit (deploy/): Dockerfile, compose, nginx and the Helm chart, checked without Docker or a cluster.
      { extends: true, test: { name: 'deploy', include: ['deploy/test/**/*.test.ts'] } },
      // The linter and the boundary checker (tools/lint): pass on the checkout, fail on planted violations.
      { extends: true, test: { name: 'lint', include: ['tools/lint/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      // The cluster test: 3 instances behind nginx with private PostgreSQL, Redis and s3rver, under faults.
      { extends: true, test: { name: 'e2e-cluster', include: ['e2e/cluster/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 120_000 } },
    ],
  },
});
