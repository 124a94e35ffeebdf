/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML and JSON documents of arbitrary shape, read field by field */
// The Helm chart deploy/helm/parley, rendered by ./helm-render.ts (no helm binary
// or cluster here) with the chart's ci values, then checked as Kubernetes objects.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ChartFailure, mergeValues, renderChart, toObjects } from './helm-render.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { classifyEnvNames, deployDir, notePending, readRepoFile } from './support.js';

const chartDir = path.join(deployDir, 'helm', 'parley');
const ciValues = YAML.parse(fs.readFileSync(path.join(chartDir, 'ci', 'ha-values.yaml'), 'utf8')) as Record<string, unknown>;
const values = YAML.parse(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as Record<string, any>;

type K8s = Record<string, any>;

/** Renders with the ci values plus `overrides` (later wins) and returns the objects. */
function render(overrides: Record<string, unknown>[] = [], unknownConditions: 'true' | 'false' = 'true'): K8s[] {
  const merged = [ciValues, ...overrides].reduce((all: unknown, o) => mergeValues(all, o), {});
  return toObjects(renderChart(chartDir, merged, { unknownConditions })).map((o) => o.object);
}
const only = (objects: K8s[], kind: string, name?: string): K8s => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0]!;
};
const container = (deployment: K8s) => deployment.spec.template.spec.containers[0];
const envOf = (c: K8s): Map<string, K8s> => new Map((c.env as K8s[]).map((e) => [e.name as string, e]));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Helm chart: metadata and values', () => {
  it('Chart.yaml is a v2 application chart whose appVersion is Parley’s version', () => {
    const chart = YAML.parse(fs.readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8'));
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'parley', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(chart.appVersion).toBe(JSON.parse(readRepoFile('package.json')).version);
  });

  it('values.yaml has the documented knobs with HA defaults', () => {
    expect(values.replicaCount).toBe(3);
    expect(values.image).toMatchObject({ repository: expect.any(String), pullPolicy: expect.any(String) });
    expect(values.resources.requests.cpu).toBeTruthy(); // the HPA's CPU target needs a request
    expect(values.database).toMatchObject({ url: '', existingSecret: '', existingSecretKey: 'DATABASE_URL' });
    expect(values.redis).toMatchObject({ url: '', existingSecret: '', keyPrefix: expect.any(String) });
    expect(values.storage.provider).toBe('s3');
    expect(Object.keys(values.storage.s3)).toEqual(
      expect.arrayContaining(['endpointUrl', 'bucketName', 'regionName', 'keyPrefix', 'addressingStyle', 'accessKeyId', 'secretAccessKey', 'existingSecret']),
    );
    expect(values.extraEnv).toEqual([]);
    expect(values.metrics.serviceMonitor.enabled).toBe(false);
    expect(values.migrations.enabled).toBe(true);
    expect(values.autoscaling).toMatchObject({ enabled: true, minReplicas: 3 });
    expect(values.podDisruptionBudget).toMatchObject({ enabled: true, maxUnavailable: 1 });
  });

  it('has every template the deploy kit promises', () => {
    const files = fs.readdirSync(path.join(chartDir, 'templates')).sort();
    expect(files).toEqual(
      expect.arrayContaining(['NOTES.txt', '_helpers.tpl', 'deployment.yaml', 'hpa.yaml', 'ingress.yaml', 'metrics-service.yaml', 'migration-job.yaml', 'pdb.yaml', 'secret.yaml', 'service.yaml', 'servicemonitor.yaml']),
    );
  });
});

