/**
 * deploy/: the Grafana dashboard and the Prometheus alert rules parse, have the shape their
 * consumers need, and use only metrics the server exports: every metric name in their
 * PromQL is a series of the running server's GET /metrics (histograms as _bucket, _sum,
 * _count), apart from `up`, which Prometheus itself records. The Helm chart's copies in
 * helm/metapixel/files/ are the same files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { HELM, renderChart } from '../support/helm';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = path.resolve(__dirname, '..', '..');
const DASHBOARD = 'deploy/grafana/metapixel-dashboard.json';
const RULES = 'deploy/prometheus/metapixel-alerts.yaml';
const FROM_PROMETHEUS = new Set(['up']);

const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');

interface Panel {
  type: string;
  title: string;
  panels?: Panel[];
  targets?: { expr: string; refId: string }[];
  gridPos?: object;
}
interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/**
 * Metric names in a PromQL expression: identifiers that are not functions or aggregations
 * (followed by "("), keywords, label names (inside {} or the lists after by/without/on/
 * ignoring/group_*), durations, numbers, strings or Grafana variables.
 */
function metricNames(expr: string): string[] {
  let e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\$\{?\w+\}?/g, ' ') // Grafana variables ($__rate_interval, ${job})
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  e = e.replace(/\blabel_values\s*\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)/g, ' $1 '); // Grafana: label_values(metric, label)
  const names = new Set<string>();
  for (const m of e.matchAll(/(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || PROMQL_WORDS.has(m[1].toLowerCase())) continue;
    names.add(m[1]);
  }
  return [...names];
}

function dashboardExprs(): { where: string; expr: string }[] {
  const d = JSON.parse(read(DASHBOARD)) as { panels: Panel[]; templating: { list: { name: string; definition?: string }[] } };
  const out: { where: string; expr: string }[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}" ${t.refId}`, expr: t.expr });
      walk(p.panels ?? []);
    }
  };
  walk(d.panels);
  for (const v of d.templating.list) if (v.definition) out.push({ where: `variable ${v.name}`, expr: v.definition });
  return out;
}

