/**
 * OBJECT_LOCALIZATION throughput and latency through the REST API, as a client sees it.
 * Starts the built server (dist/app/main.js) in its own process on loopback, sends real
 * photos (base64 content) from N concurrent clients, and prints a table and one JSON line
 * per concurrency level. Usage: npm run bench:annotate [-- --requests 160 --levels 1,2,4,8
 * --repeat 1] (`--repeat N` runs the levels N times over and adds each level's median run).
 * `--server FILE` runs another build, for back-to-back comparisons in the same conditions:
 * e.g. dist/ copied to .cache/before/dist with protos, models, node_modules and
 * package.json symlinked beside it (the server finds them from its parent directory).
 * `--per-image` also prints each photo's own p50 per level. `--profile DIR` writes V8 CPU profiles of the server's threads (main and inference
 * workers) there. Extra server environment (e.g. METAPIXEL_DETECT_MIRROR=never) passes through.
 *
 * Per level it also reports where the server's time went: CPU ms per image of the server's
 * main thread and of all its threads (from /proc, Linux only), and per model the runs per
 * image and the mean run time (from /metrics), so a change can be judged stage by stage.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { devImagesDir } from '../test/support/dev-images';
import { startBuiltServer } from './built-server';

const { values } = parseArgs({
  options: {
    server: { type: 'string', default: 'dist/app/main.js' },
    profile: { type: 'string' },
    'per-image': { type: 'boolean', default: false },
    requests: { type: 'string', default: '160' },
    repeat: { type: 'string', default: '1' },
    levels: { type: 'string', default: '1,2,4,8' },
    warmup: { type: 'string', default: '16' },
  },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** CPU ms (user + system) of the process's main thread and of all its threads. */