describe('Helm chart: rendering', () => {
  it.each(['true', 'false'] as const)('renders to valid Kubernetes objects (cluster lookups taken as %s)', (unknown) => {
    const objects = render([{ metrics: { serviceMonitor: { enabled: true } } }], unknown);
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['Deployment', 'HorizontalPodAutoscaler', 'Ingress', 'Job', 'PodDisruptionBudget', 'Secret', 'Secret', 'Service', 'Service', 'ServiceMonitor'].sort(),
    );
    for (const o of objects) {
      expect(o.apiVersion, o.kind).toMatch(/^[a-z0-9.]*\/?v\d+/);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
      for (const map of [o.metadata.labels ?? {}, o.metadata.annotations ?? {}]) {
        for (const [key, value] of Object.entries(map)) expect(typeof value, `${o.kind} ${key}`).toBe('string');
      }
    }
  });

  it('refuses to render without a shared database or Redis, or with local files on several replicas', () => {
    expect(() => renderChart(chartDir, {})).toThrow(ChartFailure);
    expect(() => renderChart(chartDir, {})).toThrow(/database\.url or database\.existingSecret is required/);
    expect(() => render([{ redis: { url: '' } }])).toThrow(/redis\.url or redis\.existingSecret is required/);
    expect(() => render([{ storage: { provider: 'local' } }])).toThrow(/must be s3/);
    expect(() => render([{ storage: { provider: 'local' }, replicaCount: 1, autoscaling: { enabled: false } }])).not.toThrow();
  });

  it('NOTES.txt renders', () => {
    const notes = renderChart(chartDir, ciValues).find((f) => f.file === 'NOTES.txt')!;
    expect(notes.text).toContain('rollout status deployment/parley');
  });
});

describe('Helm chart: Deployment', () => {
  const objects = render();
  const deployment = only(objects, 'Deployment');
  const c = container(deployment);
  const env = envOf(c);
  const httpPort = (c.ports as K8s[]).find((p) => p.name === 'http')!;

  it('probes /health (liveness, start-up) and /ready (readiness) on the port Parley listens on', () => {
    expect(httpPort.containerPort).toBe(Number(env.get('PORT')!.value));
    const probePort = (probe: K8s) => (probe.httpGet.port === 'http' ? httpPort.containerPort : probe.httpGet.port);
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.startupProbe.httpGet.path).toBe('/health');
    expect(c.readinessProbe.httpGet.path).toBe('/ready');
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(probePort(probe)).toBe(httpPort.containerPort);
  });

  it('pauses in preStop, then gives SIGTERM more than SHUTDOWN_TIMEOUT to drain', () => {
    const [command, seconds] = c.lifecycle.preStop.exec.command;
    expect(command).toBe('sleep');
    expect(Number(seconds)).toBeGreaterThanOrEqual(3);
    const shutdown = Number(env.get('SHUTDOWN_TIMEOUT')!.value);
    expect(shutdown).toBe(values.shutdownTimeout);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + shutdown);
    expect(() => render([{ terminationGracePeriodSeconds: 30 }])).toThrow(/terminationGracePeriodSeconds must exceed/);
  });

  it('runs as non-root on a read-only root filesystem with a writable /tmp', () => {
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const tmp = (c.volumeMounts as K8s[]).find((m) => m.mountPath === '/tmp')!;
    expect((pod.volumes as K8s[]).find((v) => v.name === tmp.name)).toMatchObject({ emptyDir: {} });
  });

  it('prefers spreading replicas over nodes and lets the HPA own the replica count', () => {
    const term = deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(term.podAffinityTerm.labelSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.replicas).toBeUndefined();
    const fixed = render([{ autoscaling: { enabled: false } }]);
    expect(only(fixed, 'Deployment').spec.replicas).toBe(3);
    expect(fixed.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  it('selects its own pods and has unique environment names', () => {
    expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    const names = (c.env as K8s[]).map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('wires the shared services: PostgreSQL, Redis and S3', () => {
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'WEBUI_SECRET_KEY', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY']) {
      expect(env.get(name)?.valueFrom?.secretKeyRef, name).toBeDefined();
    }
    expect(env.get('STORAGE_PROVIDER')!.value).toBe('s3');
    expect(env.get('S3_ENDPOINT_URL')!.value).toBe('http://minio.storage:9000');
    expect(env.get('S3_ADDRESSING_STYLE')!.value).toBe('path');
    expect(env.get('REDIS_SENTINEL_HOSTS')).toBeUndefined();
    const sentinel = envOf(container(only(render([{ redis: { sentinelHosts: 's1:26379,s2' } }]), 'Deployment')));
    expect(sentinel.get('REDIS_SENTINEL_HOSTS')!.value).toBe('s1:26379,s2');
    expect(sentinel.get('REDIS_SENTINEL_PORT')!.value).toBe('26379');
  });

  it('reads every secret key from a Secret that the chart renders or the user names', () => {
    const secret = only(objects, 'Secret', deployment.metadata.name);
    for (const e of c.env as K8s[]) {
      const ref = e.valueFrom?.secretKeyRef;
      if (!ref) continue;
      expect(ref.name, e.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.data), e.name).toContain(ref.key);
    }
    const external = render([{ database: { existingSecret: 'pg', existingSecretKey: 'uri' }, secretKey: { existingSecret: 'keys' } }]);
    const externalEnv = envOf(container(only(external, 'Deployment')));
    expect(externalEnv.get('DATABASE_URL')!.valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'uri' });
    expect(externalEnv.get('WEBUI_SECRET_KEY')!.valueFrom.secretKeyRef).toEqual({ name: 'keys', key: 'WEBUI_SECRET_KEY' });
    const externalSecret = only(external, 'Secret', deployment.metadata.name);
    expect(Object.keys(externalSecret.data)).not.toContain('WEBUI_SECRET_KEY');
    expect(Object.keys(externalSecret.data)).not.toContain('DATABASE_URL');
  });

  it('gives Parley settings its own config loader accepts, secrets resolved from the chart’s Secret', () => {
    const secret = only(objects, 'Secret', deployment.metadata.name);
    const resolved = Object.fromEntries(
      (c.env as K8s[]).map((e) => {
        if (!e.valueFrom) return [e.name, e.value];
        const data = secret.data[e.valueFrom.secretKeyRef.key] as string;
        // The generated key is a placeholder here (randAlphaNum): stand in 48 characters for it.
        return [e.name, data.startsWith('tpl-') ? 'k'.repeat(48) : Buffer.from(data, 'base64').toString()];
      }),
    );
    const config = loadConfig(resolved);
    expect(config.database).toEqual({ dialect: 'postgres', url: (ciValues.database as K8s).url });
    expect(config).toMatchObject({ PORT: 8080, METRICS_PORT: 9090, SHUTDOWN_TIMEOUT: 30, ENABLE_DB_MIGRATIONS: false, STORAGE_PROVIDER: 's3', S3_BUCKET_NAME: 'parley' });
    // One proxy (the ingress controller) in front: its hop only, never the client-written leftmost entry.
    expect(config.TRUST_PROXY).toBe(1);
    expect(config.REDIS_URL).toBe((ciValues.redis as K8s).url);
    expect(config.S3_SECRET_ACCESS_KEY).toBe('secret-secret');
  });

  it('passes extraEnv through and keeps values.env as plain variables', () => {
    const extra = envOf(container(only(render([{ extraEnv: [{ name: 'OPENAI_API_KEYS', valueFrom: { secretKeyRef: { name: 'llm', key: 'k' } } }] }]), 'Deployment')));
    expect(extra.get('OPENAI_API_KEYS')!.valueFrom.secretKeyRef).toEqual({ name: 'llm', key: 'k' });
    for (const [name, value] of Object.entries(values.env as Record<string, string>)) expect(env.get(name)!.value).toBe(value);
  });
});

