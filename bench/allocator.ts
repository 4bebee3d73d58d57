/**
 * glibc's malloc thresholds side by side: two built servers, one with each setting, given
 * the same catalog (CreateReferenceImage on real photos) and then the same PRODUCT_SEARCH
 * queries, each call made to one server and then the other (alternating which goes first),
 * so a slow spell of the host falls on both. Reports per server the latency p50/p95, the CPU
 * time the server spent per call (from /proc: what a setting costs, less noisy than
 * latency), and its RSS at the end. Run it twice with the settings swapped (--a/--b).
 * A setting is `glibc` (both variables unset: glibc's own rule), `fixed` (what `npm start`
 * sets), or MMAP[/TRIM] in bytes. What it decided: docs/deployment.md, "Memory allocator";
 * RSS after a large build: npm run bench:scale -- --malloc glibc|fixed.
 * Usage: npm run bench:allocator [-- --a glibc --b fixed --products 40 --queries 80]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { devImagesDir } from '../test/support/dev-images';
import { startFakeGcs } from '../test/support/fake-gcs';
import { GLIBC_OWN_MALLOC, startBuiltServer, type BuiltServer } from './built-server';
import { photoVariant as variant, queryPhoto } from './photo-variant';

const { values } = parseArgs({
  options: {
    a: { type: 'string', default: 'glibc' },
    b: { type: 'string', default: 'fixed' },
    products: { type: 'string', default: '40' },
    queries: { type: 'string', default: '80' },
  },
});
const P = 'projects/bench/locations/eu';
const pct = (s: number[], p: number) => [...s].sort((x, y) => x - y)[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];

/** The environment a setting names (undefined unsets: startBuiltServer otherwise sets `fixed`). */
function mallocEnv(setting: string): Record<string, string | undefined> {
  if (setting === 'glibc') return GLIBC_OWN_MALLOC;
  if (setting === 'fixed') return {};
  const m = /^(\d+)(?:\/(\d+))?$/.exec(setting);
  if (!m) throw new Error(`a setting is glibc, fixed or MMAP[/TRIM] bytes, not ${setting}`);
  return { MALLOC_MMAP_THRESHOLD_: m[1], MALLOC_TRIM_THRESHOLD_: m[2] };
}

/** CPU time (user + system) the process has used, in ms. */
function cpuMs(s: BuiltServer): number {
  const fields = readFileSync(`/proc/${s.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 1/100 s
}

function rssMb(s: BuiltServer): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.child.pid}/status`, 'utf8'))![1]) / 1024;
}

async function main() {
  const photos = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  const settings = [values.a, values.b];
  const gcs = await startFakeGcs();
  const servers: BuiltServer[] = [];
  try {
    for (const setting of settings)
      servers.push(await startBuiltServer({ env: { STORAGE_EMULATOR_HOST: gcs.host, ...mallocEnv(setting) } }));
    const call = async (s: number, method: string, p: string, body?: unknown) => {
      const res = await fetch(`${servers[s].url}/v1${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${p}: ${(await res.text()).slice(0, 300)}`);
      return res.json();
    };
    /** Runs the call on both servers, first one then the other by turns, timing each. */
    const stats = settings.map(() => ({ ingestMs: [] as number[], ingestCpu: 0, searchMs: [] as number[], searchCpu: 0 }));
    const onBoth = async (turn: number, kind: 'ingest' | 'search', f: (s: number) => Promise<unknown>) => {
      for (const s of turn % 2 ? [1, 0] : [0, 1]) {
        const cpu = cpuMs(servers[s]);
        const t = performance.now();
        await f(s);
        stats[s][`${kind}Ms`].push(performance.now() - t);
        stats[s][`${kind}Cpu`] += cpuMs(servers[s]) - cpu;
      }
    };
    const n = Number(values.products);
    for (let s = 0; s < 2; s++) await call(s, 'POST', `/${P}/productSets?productSetId=s`, { displayName: 'S' });
    for (let i = 0; i < n; i++) {
      gcs.put('b', `p${i}.jpg`, await variant(photos[i % photos.length], i));
      for (let s = 0; s < 2; s++)
        await call(s, 'POST', `/${P}/products?productId=p${i}`, { displayName: `p${i}`, productCategory: 'general-v1' });
      await onBoth(i, 'ingest', (s) => call(s, 'POST', `/${P}/products/p${i}/referenceImages`, { uri: `gs://b/p${i}.jpg` }));
      for (let s = 0; s < 2; s++) await call(s, 'POST', `/${P}/productSets/s:addProduct`, { product: `${P}/products/p${i}` });
    }
    const nq = Number(values.queries);
    for (let q = 0; q < nq; q++) {
      const i = q % n;
      const query = await queryPhoto(photos[i % photos.length], i);
      const request = {
        requests: [
          {
            image: { content: query.toString('base64') },
            features: [{ type: 'PRODUCT_SEARCH', maxResults: 5 }],
            imageContext: { productSearchParams: { productSet: `${P}/productSets/s`, productCategories: ['general-v1'] } },
          },
        ],
      };
      await onBoth(q, 'search', (s) => call(s, 'POST', '/images:annotate', request));
    }
    settings.forEach((setting, s) => {
      const st = stats[s];
      console.log(
        JSON.stringify({
          bench: 'allocator',
          setting,
          search_p50_ms: +pct(st.searchMs, 50).toFixed(1),
          search_p95_ms: +pct(st.searchMs, 95).toFixed(1),
          search_cpu_ms: +(st.searchCpu / nq).toFixed(1),
          ingest_p50_ms: +pct(st.ingestMs, 50).toFixed(1),
          ingest_cpu_ms: +(st.ingestCpu / n).toFixed(1),
          rss_mb: Math.round(rssMb(servers[s])),
        }),
      );
    });
  } finally {
    for (const s of servers) await s.stop();
    await gcs.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
