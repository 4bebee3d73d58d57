/**
 * Health: readiness (/readyz) and the figures of /metrics, read from its Prometheus text
 * as any scraper does: index sizes, ingestion lag, inference queue depth, call counts.
 */
import { getText, metricsKey, setMetricsKey } from '../api';
import { clear, field, fmtBytes, h, notice, table } from '../dom';
import { parseProm, quantile, sum, type Sample } from '../prom';

export function renderHealth(root: HTMLElement): () => void {
  const out = h('div', { 'aria-live': 'polite' });
  let timer: number | undefined;
  let stopped = false;
  const refresh = async () => {
    window.clearTimeout(timer);
    try {
      const [ready, metrics] = await Promise.all([getText('/readyz'), getText('/metrics')]);
      clear(out, readiness(ready), metrics.status === 200 ? figures(parseProm(metrics.text)) : metricsClosed(metrics.status, refresh));
    } catch (e) {
      clear(out, notice('error', `The server could not be reached: ${(e as Error).message}`));
    }
    if (!stopped) timer = window.setTimeout(() => void refresh(), 5000);
  };
  clear(root, h('h1', {}, 'Health'), out);
  void refresh();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
  };
}

function readiness(r: { status: number; text: string }): HTMLElement {
  let checks: Record<string, string> = {};
  try {
    checks = (JSON.parse(r.text) as { checks?: Record<string, string> }).checks ?? {};
  } catch {
    /* not JSON: shown by status only */
  }
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Readiness ', h('span', { class: `chip ${r.status === 200 ? 'ok' : 'bad'}` }, r.status === 200 ? 'ready' : 'not ready')),
    h('ul', { class: 'plain' }, ...Object.entries(checks).map(([k, v]) => h('li', {}, `${k}: ${v}`))),
  );
}

function metricsClosed(status: number, refresh: () => Promise<void>): HTMLElement {
  const key = h('input', { type: 'password', name: 'metricsKey', autocomplete: 'off', value: metricsKey() });
  return h(
    'form',
    {
      class: 'card',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        setMetricsKey(key.value.trim());
        void refresh();
      },
    },
    notice('error', `/metrics answered HTTP ${status}: it needs the METAPIXEL_METRICS_KEY bearer token (kept in this tab only).`),
    field('Metrics key', key),
    h('button', { type: 'submit' }, 'Use key'),
  );
}

function stat(label: string, value: string, hint?: string): HTMLElement {
  return h(
    'div',
    { class: 'stat' },
    h('span', { class: 'value' }, value),
    h('span', { class: 'label' }, label),
    hint ? h('small', {}, hint) : null,
  );
}

function seconds(q: { le: number; over: boolean } | undefined): string {
  if (q === undefined) return '–';
  const t = q.le < 1 ? `${Math.round(q.le * 1000)} ms` : `${q.le} s`;
  return `${q.over ? '>' : '≤'} ${t}`;
}

function figures(m: Sample[]): HTMLElement {
  const perSet = m.filter((s) => s.name === 'metapixel_index_regions' && s.labels.product_set);
  const lagCount = sum(m, 'metapixel_index_lag_seconds_count');
  const lagMean = lagCount ? sum(m, 'metapixel_index_lag_seconds_sum') / lagCount : undefined;
  const models = [...new Set(m.filter((s) => s.name === 'metapixel_inference_queue_depth').map((s) => s.labels.model))];
  const calls = sum(m, 'metapixel_rpc_requests_total');
  const failed = m.filter((s) => s.name === 'metapixel_rpc_requests_total' && s.labels.code !== 'OK').reduce((n, s) => n + s.value, 0);
  return h(
    'div',
    {},
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Search index'),
      h(
        'div',
        { class: 'stats' },
        stat('regions indexed', sum(m, 'metapixel_index_regions').toLocaleString()),
        stat('index memory', fmtBytes(sum(m, 'metapixel_index_bytes'))),
        stat('sets rebuilt', sum(m, 'metapixel_index_rebuilds_total').toLocaleString()),
        stat('changes applied', sum(m, 'metapixel_index_changes_applied_total').toLocaleString()),
      ),
      perSet.length
        ? table(
            ['Product set', 'Regions'],
            perSet.map((s) => h('tr', {}, h('td', {}, s.labels.product_set), h('td', {}, s.value.toLocaleString()))),
          )
        : h('p', { class: 'hint' }, 'Per-set sizes appear with METAPIXEL_METRICS_PER_SET=true.'),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Ingestion lag'),
      h('p', { class: 'hint' }, 'From a catalog change to its being searchable in this process.'),
      h(
        'div',
        { class: 'stats' },
        stat('changes measured', lagCount.toLocaleString()),
        stat('mean', lagMean === undefined ? '–' : `${(lagMean * 1000).toFixed(0)} ms`),
        stat('p50', seconds(quantile(m, 'metapixel_index_lag_seconds', 0.5))),
        stat('p95', seconds(quantile(m, 'metapixel_index_lag_seconds', 0.95))),
      ),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Inference queues'),
      models.length
        ? table(
            ['Model', 'Running', 'Waiting', 'p95 run'],
            models.map((model) => {
              const runs = m.filter((s) => s.labels.model === model && s.name.startsWith('metapixel_inference_duration_seconds'));
              return h(
                'tr',
                { 'data-model': model },
                h('td', {}, model),
                h('td', {}, String(sum(m, 'metapixel_inference_queue_depth', { model, state: 'running' }))),
                h('td', {}, String(sum(m, 'metapixel_inference_queue_depth', { model, state: 'waiting' }))),
                h('td', {}, seconds(quantile(runs, 'metapixel_inference_duration_seconds', 0.95))),
              );
            }),
          )
        : h('p', { class: 'hint' }, 'No model has run yet.'),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'API calls'),
      h('div', { class: 'stats' }, stat('calls answered', calls.toLocaleString()), stat('not OK', failed.toLocaleString())),
    ),
  );
}
