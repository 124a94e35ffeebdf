#!/usr/bin/env node
// `npm test`: builds, type-checks (the server's tests included), runs every Vitest project
// (fake model server, server on SQLite, server on PostgreSQL, web components, browser
// end-to-end, the deploy kit, the linter and boundary checker, the cluster test) and ends
// with the line `N passed, N failed`.
// PARLEY_REQUIRE_POSTGRES=1 (set by CI) makes an unreachable PostgreSQL a failure
// instead of a skipped project; PARLEY_REQUIRE_BROWSER=1 does the same for a
// missing /usr/bin/chromium, PARLEY_REQUIRE_CLUSTER=1 for the cluster test's binaries.
// PARLEY_ALSO_TEST_ON=<node binary> runs every suite again on that Node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ensureLintPackages } from '../tools/lint/install.mjs';

const root = path.resolve(import.meta.dirname, '..');
const resultsFile = path.join(root, '.test-results', 'vitest.json');
const pgUrl = new URL(process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');

function isReachable(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const projects = ['fake-llm', 'server-unit', 'server-sqlite', 'web', 'deploy', 'lint'];
const excluded = [];
// The scaled matrix: the server suite on PostgreSQL with shared state in Redis.
// CI sets PARLEY_REQUIRE_POSTGRES=1, which makes a missing service a failure rather than a skip.
const redisUrl = new URL(process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const missing = [];
if (!(await isReachable(pgUrl.hostname, pgUrl.port || 5432))) missing.push(`PostgreSQL at ${pgUrl.host}`);
if (!(await isReachable(redisUrl.hostname, redisUrl.port || 6379))) {
  missing.push(`Redis at ${redisUrl.host}`);
  excluded.push('packages/server/test/shared-state*.test.ts');
}
if (missing.length === 0) projects.push('server-postgres');
else if (process.env.PARLEY_REQUIRE_POSTGRES === '1') {
  console.error(`required services are not reachable: ${missing.join(', ')}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
} else console.warn(`not reachable: ${missing.join(', ')}; skipping the server-postgres project and the Redis tests`);

// Browser end-to-end tests need Debian's chromium; PARLEY_REQUIRE_BROWSER=1 makes its absence a failure.
const chromiumPath = '/usr/bin/chromium';
if (fs.existsSync(chromiumPath)) projects.push('e2e-browser');
else if (process.env.PARLEY_REQUIRE_BROWSER === '1') {
  console.error(`A browser is required but ${chromiumPath} is missing (apt-get install -y chromium)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
} else console.warn(`${chromiumPath} not found: skipping the e2e-browser project`);

// The cluster test runs its own nginx, PostgreSQL and Redis (Debian's binaries) in front of three
// instances; PARLEY_REQUIRE_CLUSTER=1 makes their absence a failure.
const pgBinDirs = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').map((v) => path.join('/usr/lib/postgresql', v, 'bin')) : [];
const clusterNeeds = [
  ['/usr/sbin/nginx', fs.existsSync('/usr/sbin/nginx')],
  ['/usr/lib/postgresql/*/bin/{initdb,pg_ctl}', pgBinDirs.some((bin) => fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl')))],
  ['redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].some((file) => fs.existsSync(file))],
];
const clusterMissing = clusterNeeds.filter(([, isThere]) => !isThere).map(([name]) => name);
if (clusterMissing.length === 0) projects.push('e2e-cluster');
else if (process.env.PARLEY_REQUIRE_CLUSTER === '1') {
  console.error(`The cluster test is required but ${clusterMissing.join(', ')} missing (apt-get install -y nginx postgresql redis-server)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
} else console.warn(`${clusterMissing.join(', ')} not found: skipping the e2e-cluster project`);

// The lint project needs tools/lint's own packages (typescript-eslint on TypeScript 6, apart from
// the build's TypeScript 7): installed here when missing, so a fresh clone needs only `npm ci`.
if (!ensureLintPackages()) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// The build compiles the product; the type check also covers the server's tests. A test that does not
// type-check still runs (Vitest strips types), so its failure is counted as one failed test.
const typecheck = spawnSync('npm', ['run', 'typecheck', '--silent'], { cwd: root, stdio: 'inherit' });
const isTypecheckFailed = typecheck.status !== 0;

/**
 * Runs Vitest's `projects` on the Node binary `node` (first on the PATH too, so the processes tests spawn
 * run on it); answers its counts (a run that reported nothing counts as one failure).
 */
function runVitest(node, projects, excluded, resultsFile) {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.rmSync(resultsFile, { force: true });
  const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [vitest, 'run', ...projects.flatMap((p) => ['--project', p]), ...excluded.flatMap((glob) => ['--exclude', glob]), '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)];
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  const run = spawnSync(node, args, { cwd: root, stdio: 'inherit', env });
  if (!fs.existsSync(resultsFile)) return { passed: 0, failed: 1, skipped: 0 };
  const report = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
  const counts = { passed: report.numPassedTests, failed: report.numFailedTests, skipped: report.numPendingTests + report.numTodoTests };
  if (run.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

// PARLEY_ALSO_TEST_ON=<a node binary> (CI: Node 24, the Docker image's) runs every suite on that Node as
// well: the embedded SQLite driver is a native addon whose safety differs between Node versions, and
// the runtime under HTTP, streams and child processes changes too. The cluster test, the longest, runs
// once: on that Node, the one production runs, when it is given.
const otherNode = process.env.PARLEY_ALSO_TEST_ON;
const onceOnOtherNode = otherNode ? projects.filter((project) => project === 'e2e-cluster') : [];
const firstProjects = projects.filter((project) => !onceOnOtherNode.includes(project));
const runs = [{ node: process.version, projects: firstProjects, ...runVitest(process.execPath, firstProjects, excluded, resultsFile) }];
if (otherNode) {
  const version = spawnSync(otherNode, ['--version'], { encoding: 'utf8' }).stdout?.trim() || otherNode;
  console.log(`\n== again on Node ${version}: ${projects.join(', ')}`);
  runs.push({ node: version, projects, ...runVitest(otherNode, projects, excluded, resultsFile.replace(/\.json$/, '-other-node.json')) });
}
const total = (key) => runs.reduce((sum, run) => sum + run[key], 0);
console.log('');
if (isTypecheckFailed) console.log('npm run typecheck: failed (counted as 1 failed test)');
for (const run of runs) console.log(`Node ${run.node}: ${run.projects.join(', ')}: ${run.passed} passed, ${run.failed} failed`);
const [passed, failed, skipped] = [total('passed'), total('failed') + (isTypecheckFailed ? 1 : 0), total('skipped')];
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 ? 0 : 1);