describe('Helm chart: Service, HPA, PDB, Ingress, ServiceMonitor', () => {
  const objects = render([{ metrics: { serviceMonitor: { enabled: true } } }]);
  const deployment = only(objects, 'Deployment');
  const selector = deployment.spec.selector.matchLabels;

  it('the Service selects the Deployment’s pods on the named http port', () => {
    const service = only(objects, 'Service', 'parley');
    expect(service.spec.selector).toEqual(selector);
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(container(deployment).ports.map((p: K8s) => p.name)).toContain('http');
  });

  it('the HPA (autoscaling/v2) scales the Deployment on CPU', () => {
    const hpa = only(objects, 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.metrics[0].resource).toMatchObject({ name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } });
  });

  it('the PDB covers exactly the Deployment’s pods and lets one go at a time', () => {
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb.spec.selector.matchLabels).toEqual(selector);
    expect(pdb.spec.maxUnavailable).toBe(1);
    const min = only(render([{ podDisruptionBudget: { minAvailable: 2 } }]), 'PodDisruptionBudget');
    expect(min.spec).toMatchObject({ minAvailable: 2 });
    expect(min.spec.maxUnavailable).toBeUndefined();
  });

  it('the Ingress routes to the Service unbuffered, with long stream timeouts', () => {
    const ingress = only(objects, 'Ingress');
    const annotations = ingress.metadata.annotations;
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-next-upstream']).not.toContain('non_idempotent');
    expect(ingress.spec.rules[0].http.paths[0].backend.service).toEqual({ name: only(objects, 'Service', 'parley').metadata.name, port: { name: 'http' } });
    expect(render([{ ingress: { enabled: false } }]).some((o) => o.kind === 'Ingress')).toBe(false);
  });

  it('the ServiceMonitor is off by default and, when on, scrapes the metrics port through the metrics Service only', () => {
    expect(render().some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    const monitor = only(objects, 'ServiceMonitor');
    const services = objects.filter((o) => o.kind === 'Service');
    const scraped = services.filter((service) => matches(monitor.spec.selector.matchLabels, service.metadata.labels));
    expect(scraped.map((service) => service.metadata.name)).toEqual(['parley-metrics']);
    expect(monitor.spec.endpoints).toHaveLength(1);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
    // The endpoint's port is the metrics Service's port, which targets the container port Parley serves /metrics on.
    const servicePort = (scraped[0]!.spec.ports as K8s[]).find((p) => p.name === monitor.spec.endpoints[0].port)!;
    const containerPort = (container(deployment).ports as K8s[]).find((p) => p.name === servicePort.targetPort)!;
    expect(containerPort.containerPort).toBe(Number(envOf(container(deployment)).get('METRICS_PORT')!.value));
  });
});

