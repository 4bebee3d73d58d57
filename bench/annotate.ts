/**
 * OBJECT_LOCALIZATION throughput and latency through the REST API, as a client sees it.
 * Starts the built server (dist/main.js) in its own process on loopback, sends real
 * photos (base64 content) from N concurrent clients, and prints a table and one JSON line
 * per concurrency level. Usage: npm run bench:annotate [-- --requests 160 --levels 1,2,4,8]
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { devImagesDir } from '../test/support/dev-images';
import { freePort } from '../test/support/process';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '160' }, levels: { type: 'string', default: '1,2,4,8' }, warmup: { type: 'string', default: '16' } },
});
const ROOT = path.resolve(__dirname, '..');

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const photos = readdirSync(devImagesDir()).filter((f) => /\.(jpg|png)$/.test(f)).map((f) => readFileSync(path.join(devImagesDir(), f)).toString('base64'));
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-bench-'));
  const server = spawn(process.execPath, [path.join(ROOT, 'dist', 'main.js')], {
    env: { ...process.env, PORT: String(port), GRPC_PORT: String(await freePort()), METAPIXEL_DATA_DIR: dataDir, METAPIXEL_LOG_LEVEL: 'warn', METAPIXEL_HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      /* starting */
    }
    if (i > 300) throw new Error('server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  let next = 0;
  const annotate = async (): Promise<number> => {
    const content = photos[next++ % photos.length];
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/images:annotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ image: { content }, features: [{ type: 'OBJECT_LOCALIZATION' }] }] }),
    });
    const body = (await res.json()) as { responses?: { error?: unknown }[] };
    if (!res.ok || body.responses?.[0]?.error) throw new Error(`annotate failed: ${JSON.stringify(body).slice(0, 300)}`);
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < Number(values.warmup); i++) await annotate();
    const rows = [];
    for (const clients of values.levels!.split(',').map(Number)) {
      const total = Number(values.requests);
      const latencies: number[] = [];
      let issued = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (issued < total) {
            issued++;
            latencies.push(await annotate());
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      rows.push({
        bench: 'annotate', feature: 'OBJECT_LOCALIZATION', clients, images: latencies.length,
        images_per_s: +(latencies.length / seconds).toFixed(1),
        p50_ms: +percentile(latencies, 50).toFixed(1), p90_ms: +percentile(latencies, 90).toFixed(1), p99_ms: +percentile(latencies, 99).toFixed(1),
        node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model,
      });
    }
    console.log('clients  images  images/s   p50 ms   p90 ms   p99 ms');
    for (const r of rows) {
      console.log(`${String(r.clients).padStart(7)} ${String(r.images).padStart(7)} ${r.images_per_s.toFixed(1).padStart(9)} ${r.p50_ms.toFixed(1).padStart(8)} ${r.p90_ms.toFixed(1).padStart(8)} ${r.p99_ms.toFixed(1).padStart(8)}`);
    }
    for (const r of rows) console.log(JSON.stringify(r));
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
