/** /healthz: the process is alive. /readyz: every dependency answers (store, models…). */
import express from 'express';

export type ReadinessCheck = () => Promise<void>;

export function healthRouter(checks: Record<string, ReadinessCheck>, isDraining: () => boolean): express.Router {
  const r = express.Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const results: Record<string, string> = {};
    let ok = !isDraining();
    if (!ok) results.server = 'draining';
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          results[name] = 'ok';
        } catch (e) {
          ok = false;
          results[name] = (e as Error).message || 'failed';
        }
      }),
    );
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: results });
  });
  return r;
}