describe('Helm chart: /metrics stays inside the cluster', () => {
  const objects = render([{ metrics: { serviceMonitor: { enabled: true } } }]);
  const c = container(only(objects, 'Deployment'));
  const ports = new Map((c.ports as K8s[]).map((p) => [p.name as string, p.containerPort as number]));
  const metricsPort = Number(envOf(c).get('METRICS_PORT')?.value);

  it('Parley serves /metrics on METRICS_PORT, a container port of its own, so the http port has none', () => {
    expect(metricsPort).toBe(values.metrics.port);
    expect(ports.get('metrics')).toBe(metricsPort);
    expect(ports.get('http')).not.toBe(metricsPort);
    expect(ports.get('http')).toBe(Number(envOf(c).get('PORT')!.value));
  });

  it('the Ingress has no /metrics path and reaches only the main Service’s http port, which does not target the metrics port', () => {
    const ingress = only(objects, 'Ingress');
    const paths = (ingress.spec.rules as K8s[]).flatMap((rule) => rule.http.paths as K8s[]);
    expect(paths.length).toBeGreaterThan(0);
    for (const entry of paths) {
      expect(entry.path).not.toMatch(/^\/metrics/i);
      expect(entry.backend.service).toEqual({ name: 'parley', port: { name: 'http' } });
    }
    const main = only(objects, 'Service', 'parley');
    expect((main.spec.ports as K8s[]).map((p) => p.targetPort)).toEqual(['http']);
  });

  it('the metrics Service is ClusterIP even when the main one is a LoadBalancer', () => {
    const exposed = render([{ service: { type: 'LoadBalancer' } }]);
    expect(only(exposed, 'Service', 'parley').spec.type).toBe('LoadBalancer');
    const metrics = only(exposed, 'Service', 'parley-metrics');
    expect(metrics.spec.type).toBe('ClusterIP');
    expect(metrics.spec.ports).toEqual([{ name: 'metrics', port: metricsPort, targetPort: 'metrics', protocol: 'TCP' }]);
    expect(metrics.spec.selector).toEqual(only(exposed, 'Deployment').spec.selector.matchLabels);
  });

  it('refuses a metrics port equal to the http port, and METRICS_PORT set around the chart', () => {
    expect(() => render([{ metrics: { port: 8080 } }])).toThrow(/metrics\.port must differ from containerPort/);
    expect(() => render([{ env: { METRICS_PORT: '9100' } }])).toThrow(/set metrics\.port, not env\.METRICS_PORT/);
    const moved = container(only(render([{ metrics: { port: 9100 } }]), 'Deployment'));
    expect(envOf(moved).get('METRICS_PORT')!.value).toBe('9100');
  });
});

