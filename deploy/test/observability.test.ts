/* eslint-disable @typescript-eslint/no-explicit-any -- parsed YAML and JSON documents of arbitrary shape, read field by field */
// The operator kit: deploy/grafana/parley-dashboard.json and deploy/prometheus/*.yaml. Their
// structure, then every metric (and matcher label) their PromQL names against the /metrics of a
// running Parley that has served real traffic, then promtool: `check rules`, and `test rules` with
// synthetic series that must (and must not) fire each alert. The promtool part is skipped when
// promtool is missing unless PARLEY_REQUIRE_PROMTOOL=1 (`apt-get install -y prometheus`).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startFakeLlm, type FakeLlm } from '../../packages/fake-llm/src/index.js';
import { signUp } from '../../packages/server/test/support/factories.js';
import { readSse } from '../../packages/server/test/support/streams.js';
import { startTestApp, type TestApp } from '../../packages/server/test/support/test-app.js';
import { deployDir } from './support.js';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: Array<{ name: string; rules: Rule[] }>;
}

const alertsPath = path.join(deployDir, 'prometheus', 'parley-alerts.yaml');
const recordingPath = path.join(deployDir, 'prometheus', 'recording-rules.yaml');
const readRules = (file: string): RuleFile => YAML.parse(fs.readFileSync(file, 'utf8'), { uniqueKeys: true }) as RuleFile;
const alertFile = readRules(alertsPath);
const recordingFile = readRules(recordingPath);
const alerts = alertFile.groups.flatMap((group) => group.rules);
const records = recordingFile.groups.flatMap((group) => group.rules);
const alertNamed = (name: string) => alerts.find((rule) => rule.alert === name)!;
const recordingNames = new Set(records.map((rule) => rule.record!));

const dashboard = JSON.parse(fs.readFileSync(path.join(deployDir, 'grafana', 'parley-dashboard.json'), 'utf8'));
const variables: any[] = dashboard.templating.list;
const panels: any[] = dashboard.panels.flatMap((panel: any) => [panel, ...(panel.panels ?? [])]);
const dataPanels = panels.filter((panel) => panel.type !== 'row');
const dashboardExprs: string[] = dataPanels.flatMap((panel) => panel.targets.map((target: any) => target.expr));
const variableExprs: string[] = variables
  .filter((variable) => variable.type === 'query')
  .map((variable) => (typeof variable.query === 'string' ? variable.query : variable.query.query))
  .map((query: string) => /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1] ?? query);
const allExprs = [...dashboardExprs, ...variableExprs, ...alerts.map((rule) => rule.expr), ...records.map((rule) => rule.expr)];

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan']);
const SERIES_LABELS = new Set(['job', 'instance']);

/**
 * The metric names a PromQL expression reads: identifiers left after removing strings, label
 * matchers, ranges, grouping clauses and Grafana variables, that are not functions or keywords.
 */
function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = [...bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(\s*\()?/g)].filter((m) => !m[2] && !KEYWORDS.has(m[1]!.toLowerCase())).map((m) => m[1]!);
  return [...new Set(names)];
}

/** Label names in the matchers of each selector (`name{label op "value"}`) of an expression. */
function matcherLabels(expr: string): Array<{ metric: string; labels: string[] }> {
  return [...expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}/g)].map((m) => ({
    metric: m[1]!,
    labels: [...m[2]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"/g)].map((l) => l[1]!),
  }));
}

/** Label names used by grouping clauses (`by (…)`, `on (…)`, …). */
const groupingLabels = (expr: string) =>
  [...expr.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean));

/** A Prometheus text exposition: declared metric types and, per sample name, its label names. */
interface Exposition {
  types: Map<string, string>;
  labels: Map<string, Set<string>>;
  samples: Array<{ name: string; labels: Record<string, string> }>;
}

function parseExposition(text: string): Exposition {
  const result: Exposition = { types: new Map(), labels: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) result.types.set(type[1]!, type[2]!);
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!sample) continue;
    const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
    result.samples.push({ name: sample[1]!, labels });
    const names = result.labels.get(sample[1]!) ?? new Set<string>();
    for (const label of Object.keys(labels)) names.add(label);
    result.labels.set(sample[1]!, names);
  }
  return result;
}

