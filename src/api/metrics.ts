/**
 * Prometheus metrics, served at GET /metrics. The registry is built by the composition
 * root and fed through callbacks (CallRunner's observer, the inference queues' onRun), so
 * no core module imports prom-client.
 */
import { timingSafeEqual } from 'node:crypto';
import express from 'express';
import { unauthenticated } from '../core/errors';
import { sendError } from './rest/errors';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface QueueLoad {
  model: string;
  running: number;
  waiting: number;
}

/** Cumulative counters of the search index (CatalogIndex.counters) and of its query side. */
export interface IndexCounters {
  rebuilds: number;
  changesApplied: number;
  /** Queries onnxruntime failed to project (CompactEmbeddingCodec.batchFallbacks). */
  projectionFallbacks: number;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly calls = new Counter({
    name: 'metapixel_rpc_requests_total',
    help: 'Finished API calls by RPC, transport and google.rpc status code.',
    labelNames: ['method', 'transport', 'code'] as const,
    registers: [this.registry],
  });
  private readonly callSeconds = new Histogram({
    name: 'metapixel_rpc_duration_seconds',
    help: 'API call latency by RPC and transport.',
    labelNames: ['method', 'transport'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly indexLagSeconds = new Histogram({
    name: 'metapixel_index_lag_seconds',
    help: 'Ingestion lag: from a catalog change (by this or another process) to its being searchable in this process.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly inferenceSeconds = new Histogram({
    name: 'metapixel_inference_duration_seconds',
    help: 'Time of one model run (excluding queueing), by model.',
    labelNames: ['model'] as const,
    buckets: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64],
    registers: [this.registry],
  });

  constructor(
    queueLoad: () => QueueLoad[] = () => [],
    indexSizes: () => { set: string; regions: number; bytes: number }[] = () => [],
    indexCounters: () => IndexCounters = () => ({ rebuilds: 0, changesApplied: 0, projectionFallbacks: 0 }),
    private readonly access: MetricsAccess = { key: '', required: false, perSet: false },
  ) {
    collectDefaultMetrics({ register: this.registry, prefix: 'metapixel_' });
    // Product set names belong to their tenants: labelled per set only when the operator
    // asks (METAPIXEL_METRICS_PER_SET), else one total.
    const perSet = access.perSet;
    for (const [name, help, field] of [
      [
        'metapixel_index_rebuilds_total',
        'Product sets built whole from the store (start-up, set created or recovered), not by applying one change.',
        'rebuilds',
      ],
      [
        'metapixel_index_changes_applied_total',
        'Index changes (a product in a set) applied from the change feed or by this process.',
        'changesApplied',
      ],
      [
        'metapixel_query_projection_fallbacks_total',
        'PRODUCT_SEARCH queries whose regions onnxruntime failed to project: they were projected in the WebAssembly kernel instead.',
        'projectionFallbacks',
      ],
    ] as const) {
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(indexCounters()[field]);
        },
      });
    }
    for (const [name, help, field] of [
      ['metapixel_index_regions', `Regions in the search index${perSet ? ', by product set' : ''}.`, 'regions'],
      ['metapixel_index_bytes', `Bytes of codes and embeddings held by the search index${perSet ? ', by product set' : ''}.`, 'bytes'],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: perSet ? (['product_set'] as const) : [],
        registers: [this.registry],
        collect() {
          this.reset();
          if (perSet) for (const s of indexSizes()) this.set({ product_set: s.set }, s[field]);
          else this.set(indexSizes().reduce((n, s) => n + s[field], 0));
        },
      });
    }
    new Gauge({
      name: 'metapixel_inference_queue_depth',
      help: 'Model runs in flight (state=running) and waiting (state=waiting), by model.',
      labelNames: ['model', 'state'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const q of queueLoad()) {
          this.set({ model: q.model, state: 'running' }, q.running);
          this.set({ model: q.model, state: 'waiting' }, q.waiting);
        }
      },
    });
  }

  /** CallRunner observer: one finished call. */
  readonly observeCall = (method: string, transport: string, code: string, seconds: number): void => {
    this.calls.inc({ method, transport, code });
    this.callSeconds.observe({ method, transport }, seconds);
  };

  /** Search index observer: one set rebuilt after a change. */
  readonly observeIndexLag = (seconds: number): void => {
    this.indexLagSeconds.observe(Math.max(0, seconds));
  };

  /** Inference queue observer: one finished model run. */
  readonly observeInference = (model: string, seconds: number): void => {
    this.inferenceSeconds.observe({ model }, seconds);
  };

  router(): express.Router {
    const r = express.Router();
    r.get('/metrics', async (req, res) => {
      const denied = this.refusal(req.headers.authorization);
      if (denied) return sendError(res, unauthenticated(denied));
      res.set('content-type', this.registry.contentType).send(await this.registry.metrics());
    });
    return r;
  }

  /** Why a scrape with this Authorization header is refused, or undefined to serve it. */
  private refusal(authorization: string | undefined): string | undefined {
    const { key, required } = this.access;
    if (!key)
      return required
        ? '/metrics is closed: API keys are configured, so it needs METAPIXEL_METRICS_KEY set and sent as a bearer token.'
        : undefined;
    const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(key);
    return a.length === b.length && timingSafeEqual(a, b) ? undefined : '/metrics needs the METAPIXEL_METRICS_KEY bearer token.';
  }
}

export interface MetricsAccess {
  /** The bearer token a scrape must present; '' = none. */
  key: string;
  /** No scrape without the key (API keys are configured); with no key set, /metrics is closed. */
  required: boolean;
  /** Label index sizes by product set (names of every tenant's sets). */
  perSet: boolean;
}
