// deploy/Dockerfile and .dockerignore, checked structurally (there is no Docker
// engine here, so the image is not built); the health check commands are run.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { classifyEnvNames, deployDir, freePort, readRepoFile, repoRoot } from './support.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  base: string;
  name?: string;
  body: Instruction[];
}

/** Joins continuation lines, drops comments and splits the Dockerfile into ARGs and stages. */
function parseDockerfile(src: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = src.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op = '', rest = ''] = /^(\w+)\s+([\s\S]*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const [, image = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest.trim()) ?? [];
      const base = image.replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? '');
      stages.push({ base, name, body: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [key, value = ''] = rest.split('=');
      args.set(key!.trim(), value.trim());
    } else if (stages.length > 0) stages[stages.length - 1]!.body.push({ op: upper, args: rest.replace(/\s+/g, ' ').trim() });
  }
  return { args, stages };
}

const dockerfile = fs.readFileSync(path.join(deployDir, 'Dockerfile'), 'utf8');
const { stages } = parseDockerfile(dockerfile);
const runtime = stages[stages.length - 1]!;
const byName = new Map(stages.filter((s) => s.name).map((s) => [s.name!, s]));
const ops = (stage: Stage, op: string) => stage.body.filter((i) => i.op === op);
/** A stage's instructions including those of the stages it is built FROM. */
const lineage = (stage: Stage): Instruction[] => [...(byName.has(stage.base) ? lineage(byName.get(stage.base)!) : []), ...stage.body];

describe('Dockerfile', () => {
  it('is multi-stage on an LTS bookworm-slim Node image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages.filter((s) => !byName.has(s.base))) expect(stage.base).toMatch(/^node:(22|24)-bookworm-slim$/);
    expect(byName.has(runtime.base)).toBe(false); // the runtime starts from the bare Node image, without the toolchain
  });

  it('builds with the toolchain better-sqlite3 needs, from the lockfile', () => {
    const build = byName.get('build')!;
    const steps = lineage(build).map((i) => `${i.op} ${i.args}`);
    expect(steps.some((s) => /^RUN apt-get update .*apt-get install .*python3 make g\+\+/.test(s))).toBe(true);
    expect(steps).toContain('RUN npm ci --no-audit --no-fund');
    expect(steps.some((s) => /^RUN npm run build -w @parley\/server -w @parley\/web$/.test(s))).toBe(true);
    // Every path the build copies from the context exists (and is not excluded by .dockerignore).
    for (const copy of lineage(build).filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      for (const source of copy.args.split(' ').slice(0, -1)) expect(fs.existsSync(path.join(repoRoot, source)), source).toBe(true);
    }
  });

  it('ships only the server’s production dependencies and the built server and web app', () => {
    const deps = byName.get('deps')!;
    expect(ops(deps, 'RUN')[0]!.args).toMatch(/^npm ci --omit=dev --workspace=@parley\/server/);
    const copies = ops(runtime, 'COPY').map((i) => i.args);
    expect(copies).toEqual(
      expect.arrayContaining([
        '--from=deps /app/node_modules ./node_modules',
        '--from=build /app/packages/server/dist packages/server/dist',
        '--from=build /app/packages/web/dist packages/web/dist',
      ]),
    );
    expect(copies.every((c) => c.startsWith('--from='))).toBe(true); // nothing straight from the context
    expect(copies.join('\n')).not.toContain('fake-llm');
    // No installs in the runtime stage: no compilers, no dev tools.
    for (const run of ops(runtime, 'RUN')) expect(run.args).not.toMatch(/\b(npm (install|i|ci)|apt-get install|yarn|pnpm)\b/);
  });

  it('runs as a non-root user, with production settings, a health check and a graceful stop', () => {
    const user = ops(runtime, 'USER').at(-1)!.args;
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toMatch(/^\d+(:\d+)?$/); // numeric, so Kubernetes can verify runAsNonRoot
    const env = ops(runtime, 'ENV').map((i) => i.args).join(' ');
    expect(env).toMatch(/NODE_ENV=production/);
    expect(env).toMatch(/DATA_DIR=\/app\/data/);
    expect(ops(runtime, 'EXPOSE').map((i) => i.args)).toEqual(['8080']);
    expect(ops(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    expect(ops(runtime, 'CMD').at(-1)!.args).toBe('["node", "packages/server/dist/main.js"]');
    expect(fs.existsSync(path.join(repoRoot, 'packages/server/src/main.ts'))).toBe(true);
    expect(fs.existsSync(path.join(repoRoot, 'packages/server/src/migrate.ts'))).toBe(true);
    expect(ops(runtime, 'HEALTHCHECK')).toHaveLength(1);
    const envNames = [...env.matchAll(/(\w+)=/g)].map((m) => m[1]!).filter((n) => n !== 'NODE_ENV');
    expect(classifyEnvNames(envNames).unknown).toEqual([]);
  });

  it('.dockerignore keeps dependencies, builds, data, git and benchmarks out of the context', () => {
    const ignore = readRepoFile('.dockerignore').split('\n').map((l) => l.trim());
    for (const entry of ['**/node_modules', '**/dist', 'data', '.git', 'bench']) expect(ignore, entry).toContain(entry);
  });
});

/** Runs a health check's `node -e` script against a stand-in server answering `status` on `probePath`. */
async function runHealthCheck(script: string, probePath: string, status: number | 'down'): Promise<number | null> {
  const port = await freePort();
  let server: http.Server | undefined;
  const seen: string[] = [];
  if (status !== 'down') {
    server = http.createServer((req, res) => (seen.push(req.url!), res.writeHead(req.url === probePath ? status : 404).end()));
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
  }
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (server) {
    await new Promise((resolve) => server!.close(resolve));
    expect(seen).toEqual([probePath]);
  }
  return code;
}

describe('health check commands', () => {
  const imageCheck = JSON.parse(/HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile)![1]!) as string[];
  const compose = YAML.parse(fs.readFileSync(path.join(deployDir, 'compose.yaml'), 'utf8'), { merge: true });
  const instanceCheck = compose.services['parley-1'].healthcheck.test as string[];

  it('the image’s HEALTHCHECK passes on a 200 from /health and fails on 503 or no server', async () => {
    expect(imageCheck.slice(0, 2)).toEqual(['node', '-e']);
    expect(await runHealthCheck(imageCheck[2]!, '/health', 200)).toBe(0);
    expect(await runHealthCheck(imageCheck[2]!, '/health', 503)).toBe(1);
    expect(await runHealthCheck(imageCheck[2]!, '/health', 'down')).toBe(1);
  });

  it('the compose instances’ check asks /ready (not merely /health)', async () => {
    expect(instanceCheck.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(await runHealthCheck(instanceCheck[3]!, '/ready', 200)).toBe(0);
    expect(await runHealthCheck(instanceCheck[3]!, '/ready', 503)).toBe(1);
  });
});