/** The declared metric a sample name belongs to (`x_bucket` of histogram `x` is `x`), if any. */
function declaredMetric(name: string, exposition: Exposition): string | undefined {
  if (exposition.types.has(name)) return name;
  const suffixed = /^(.+)_(bucket|count|sum)$/.exec(name);
  if (!suffixed) return undefined;
  const type = exposition.types.get(suffixed[1]!);
  if (type === 'histogram' || (type === 'summary' && suffixed[2] !== 'bucket')) return suffixed[1];
  return undefined;
}

describe('Grafana dashboard', () => {
  it('is a Grafana dashboard model with a Prometheus data-source variable and job and instance variables', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(dashboard.uid).toMatch(/^[\w-]{1,40}$/);
    expect(dashboard.id).toBeNull();
    const byName = Object.fromEntries(variables.map((variable) => [variable.name, variable]));
    expect(byName.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' });
    for (const name of ['job', 'instance']) expect(byName[name]).toMatchObject({ type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' } });
    expect(byName.instance.query.query).toContain('job=~"$job"');
    // "All" jobs must expand to Parley's jobs: `.*` would count every target Prometheus has in `up`.
    expect(byName.job.allValue).toBeUndefined();
  });

  it('gives every panel the data-source variable and targets with expressions filtered by job and instance', () => {
    expect(dataPanels.length).toBeGreaterThanOrEqual(20);
    for (const panel of dataPanels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      expect(new Set(panel.targets.map((target: any) => target.refId)).size, panel.title).toBe(panel.targets.length);
      for (const target of panel.targets) {
        expect(target.datasource, panel.title).toEqual(panel.datasource);
        expect(target.expr, panel.title).toMatch(/\S/);
        expect(target.expr, panel.title).toContain('job=~"$job"');
        expect(target.expr, panel.title).toContain('instance=~"$instance"');
      }
    }
  });

  it('lays panels out on the 24-column grid with unique ids and no overlaps', () => {
    expect(new Set(panels.map((panel) => panel.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const { gridPos: g, title } of panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('shows what an operator needs: traffic, errors, latency, TTFT, tokens, streams, instances, pool and runtime', () => {
    const used = new Set(dashboardExprs.flatMap(metricNamesIn));
    const required = [
      'parley_http_requests_total',
      'parley_http_request_duration_seconds_bucket',
      'parley_generation_ttft_seconds_bucket',
      'parley_tokens_total',
      'parley_active_streams',
      'parley_generations_started_total',
      'parley_generations_finished_total',
      'parley_generations_failed_total',
      'parley_upstream_errors_total',
      'up',
      'parley_db_pool_connections',
      'parley_db_query_duration_seconds_bucket',
      'nodejs_eventloop_lag_p99_seconds',
      'parley_event_loop_utilization',
      'process_resident_memory_bytes',
      'parley_dependency_errors_total',
      'parley_generation_resumes_total',
      'parley_generation_takeovers_total',
      'parley_rate_limit_rejections_total',
    ];
    for (const name of required) expect(used, name).toContain(name);
    expect(dashboardExprs).toContain('sum by (model) (rate(parley_tokens_total{job=~"$job", instance=~"$instance", direction="out"}[$__rate_interval]))');
    const errorRatio = dataPanels.find((panel) => panel.title.startsWith('Error ratio'))!;
    expect(errorRatio.targets[0].expr).toMatch(/^sum by \(route\) \(rate\(parley_http_requests_total\{[^}]*status=~"5\.\."\}.*\)\) \/ sum by \(route\) /);
  });
});

describe('Prometheus rules', () => {
  it('are rule groups whose rules each record or alert, with labels.severity and summary/description on alerts', () => {
    for (const file of [alertFile, recordingFile]) {
      const names = file.groups.map((group) => group.name);
      expect(new Set(names).size).toBe(names.length);
      for (const group of file.groups) expect(group.rules.length).toBeGreaterThan(0);
    }
    for (const rule of [...alerts, ...records]) {
      expect(Boolean(rule.alert) !== Boolean(rule.record), JSON.stringify(rule)).toBe(true);
      expect(typeof rule.expr).toBe('string');
      expect(rule.expr).toMatch(/\S/);
    }
    expect(records.every((rule) => rule.record && !rule.alert)).toBe(true);
    expect(alerts.every((rule) => rule.alert && !rule.record)).toBe(true);
    expect(new Set(alerts.map((rule) => rule.alert)).size).toBe(alerts.length);
    for (const rule of alerts) {
      expect(['page', 'ticket'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.description, rule.alert).toMatch(/\S/);
    }
    // Recording rules follow level:metric:operations, so they can never clash with an exported name.
    for (const name of recordingNames) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    for (const expr of alerts.map((rule) => rule.expr)) {
      for (const used of expr.match(/[a-z_]+:[a-z_]+:[a-z0-9_]+/g) ?? []) expect(recordingNames, used).toContain(used);
    }
  });

  it('records the 5xx ratio of user requests over every burn-rate window', () => {
    for (const window of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) {
      const rule = records.find((record) => record.record === `job:parley_slo_errors:ratio_rate${window}`)!;
      expect(rule, window).toBeDefined();
      const [errors, all] = rule.expr.split(/\n\s*\/\s*\n/).map((part) => part.trim());
      const probes = 'route!~"/metrics|/health|/ready"';
      expect(errors).toBe(`sum by (job) (rate(parley_http_requests_total{${probes}, status=~"5.."}[${window}]))`);
      expect(all).toBe(`sum by (job) (rate(parley_http_requests_total{${probes}}[${window}]))`);
    }
  });

  it('alerts on a 99.99 % objective with the SRE workbook burn rates and windows', () => {
    const expected = [
      { alert: 'ParleyErrorBudgetBurnFast', long: '1h', short: '5m', factor: 14.4, severity: 'page' },
      { alert: 'ParleyErrorBudgetBurnHigh', long: '6h', short: '30m', factor: 6, severity: 'page' },
      { alert: 'ParleyErrorBudgetBurnMedium', long: '1d', short: '2h', factor: 3, severity: 'ticket' },
      { alert: 'ParleyErrorBudgetBurnSlow', long: '3d', short: '6h', factor: 1, severity: 'ticket' },
    ];
    for (const want of expected) {
      const rule = alertNamed(want.alert);
      const terms = [...rule.expr.matchAll(/job:parley_slo_errors:ratio_rate(\w+) > \(([\d.]+) \* \(1 - 0\.9999\)\)/g)];
      expect(terms.map((m) => [m[1], Number(m[2])]), want.alert).toEqual([
        [want.long, want.factor],
        [want.short, want.factor],
      ]);
      expect(rule.expr.replace(/job:\S+ > \([^)]*\)\)/g, 'X').replace(/\s+/g, ' ').trim()).toBe('X and X');
      expect(rule.labels?.severity).toBe(want.severity);
    }
  });

  it('alerts on saturation: pool, event loop, upstream and dependency errors, dependencies down, instances down', () => {
    const want: Record<string, { for: string; expr: string | RegExp }> = {
      ParleyDbPoolExhausted: { for: '5m', expr: 'max by (job, instance) (parley_db_pool_connections{state="waiting"}) > 0' },
      ParleyDbPoolNearlyFull: { for: '15m', expr: /\{state="in_use"\}\)\s*\/\s*sum by \(job, instance\) \(parley_db_pool_connections\{state=~"in_use\|idle"\}\)\s*> 0\.9$/ },
      ParleyEventLoopLagHigh: { for: '10m', expr: 'nodejs_eventloop_lag_p99_seconds{job=~".*parley.*"} > 0.1' },
      ParleyEventLoopSaturated: { for: '10m', expr: 'parley_event_loop_utilization > 0.9' },
      ParleyUpstreamErrorRateHigh: { for: '10m', expr: 'job_connection:parley_upstream_errors:ratio_rate5m > 0.05' },
      ParleyDependencyErrors: { for: '5m', expr: 'sum by (job, dependency) (rate(parley_dependency_errors_total[5m])) > 0' },
      ParleyDependencyDown: { for: '5m', expr: 'parley_dependency_up == 0' },
      ParleyInstanceDown: { for: '5m', expr: 'up{job=~".*parley.*"} == 0' },
      ParleyAllInstancesDown: { for: '2m', expr: 'sum by (job) (up{job=~".*parley.*"}) == 0' },
    };
    for (const [name, { for: duration, expr }] of Object.entries(want)) {
      const rule = alertNamed(name);
      expect(rule, name).toBeDefined();
      expect(rule.for, name).toBe(duration);
      if (typeof expr === 'string') expect(rule.expr.trim(), name).toBe(expr);
      else expect(rule.expr.trim(), name).toMatch(expr);
    }
  });
});

describe('PromQL metric-name extraction', () => {
  it('keeps metric names and drops functions, keywords, labels, values, ranges and variables', () => {
    expect(
      metricNamesIn('histogram_quantile(0.99, sum by (le, route) (rate(parley_http_request_duration_seconds_bucket{job=~"$job", route!~"/a|b"}[$__rate_interval])))'),
    ).toEqual(['parley_http_request_duration_seconds_bucket']);
    expect(metricNamesIn('1 - (sum(increase(a_total{s="5.."}[1d] offset 5m)) or vector(0)) / sum without (x) (b_total) > 1e3 and on (job) up == 0')).toEqual(['a_total', 'b_total', 'up']);
    expect(metricNamesIn('job:x:rate5m * 0 + inf')).toEqual(['job:x:rate5m']);
    expect(matcherLabels('sum(rate(a_total{job=~"x", status=~"5.."}[5m])) / b{state="in_use"}')).toEqual([
      { metric: 'a_total', labels: ['job', 'status'] },
      { metric: 'b', labels: ['state'] },
    ]);
    expect(groupingLabels('sum by (le, route) (x) / on(job) group_left(kind) y')).toEqual(['le', 'route', 'job', 'kind']);
  });

  it('finds a metric the exposition lacks, and maps histogram suffixes to their base', () => {
    const exposition = parseExposition('# TYPE h histogram\nh_bucket{le="1"} 0\n# TYPE c_total counter\nc_total 1\n');
    expect(declaredMetric('h_bucket', exposition)).toBe('h');
    expect(declaredMetric('h_count', exposition)).toBe('h');
    expect(declaredMetric('c_total', exposition)).toBe('c_total');
    expect(declaredMetric('c_total_sum', exposition)).toBeUndefined();
    expect(declaredMetric('parley_nonexistent_total', exposition)).toBeUndefined();
  });
});

describe('against a running Parley', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let exposition: Exposition;
  /** Label names each sample name can carry, as declared in the registry (also for metrics without samples yet). */
  const declared = new Map<string, Set<string>>();
  const labelsOf = (name: string) => new Set([...(exposition.labels.get(name) ?? []), ...(declared.get(name) ?? [])]);

  beforeAll(async () => {
    fake = await startFakeLlm();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, LOGIN_RATE_LIMIT: '1', ENABLE_TITLE_GENERATION: 'false' });
    const user = await signUp(app);
    const chat = await app.request('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
    const streamed = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hello' }], stream: true, chat_id: chat.body.id, parent_id: null }),
    });
    expect(streamed.status).toBe(200);
    expect((await readSse(streamed)).at(-1)).toBe('[DONE]');
    expect((await app.request('POST', '/api/chat/completions', { token: user.token, body: { model: 'fail-500', messages: [{ role: 'user', content: 'x' }] } })).status).toBe(502);
    const broken = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'error-midstream', messages: [{ role: 'user', content: 'x' }], stream: true }),
    });
    await readSse(broken);
    for (let i = 0; i < 2; i++) await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: 'wrong password' } });
    for (const probe of ['/health', '/ready', '/metrics']) expect((await fetch(app.url + probe)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const response = await fetch(`${app.url}/metrics`);
    expect(response.status).toBe(200);
    exposition = parseExposition(await response.text());
    for (const metric of app.parley.platform.metrics.registry.getMetricsAsArray()) {
      const labelNames = (metric as unknown as { labelNames?: readonly string[] }).labelNames ?? [];
      const names = String(metric.type) === 'histogram' ? [`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`] : [metric.name];
      for (const name of names) declared.set(name, new Set([...labelNames, ...(name.endsWith('_bucket') ? ['le'] : [])]));
    }
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('exports every metric the dashboard, its variables, the alerts and the recording rules name', () => {
    const names = new Set(allExprs.flatMap(metricNamesIn).filter((name) => !recordingNames.has(name)));
    expect(names.size).toBeGreaterThan(20);
    // `up` is the one series Prometheus makes itself, per scrape.
    const missing = [...names].filter((name) => name !== 'up' && !declaredMetric(name, exposition));
    expect(missing).toEqual([]);
  });

  it('has every label the expressions match on or group by', () => {
    expect(declared.get('parley_db_pool_connections')).toEqual(new Set(['state']));
    const problems: string[] = [];
    const isOurs = (name: string) => name !== 'up' && !recordingNames.has(name);
    for (const expr of allExprs) {
      for (const { metric, labels } of matcherLabels(expr).filter(({ metric }) => isOurs(metric))) {
        const known = labelsOf(metric);
        for (const label of labels) if (!SERIES_LABELS.has(label) && !known.has(label)) problems.push(`${metric}{${label}} in ${expr}`);
      }
      const available = new Set(metricNamesIn(expr).filter(isOurs).flatMap((name) => [...labelsOf(name)]));
      for (const label of groupingLabels(expr)) if (!SERIES_LABELS.has(label) && !available.has(label)) problems.push(`by (${label}) in ${expr}`);
    }
    expect(problems).toEqual([]);
  });

  it('has served the traffic the panels show: labelled samples for requests, generations, tokens and failures', () => {
    const sampled = (name: string, labels: Record<string, string> = {}) =>
      exposition.samples.some((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
    expect(sampled('parley_generation_ttft_seconds_bucket', { model: 'fake-model' })).toBe(true);
    expect(sampled('parley_tokens_total', { model: 'fake-model', direction: 'out' })).toBe(true);
    expect(sampled('parley_generations_finished_total', { outcome: 'error' })).toBe(true);
    expect(sampled('parley_generations_failed_total', { model: 'error-midstream' })).toBe(true);
    expect(sampled('parley_upstream_errors_total', { kind: 'status' })).toBe(true);
    expect(sampled('parley_upstream_errors_total', { kind: 'midstream' })).toBe(true);
    expect(sampled('parley_rate_limit_rejections_total', { limit: '/api/v1/auths/signin' })).toBe(true);
    expect(sampled('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(sampled('process_resident_memory_bytes')).toBe(true);
  });

  it('labels the excluded probe routes and 5xx statuses the way the SLO rules match them', () => {
    const requests = exposition.samples.filter((sample) => sample.name === 'parley_http_requests_total');
    const routes = new Set(requests.map((sample) => sample.labels.route!));
    const probeRoute = /^(?:\/metrics|\/health|\/ready)$/;
    expect([...routes].filter((route) => probeRoute.test(route)).sort()).toEqual(['/health', '/metrics', '/ready']);
    expect(routes).toContain('/api/chat/completions');
    expect(requests.filter((sample) => /^5..$/.test(sample.labels.status!)).map((sample) => sample.labels.route)).toEqual(['/api/chat/completions']);
  });

  it('puts every Parley metric on the dashboard', () => {
    const shown = new Set(dashboardExprs.flatMap(metricNamesIn).map((name) => declaredMetric(name, exposition)));
    const exported = [...exposition.types.keys()].filter((name) => name.startsWith('parley_'));
    expect(exported.length).toBeGreaterThan(15);
    expect(exported.filter((name) => !shown.has(name))).toEqual([]);
  });
});

const promtool = process.env.PROMTOOL ?? (process.env.PATH ?? '').split(path.delimiter).map((dir) => path.join(dir, 'promtool')).find((file) => fs.existsSync(file));
if (!promtool) {
  if (process.env.PARLEY_REQUIRE_PROMTOOL === '1') throw new Error('promtool is required (PARLEY_REQUIRE_PROMTOOL=1) but not on PATH: apt-get install -y prometheus');
  console.info('note: promtool not found, skipping `promtool check rules` and `promtool test rules` (apt-get install -y prometheus)');
}

describe.skipIf(!promtool)('promtool', () => {
  const run = (args: string[]) => spawnSync(promtool!, args, { encoding: 'utf8' });

  it('accepts the rule files (`promtool check rules`)', () => {
    const result = run(['check', 'rules', recordingPath, alertsPath]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`SUCCESS: ${records.length} rules found`);
    expect(result.stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('fires each alert on the series it is for, and only there (`promtool test rules`)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-promtool-'));
    try {
      // promtool compares rendered annotations exactly; these tests are about when alerts fire.
      const bare = { groups: alertFile.groups.map((group) => ({ ...group, rules: group.rules.map(({ annotations: _annotations, ...rule }) => rule) })) };
      fs.writeFileSync(path.join(dir, 'alerts.yaml'), YAML.stringify(bare));
      fs.copyFileSync(recordingPath, path.join(dir, 'recording.yaml'));
      fs.writeFileSync(path.join(dir, 'tests.yaml'), YAML.stringify(promtoolTests()));
      const result = spawnSync(promtool!, ['test', 'rules', 'tests.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('SUCCESS');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Synthetic series (one sample a minute) and the alerts they must, and must not, raise. */
function promtoolTests() {
  const http = (job: string, route: string, status: string, values: string) => ({
    series: `parley_http_requests_total{job="${job}", instance="${job}:8080", route="${route}", method="GET", status="${status}"}`,
    values,
  });
  const slo = (severity: string, job: string) => ({ exp_labels: { severity, slo: 'availability', job } });
  const burnAlerts = (at: string, firing: Record<string, string[]>) =>
    Object.entries({ Fast: 'page', High: 'page', Medium: 'ticket', Slow: 'ticket' }).map(([speed, severity]) => ({
      eval_time: at,
      alertname: `ParleyErrorBudgetBurn${speed}`,
      exp_alerts: (firing[speed] ?? []).map((job) => slo(severity, job)),
    }));
  const alert = (at: string, alertname: string, expLabels: Array<Record<string, string>>) => ({ eval_time: at, alertname, exp_alerts: expLabels.map((exp_labels) => ({ exp_labels })) });
  const parley = { job: 'parley' };
  return {
    rule_files: ['recording.yaml', 'alerts.yaml'],
    evaluation_interval: '1m',
    group_eval_order: ['parley-slo', 'parley-upstream', 'parley-availability', 'parley-instances', 'parley-saturation', 'parley-security'],
    tests: [
      {
        name: '1 % of user requests fail: every burn-rate alert fires; failing probes burn nothing',
        interval: '1m',
        input_series: [
          http('parley', '/api/v1/chats/', '200', '0+600x80'),
          http('parley', '/api/v1/chats/', '500', '0+6x80'),
          http('probed', '/api/v1/chats/', '200', '0+600x80'),
          http('probed', '/ready', '503', '0+600x80'),
          http('probed', '/health', '500', '0+600x80'),
        ],
        alert_rule_test: burnAlerts('70m', { Fast: ['parley'], High: ['parley'], Medium: ['parley'], Slow: ['parley'] }),
      },
      {
        name: 'the fast page resolves minutes after the errors stop',
        interval: '1m',
        input_series: [http('parley', '/api/v1/chats/', '200', '0+600x80'), http('parley', '/api/v1/chats/', '500', '0+6x60 360+0x20')],
        alert_rule_test: [alert('59m', 'ParleyErrorBudgetBurnFast', [{ ...slo('page', 'parley').exp_labels }]), alert('70m', 'ParleyErrorBudgetBurnFast', [])],
      },
      {
        name: '0.05 % errors: tickets (3x and 1x), no page (14.4x, 6x)',
        interval: '1m',
        input_series: [http('parley', '/api/v1/chats/', '200', '0+10000x420'), http('parley', '/api/v1/chats/', '500', '0+5x420')],
        alert_rule_test: burnAlerts('7h', { Medium: ['parley'], Slow: ['parley'] }),
      },
      {
        name: 'no errors, no alerts; no Parley target at all is its own ticket',
        interval: '1m',
        input_series: [http('parley', '/api/v1/chats/', '200', '0+600x120')],
        alert_rule_test: [...burnAlerts('2h', {}), alert('10m', 'ParleyTargetsMissing', []), alert('20m', 'ParleyTargetsMissing', [{ severity: 'ticket' }])],
      },
      {
        name: 'saturation, upstream, dependencies and instances',
        interval: '1m',
        input_series: [
          { series: 'parley_db_pool_connections{job="parley", instance="a", state="waiting"}', values: '0 0 2x30' },
          { series: 'parley_db_pool_connections{job="parley", instance="b", state="in_use"}', values: '19x30' },
          { series: 'parley_db_pool_connections{job="parley", instance="b", state="idle"}', values: '1x30' },
          { series: 'parley_db_pool_connections{job="parley", instance="c", state="in_use"}', values: '9x30' },
          { series: 'parley_db_pool_connections{job="parley", instance="c", state="idle"}', values: '1x30' },
          { series: 'nodejs_eventloop_lag_p99_seconds{job="parley", instance="a"}', values: '0.2x30' },
          { series: 'nodejs_eventloop_lag_p99_seconds{job="parley", instance="b"}', values: '0.05x30' },
          { series: 'nodejs_eventloop_lag_p99_seconds{job="other", instance="z"}', values: '0.5x30' },
          { series: 'parley_event_loop_utilization{job="parley", instance="a"}', values: '0.95x30' },
          { series: 'parley_event_loop_utilization{job="parley", instance="b"}', values: '0.5x30' },
          { series: 'up{job="parley", instance="a"}', values: '1 1 0x30' },
          { series: 'up{job="parley", instance="b"}', values: '1x32' },
          { series: 'up{job="parley-solo", instance="s"}', values: '0x32' },
          // c1: 1 % of attempts fail; c2: every attempt fails before streaming (no started series at all);
          // c3: 10 % break mid-stream.
          { series: 'parley_generations_started_total{job="parley", instance="a", model="m", connection="c1"}', values: '0+100x30' },
          { series: 'parley_upstream_errors_total{job="parley", instance="a", connection="c1", kind="status"}', values: '0+1x30' },
          { series: 'parley_upstream_errors_total{job="parley", instance="a", connection="c2", kind="timeout"}', values: '0+10x30' },
          { series: 'parley_generations_started_total{job="parley", instance="a", model="m", connection="c3"}', values: '0+100x30' },
          { series: 'parley_upstream_errors_total{job="parley", instance="a", connection="c3", kind="midstream"}', values: '0+10x30' },
          { series: 'parley_dependency_errors_total{job="parley", instance="a", dependency="redis"}', values: '0+3x30' },
          { series: 'parley_dependency_errors_total{job="parley", instance="a", dependency="storage"}', values: '0x30' },
          { series: 'parley_dependency_up{job="parley", instance="a", dependency="redis"}', values: '1 1 0x30' },
          { series: 'parley_dependency_up{job="parley", instance="b", dependency="redis"}', values: '1x32' },
          { series: 'parley_dependency_up{job="parley", instance="a", dependency="database"}', values: '1x32' },
          { series: 'parley_signin_throttled_total{job="parley", instance="a"}', values: '0x10 0+2x5 10x15' },
        ],
        alert_rule_test: [
          alert('5m', 'ParleyDbPoolExhausted', []),
          alert('8m', 'ParleyDbPoolExhausted', [{ ...parley, instance: 'a', severity: 'ticket' }]),
          alert('20m', 'ParleyDbPoolNearlyFull', [{ ...parley, instance: 'b', severity: 'ticket' }]),
          alert('8m', 'ParleyEventLoopLagHigh', []),
          alert('12m', 'ParleyEventLoopLagHigh', [{ ...parley, instance: 'a', severity: 'ticket' }]),
          alert('12m', 'ParleyEventLoopSaturated', [{ ...parley, instance: 'a', severity: 'ticket' }]),
          alert('20m', 'ParleyUpstreamErrorRateHigh', [
            { ...parley, connection: 'c2', severity: 'ticket' },
            { ...parley, connection: 'c3', severity: 'ticket' },
          ]),
          alert('3m', 'ParleyDependencyErrors', []),
          alert('10m', 'ParleyDependencyErrors', [{ ...parley, dependency: 'redis', severity: 'ticket' }]),
          alert('5m', 'ParleyDependencyDown', []),
          alert('10m', 'ParleyDependencyDown', [{ ...parley, instance: 'a', dependency: 'redis', severity: 'ticket' }]),
          // At 5 min instance a (down since 2 min) is still pending; parley-solo (down since 0) fires.
          alert('5m', 'ParleyInstanceDown', [{ job: 'parley-solo', instance: 's', severity: 'ticket' }]),
          alert('10m', 'ParleyInstanceDown', [
            { ...parley, instance: 'a', severity: 'ticket' },
            { job: 'parley-solo', instance: 's', severity: 'ticket' },
          ]),
          alert('10m', 'ParleyAllInstancesDown', [{ job: 'parley-solo', severity: 'page' }]),
          alert('20m', 'ParleyTargetsMissing', []),
          // Sign-ins slowed from minute 10 to 15: the alert holds while they are in the last 10 minutes.
          alert('9m', 'ParleySigninThrottled', []),
          alert('12m', 'ParleySigninThrottled', [{ ...parley, severity: 'ticket' }]),
          alert('28m', 'ParleySigninThrottled', []),
        ],
      },
    ],
  };
}
