/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML and JSON documents of arbitrary shape, read field by field */
// deploy/compose.yaml, checked as data (there is no Docker engine here to run it).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { loadConfig } from '../../packages/server/src/config.js';
import { classifyEnvNames, deployDir, directives, notePending, parseNginx } from './support.js';

const source = fs.readFileSync(path.join(deployDir, 'compose.yaml'), 'utf8');
// Compose reads YAML merge keys (`<<: *anchor`); the shared instance settings use them.
const doc = YAML.parseDocument(source, { merge: true, uniqueKeys: true });
const compose = doc.toJS() as { services: Record<string, Record<string, any>>; volumes: Record<string, unknown> };
const services = compose.services;
const instances = ['parley-1', 'parley-2', 'parley-3'];
const parleyImage = services['parley-1']!.image as string;
const metricsPort = Number(services['parley-1']!.environment.METRICS_PORT);

/** Compose's variable substitution (`${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `$$`) over `vars`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g, (all, name?: string, op?: string, rest?: string) => {
    if (all === '$$') return '$';
    const given = vars[name!];
    if (given) return given;
    if (op === '?') throw new Error(`compose would refuse to start: ${rest}`);
    return op === '-' ? rest! : '';
  });
}
/** promtool (Debian's `prometheus` package); required when PARLEY_REQUIRE_PROMTOOL=1, as in observability.test.ts. */
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasPromtool && process.env.PARLEY_REQUIRE_PROMTOOL === '1') throw new Error('promtool is required (PARLEY_REQUIRE_PROMTOOL=1): apt-get install -y prometheus');
const sampleEnvFile = { WEBUI_SECRET_KEY: 'f'.repeat(64), POSTGRES_PASSWORD: 'pw', MINIO_ROOT_PASSWORD: 'secret' };