function cpuMs(pid: number): { main: number; all: number } | undefined {
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return undefined;
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let main = 0;
  let all = 0;
  for (const tid of readdirSync(dir)) {
    try {
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
      const f = readFileSync(`${dir}/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      const ms = (Number(f[11]) + Number(f[12])) * tick;
      all += ms;
      if (Number(tid) === pid) main = ms;
    } catch {
      /* thread ended */
    }
  }
  return { main, all };
}

/** Per model: [number of runs, total seconds] from the inference duration histogram. */
async function modelRuns(url: string): Promise<Map<string, [number, number]>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, [number, number]>();
  for (const m of text.matchAll(/^metapixel_inference_duration_seconds_(sum|count)\{model="([^"]+)"\} (\S+)$/gm)) {
    const e = out.get(m[2]) ?? [0, 0];
    e[m[1] === 'count' ? 0 : 1] = Number(m[3]);
    out.set(m[2], e);
  }
  return out;
}

async function main() {
  const names = readdirSync(devImagesDir()).filter((f) => /\.(jpg|png)$/.test(f));
  // Request bodies are encoded once per photo, before any timing, as load generators do:
  // the timed window is the HTTP exchange and the parse of the answer, not the bench's own
  // JSON.stringify and UTF-8 encoding of a megabyte of base64 (about 5 ms a request here).
  const bodies = names.map((f) =>
    Buffer.from(
      JSON.stringify({
        requests: [
          {
            image: { content: readFileSync(path.join(devImagesDir(), f)).toString('base64') },
            features: [{ type: 'OBJECT_LOCALIZATION' }],
          },
        ],
      }),
    ),
  );
  const perImage = new Map<string, number[]>();
  const server = await startBuiltServer({
    script: values.server,
    nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.profile)}`] : [],
  });
  const { url } = server;
  let next = 0;
  const annotate = async (): Promise<number> => {
    const k = next++ % bodies.length;
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/images:annotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bodies[k],
    });
    const body = (await res.json()) as { responses?: { error?: unknown }[] };
    if (!res.ok || body.responses?.[0]?.error) throw new Error(`annotate failed: ${JSON.stringify(body).slice(0, 300)}`);
    const ms = performance.now() - t0;
    if (!perImage.has(names[k])) perImage.set(names[k], []);
    perImage.get(names[k])!.push(ms);
    return ms;
  };
  try {
    for (let i = 0; i < Number(values.warmup); i++) await annotate();
    const rows = [];
    const levels = values.levels.split(',').map(Number);
    for (const clients of Array.from({ length: Number(values.repeat) }, () => levels).flat()) {
      const total = Number(values.requests);
      perImage.clear();
      const latencies: number[] = [];
      let issued = 0;
      const cpu0 = cpuMs(server.child.pid!);
      const runs0 = await modelRuns(url);
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
      const cpu1 = cpuMs(server.child.pid!);
      const runs1 = await modelRuns(url);
      const n = latencies.length;
      const models = Object.fromEntries(
        [...runs1].map(([model, [count, sum]]) => {
          const [c0, s0] = runs0.get(model) ?? [0, 0];
          return [
            model,
            { runs_per_image: +((count - c0) / n).toFixed(2), run_ms: +((1000 * (sum - s0)) / Math.max(1, count - c0)).toFixed(1) },
          ];
        }),
      );
      latencies.sort((a, b) => a - b);
      if (values['per-image']) {
        // Which photos make up the percentiles (a photo's own p50 at this level).
        console.log(
          `per image at ${clients} client(s): ${[...perImage]
            .map(
              ([f, v]) =>
                `${f} ${percentile(
                  v.sort((a, b) => a - b),
                  50,
                ).toFixed(0)}`,
            )
            .join(', ')}`,
        );
      }
      rows.push({
        bench: 'annotate',
        feature: 'OBJECT_LOCALIZATION',
        clients,
        images: latencies.length,
        images_per_s: +(latencies.length / seconds).toFixed(1),
        p50_ms: +percentile(latencies, 50).toFixed(1),
        p90_ms: +percentile(latencies, 90).toFixed(1),
        p99_ms: +percentile(latencies, 99).toFixed(1),
        server_cpu_ms_per_image:
          cpu0 && cpu1
            ? { main_thread: +((cpu1.main - cpu0.main) / n).toFixed(1), all_threads: +((cpu1.all - cpu0.all) / n).toFixed(1) }
            : null,
        models,
        loadavg: os.loadavg().map((v) => +v.toFixed(2)),
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
      });
    }
    console.log('clients  images  images/s   p50 ms   p90 ms   p99 ms  cpu ms/img main/all  load');
    for (const r of rows) {
      const cpu = r.server_cpu_ms_per_image ? `${r.server_cpu_ms_per_image.main_thread}/${r.server_cpu_ms_per_image.all_threads}` : '-';
      console.log(
        `${String(r.clients).padStart(7)} ${String(r.images).padStart(7)} ${r.images_per_s.toFixed(1).padStart(9)} ${r.p50_ms.toFixed(1).padStart(8)} ${r.p90_ms.toFixed(1).padStart(8)} ${r.p99_ms.toFixed(1).padStart(8)}  ${cpu.padStart(18)}  ${r.loadavg[0]}`,
      );
    }
    if (Number(values.repeat) > 1) {
      // Runs on this VM vary by ±5 ms between minutes: the median run per level is the figure to quote.
      for (const clients of levels) {
        const mine = rows.filter((r) => r.clients === clients);
        const mid = (v: number[]) =>
          percentile(
            v.sort((a, b) => a - b),
            50,
          );
        console.log(
          `${clients} client(s), ${mine.length} runs: median images/s ${mid(mine.map((r) => r.images_per_s))}, median p50 ${mid(mine.map((r) => r.p50_ms))} ms (p50 range ${Math.min(...mine.map((r) => r.p50_ms))}–${Math.max(...mine.map((r) => r.p50_ms))})`,
        );
      }
    }
    for (const r of rows) console.log(JSON.stringify(r));
  } finally {
    await server.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