function rules(): Rule[] {
  const doc = YAML.parse(read(RULES)) as { groups: { name: string; rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/** Series names the server exports, from the # TYPE lines of its /metrics text. */
function exportedSeries(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
  }
  return names;
}

test('the PromQL reader finds metric names and nothing else', () => {
  expect(
    metricNames(
      'histogram_quantile(0.95, sum by (le, method) (rate(metapixel_rpc_duration_seconds_bucket{job=~"$job", code!="OK"}[$__rate_interval]))) / on (method) group_left sum(x_total offset 5m) > bool 1e3',
    ).sort(),
  ).toEqual(['metapixel_rpc_duration_seconds_bucket', 'x_total']);
  expect(metricNames('time() - metapixel_process_start_time_seconds{job=~"$job"}')).toEqual(['metapixel_process_start_time_seconds']);
  expect(metricNames('label_values(metapixel_process_start_time_seconds, job)')).toEqual(['metapixel_process_start_time_seconds']);
  expect(metricNames('up{job=~".*metapixel.*"} == 0')).toEqual(['up']);
});

test('the dashboard is a Grafana dashboard with Prometheus queries', () => {
  const d = JSON.parse(read(DASHBOARD)) as { uid: string; title: string; schemaVersion: number; panels: Panel[] };
  expect(d.uid).toMatch(/^[\w-]{1,40}$/);
  expect(d.title).toBeTruthy();
  expect(d.schemaVersion).toBeGreaterThanOrEqual(30);
  const queries = d.panels.filter((p) => p.type !== 'row');
  expect(queries.length).toBeGreaterThan(5);
  for (const p of queries) {
    expect({ panel: p.title, targets: (p.targets ?? []).length > 0, gridPos: !!p.gridPos }).toEqual({
      panel: p.title,
      targets: true,
      gridPos: true,
    });
  }
});

test('the rules file is a Prometheus rules file: named alerts with expr, severity and summary', () => {
  const doc = YAML.parse(read(RULES)) as { groups: { name: string; rules: Rule[] }[] };
  expect(doc.groups.length).toBeGreaterThan(0);
  const names = new Set<string>();
  for (const r of rules()) {
    expect(r.alert ?? r.record).toMatch(/^[A-Za-z_:][\w:]*$/);
    expect(names.has(r.alert ?? r.record!)).toBe(false);
    names.add(r.alert ?? r.record!);
    expect(typeof r.expr).toBe('string');
    if (r.for) expect(r.for).toMatch(/^\d+[smhd]$/);
    if (r.alert) {
      expect(['critical', 'warning', 'info']).toContain(r.labels?.severity);
      expect(r.annotations?.summary).toBeTruthy();
    }
  }
});

test("the chart's copies in helm/metapixel/files/ are the deploy/ files", () => {
  expect(read('helm/metapixel/files/metapixel-dashboard.json')).toBe(read(DASHBOARD));
  expect(read('helm/metapixel/files/metapixel-alerts.yaml')).toBe(read(RULES));
});

(HELM ? test : test.skip)('the chart ships them as a PrometheusRule and a dashboard ConfigMap, with a ServiceMonitor, when asked', () => {
  const off = renderChart({});
  expect(off.objects.map((o) => o.kind)).not.toEqual(expect.arrayContaining(['PrometheusRule']));
  const { objects, error } = renderChart({
    monitoring: {
      serviceMonitor: { enabled: true },
      prometheusRule: { enabled: true, labels: { release: 'prom' } },
      grafanaDashboard: { enabled: true },
    },
  });
  expect(error).toBeUndefined();
  const rule = objects.find((o) => o.kind === 'PrometheusRule');
  expect(rule?.apiVersion).toBe('monitoring.coreos.com/v1');
  expect(rule?.metadata.labels?.release).toBe('prom');
  expect(rule?.spec).toEqual(YAML.parse(read(RULES)));
  const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard'));
  expect(dashboard?.metadata.labels?.grafana_dashboard).toBe('1');
  expect(JSON.parse(dashboard?.data?.['metapixel-dashboard.json'] ?? '{}')).toEqual(JSON.parse(read(DASHBOARD)));
  const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
  const service = objects.find((o) => o.kind === 'Service' && !o.metadata.name.includes('mongodb'));
  expect(monitor?.spec).toMatchObject({ endpoints: [{ port: 'http', path: '/metrics' }] });
  expect((service?.spec as { ports: { name: string }[] }).ports.map((p) => p.name)).toContain('http');
  expect((monitor?.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels).toEqual(
    expect.objectContaining((service?.spec as { selector: Record<string, string> }).selector),
  );
});

describe('against the running server', () => {
  let server: TestServer;
  let exported: Set<string>;
  beforeAll(async () => {
    server = await startTestServer();
    const res = await fetch(`${server.restUrl}/metrics`);
    exported = exportedSeries(await res.text());
  });
  afterAll(async () => {
    await server?.stop();
  });

  test('/metrics is read (so an empty set cannot pass the checks below)', () => {
    expect(exported.has('metapixel_rpc_requests_total')).toBe(true);
    expect(exported.has('metapixel_rpc_duration_seconds_bucket')).toBe(true);
    expect(exported.has('metapixel_process_resident_memory_bytes')).toBe(true);
    expect(exported.has('metapixel_no_such_metric')).toBe(false);
  });

  test.each([
    ['dashboard', dashboardExprs],
    ['alert rules', () => rules().map((r) => ({ where: r.alert ?? r.record!, expr: r.expr }))],
  ])('every metric used by the %s is exported', (_what, exprs) => {
    const missing: string[] = [];
    let used = 0;
    for (const { where, expr } of exprs()) {
      for (const name of metricNames(expr)) {
        used++;
        if (!exported.has(name) && !FROM_PROMETHEUS.has(name)) missing.push(`${where}: ${name}`);
      }
    }
    expect(used).toBeGreaterThan(3);
    expect(missing).toEqual([]);
  });
});