describe('compose.yaml', () => {
  it('parses without errors or duplicate keys', () => {
    expect(doc.errors).toEqual([]);
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining([...instances, 'nginx', 'migrate', 'postgres', 'redis', 'minio', 'minio-init']),
    );
  });

  it('runs three identical Parley instances from one image', () => {
    const [first, ...rest] = instances.map((name) => services[name]!);
    expect(parleyImage).toMatch(/parley/);
    for (const other of rest) expect(other).toEqual(first);
    expect(first!.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
    expect(fs.existsSync(path.join(deployDir, first!.build.context, first!.build.dockerfile))).toBe(true);
    expect(first!.restart).toBe('unless-stopped');
  });

  it('migrates once in a job that the instances wait for; instances never migrate', () => {
    const migrate = services.migrate!;
    expect(migrate.image).toBe(parleyImage);
    expect(migrate.command).toEqual(['node', 'packages/server/dist/migrate.js']);
    expect(migrate.restart).toBe('no');
    expect(migrate.environment.ENABLE_DB_MIGRATIONS).toBeUndefined();
    expect(migrate.environment.DATABASE_URL).toBe(services['parley-1']!.environment.DATABASE_URL);
    expect(migrate.depends_on.postgres.condition).toBe('service_healthy');
    for (const name of instances) {
      const service = services[name]!;
      expect(service.environment.ENABLE_DB_MIGRATIONS).toBe('false');
      expect(service.depends_on.migrate.condition).toBe('service_completed_successfully');
      expect(service.depends_on['minio-init'].condition).toBe('service_completed_successfully');
      expect(service.depends_on.postgres.condition).toBe('service_healthy');
      expect(service.depends_on.redis.condition).toBe('service_healthy');
    }
  });

  it('puts nginx in front of exactly the three instances, once they are ready', () => {
    const nginx = services.nginx!;
    for (const name of instances) expect(nginx.depends_on[name].condition).toBe('service_healthy');
    expect(nginx.volumes).toContain('./nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(nginx.ports[0]).toMatch(/:8080$/);
    // The upstream in nginx.conf names the same services, on Parley's port.
    const conf = parseNginx(fs.readFileSync(path.join(deployDir, 'nginx.conf'), 'utf8'));
    const upstream = directives(directives(conf, 'http')[0]!.block, 'upstream')[0]!;
    expect(directives(upstream.block, 'server').map((d) => d.args[0])).toEqual(instances.map((name) => `${name}:8080`));
    expect(directives(directives(directives(conf, 'http')[0]!.block, 'server')[0]!.block, 'listen')[0]!.args[0]).toBe('8080');
  });

  it('has health checks: instances on /ready, and every backing service', () => {
    const instance = services['parley-1']!;
    expect(instance.healthcheck.test.join(' ')).toContain('/ready');
    for (const name of ['nginx', 'postgres', 'redis', 'minio']) expect(services[name]!.healthcheck?.test, name).toBeDefined();
    expect(services.migrate!.healthcheck).toEqual({ disable: true });
  });

  it('backs the instances with PostgreSQL 16, Redis 7 and an S3 store whose bucket an init job creates', () => {
    expect(services.postgres!.image).toMatch(/^postgres:16\b/);
    expect(services.redis!.image).toMatch(/^redis:7\b/);
    expect(services.minio!.image).toMatch(/minio/);
    const env = services['parley-1']!.environment as Record<string, string>;
    expect(new URL(env.DATABASE_URL!.replace(/\$\{[^}]+\}/, 'x')).hostname).toBe('postgres');
    expect(new URL(env.REDIS_URL!).hostname).toBe('redis');
    expect(new URL(env.S3_ENDPOINT_URL!).hostname).toBe('minio');
    expect(env.STORAGE_PROVIDER).toBe('s3');
    expect(services['minio-init']!.command.join(' ')).toContain(`mc mb --ignore-existing local/${env.S3_BUCKET_NAME}`);
    expect(services['minio-init']!.depends_on.minio.condition).toBe('service_healthy');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['postgres', 'redis', 'minio']));
  });

  it('gives the instances longer to stop than SHUTDOWN_TIMEOUT', () => {
    const service = services['parley-1']!;
    const grace = Number(/^(\d+)s$/.exec(service.stop_grace_period)![1]);
    expect(grace).toBeGreaterThan(Number(service.environment.SHUTDOWN_TIMEOUT));
  });

  it('takes WEBUI_SECRET_KEY and passwords from deploy/.env, refusing to start without them', () => {
    const env = services['parley-1']!.environment as Record<string, string>;
    expect(env.WEBUI_SECRET_KEY).toMatch(/^\$\{WEBUI_SECRET_KEY:\?/);
    const required = new Set([...source.matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]));
    const example = fs.readFileSync(path.join(deployDir, 'env.example'), 'utf8');
    for (const name of required) expect(example, name).toMatch(new RegExp(`^${name}=`, 'm'));
    expect(fs.readFileSync(path.join(deployDir, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
  });

  it('gives instances and the migration job settings that Parley’s own config loader accepts', () => {
    for (const name of [...instances, 'migrate']) {
      const env = Object.fromEntries(
        Object.entries(services[name]!.environment as Record<string, string>).map(([k, v]) => [k, interpolate(String(v), sampleEnvFile)]),
      );
      const config = loadConfig(env);
      expect(config.database.dialect).toBe('postgres');
      expect(config.REDIS_URL).toBe('redis://redis:6379/0');
      // One proxy (nginx) in front: its hop only, never the client-written leftmost X-Forwarded-For entry.
      expect(config).toMatchObject({ STORAGE_PROVIDER: 's3', S3_ADDRESSING_STYLE: 'path', TRUST_PROXY: 1, WEBUI_SECRET_KEY: sampleEnvFile.WEBUI_SECRET_KEY });
      expect(config.ENABLE_DB_MIGRATIONS).toBe(name === 'migrate');
      if (name !== 'migrate') expect(config.METRICS_PORT).toBe(metricsPort);
    }
    expect(() => interpolate(services['parley-1']!.environment.WEBUI_SECRET_KEY, {})).toThrow(/refuse to start/);
  });

  it('serves /metrics only on METRICS_PORT, which no port mapping publishes and nginx never proxies to', () => {
    expect(metricsPort).toBeGreaterThan(0);
    const conf = parseNginx(fs.readFileSync(path.join(deployDir, 'nginx.conf'), 'utf8'));
    const upstream = directives(directives(conf, 'http')[0]!.block, 'upstream')[0]!;
    const upstreamPorts = directives(upstream.block, 'server').map((d) => Number(d.args[0]!.split(':')[1]));
    expect(upstreamPorts).not.toContain(metricsPort);
    expect(upstreamPorts.every((port) => port === Number(services['parley-1']!.environment.PORT ?? 8080))).toBe(true);
    for (const name of instances) {
      expect(services[name]!.ports, name).toBeUndefined();
      expect(services[name]!.expose, name).toBeUndefined();
    }
  });

  it('has an optional Prometheus that scrapes each instance’s metrics port directly, with the alert rules', () => {
    const prometheus = services.prometheus!;
    expect(prometheus.profiles).toEqual(['monitoring']);
    expect(prometheus.volumes).toContain('./prometheus:/etc/prometheus:ro');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    // Its UI is on the host's loopback only.
    for (const mapping of prometheus.ports as string[]) expect(mapping).toMatch(/^127\.0\.0\.1:/);
    const config = YAML.parse(fs.readFileSync(path.join(deployDir, 'prometheus', 'prometheus.yml'), 'utf8'));
    expect(config.rule_files.sort()).toEqual(['parley-alerts.yaml', 'recording-rules.yaml']);
    for (const file of config.rule_files) expect(fs.existsSync(path.join(deployDir, 'prometheus', file)), file).toBe(true);
    const [job] = config.scrape_configs;
    expect(config.scrape_configs).toHaveLength(1);
    expect(job.job_name).toMatch(/parley/); // the alerts select job=~".*parley.*"
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.static_configs.flatMap((c: any) => c.targets)).toEqual(instances.map((name) => `${name}:${metricsPort}`));
  });

  it.skipIf(!hasPromtool)('the Prometheus configuration passes promtool check config', () => {
    const result = spawnSync('promtool', ['check', 'config', path.join(deployDir, 'prometheus', 'prometheus.yml')], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toContain('is valid prometheus config file syntax');
    expect(result.status).toBe(0);
  });

  it('sets only variables Parley documents (or the pending Redis/S3 names)', () => {
    const names = [...instances, 'migrate'].flatMap((name) => Object.keys(services[name]!.environment));
    const { unknown, pending } = classifyEnvNames(names);
    expect(unknown).toEqual([]);
    notePending('compose.yaml', pending);
  });
});