describe('Helm chart: migrations and the secret key', () => {
  it('migrates in a pre-install/pre-upgrade hook Job while replicas never migrate', () => {
    const objects = render();
    const job = only(objects, 'Job');
    expect(job.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(job.metadata.annotations['helm.sh/hook-delete-policy']).toContain('before-hook-creation');
    expect(job.spec.template.spec.containers[0].command).toEqual(['node', 'packages/server/dist/migrate.js']);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const deployment = only(objects, 'Deployment');
    expect(envOf(container(deployment)).get('ENABLE_DB_MIGRATIONS')!.value).toBe('false');
    // The Service must never route to the migration pod.
    expect(matches(deployment.spec.selector.matchLabels, job.spec.template.metadata.labels)).toBe(false);
  });

  it('gives the Job its DATABASE_URL from a hook Secret created before it (the release’s own Secret does not exist yet on install)', () => {
    const objects = render();
    const job = only(objects, 'Job');
    const ref = envOf(job.spec.template.spec.containers[0]).get('DATABASE_URL')!.valueFrom.secretKeyRef;
    const hookSecret = only(objects, 'Secret', ref.name);
    expect(hookSecret.metadata.annotations['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(Number(hookSecret.metadata.annotations['helm.sh/hook-weight'])).toBeLessThan(Number(job.metadata.annotations['helm.sh/hook-weight']));
    expect(Buffer.from(hookSecret.data[ref.key], 'base64').toString()).toBe((ciValues.database as K8s).url);
    const external = render([{ database: { existingSecret: 'pg', url: '' } }]);
    expect(envOf(only(external, 'Job').spec.template.spec.containers[0]).get('DATABASE_URL')!.valueFrom.secretKeyRef).toEqual({ name: 'pg', key: 'DATABASE_URL' });
    expect(external.filter((o) => o.kind === 'Secret')).toHaveLength(1);
  });

  it('without the Job, replicas migrate at start-up (under the advisory lock)', () => {
    const objects = render([{ migrations: { enabled: false } }]);
    expect(objects.some((o) => o.kind === 'Job')).toBe(false);
    expect(envOf(container(only(objects, 'Deployment'))).get('ENABLE_DB_MIGRATIONS')!.value).toBe('true');
  });

  it('generates WEBUI_SECRET_KEY only when the cluster has none, and keeps an existing one', () => {
    const source = fs.readFileSync(path.join(chartDir, 'templates', 'secret.yaml'), 'utf8');
    expect(source).toMatch(/lookup "v1" "Secret" \.Release\.Namespace \$name/);
    expect(source).toMatch(/\$secretKey = index \$existing "data" "WEBUI_SECRET_KEY"/);
    // A lookup that finds the Secret renders its key back; one that finds none renders randAlphaNum.
    const kept = only(render([], 'true'), 'Secret', 'parley').data.WEBUI_SECRET_KEY;
    const generated = only(render([], 'false'), 'Secret', 'parley').data.WEBUI_SECRET_KEY;
    expect(kept).toMatch(/^tpl-/);
    expect(generated).toMatch(/^tpl-/);
    expect(kept).not.toBe(generated);
    expect(source.indexOf('randAlphaNum')).toBeGreaterThan(source.indexOf('{{- else }}', source.indexOf('if $secretKey')));
    expect(only(render(), 'Secret', 'parley').metadata.annotations['helm.sh/resource-policy']).toBe('keep');
  });
});

describe('Helm chart: configuration names', () => {
  it('sets only variables Parley documents (or the pending Redis/S3 names)', () => {
    const objects = render([{ redis: { sentinelHosts: 's1' } }]);
    const names = [only(objects, 'Deployment'), only(objects, 'Job')].flatMap((o) =>
      (o.spec.template.spec.containers as K8s[]).flatMap((c) => (c.env as K8s[]).map((e) => e.name as string)),
    );
    names.push(...Object.keys(values.env));
    for (const secret of objects.filter((o) => o.kind === 'Secret')) names.push(...Object.keys(secret.data ?? {}));
    const { unknown, pending } = classifyEnvNames(names);
    expect(unknown).toEqual([]);
    notePending('the Helm chart', pending);
  });
});
