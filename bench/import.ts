/**
 * ImportProductSets throughput (reference images/s) on real photos, through the real
 * @google-cloud/vision client over gRPC against the built server (dist/app/main.js) in its
 * own process. Each variant imports N distinct images (crops and tints of the development
 * photos, 800 px wide) in one CSV, timed from the RPC to the operation's end:
 *   detect: no bounding-poly, so the detectors choose the regions (the common case);
 *   polys:  a whole-image normalized bounding-poly on every line (detection skipped).
 * A short warm-up import runs first. Prints a table and one JSON line per variant.
 * Usage: npm run bench:import [-- --images 200 --variants detect,polys --concurrency 8]
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { productSearchClient } from '../test/support/clients';
import { devImagesDir } from '../test/support/dev-images';
import { startFakeGcs } from '../test/support/fake-gcs';
import { startBuiltServer } from './built-server';
import { photoVariant } from './photo-variant';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '200' },
    variants: { type: 'string', default: 'detect,polys' },
    concurrency: { type: 'string', default: '' },
    warmup: { type: 'string', default: '16' },
  },
});
const WHOLE = '"0.0,0.0,1.0,0.0,1.0,1.0,0.0,1.0"';

/** Variant i of a photo: its own crop, tint and JPEG, so every image is distinct. */
const variant = (file: string, i: number) => photoVariant(file, i, { from: 0.8, step: 0.04, width: 800 });

async function main() {
  const n = Number(values.images);
  const photos = readdirSync(devImagesDir())
    .filter((f) => /\.(jpg|png)$/.test(f))
    .sort();
  const gcs = await startFakeGcs();
  for (let i = 0; i < n; i++) gcs.put('bench', `v${i}.jpg`, await variant(photos[i % photos.length], i));
  const server = await startBuiltServer({
    env: { STORAGE_EMULATOR_HOST: gcs.host, ...(values.concurrency ? { METAPIXEL_IMPORT_CONCURRENCY: values.concurrency } : {}) },
  });
  const client = productSearchClient(server, 'grpc');
  try {
    /** Imports lines [0, count) of the variant in project `project`; returns seconds and ok lines. */
    const run = async (project: string, count: number, poly: string) => {
      const lines = Array.from({ length: count }, (_, i) => `gs://bench/v${i}.jpg,,set,p${i},general-v1,,,${poly}`);
      gcs.put('bench', `${project}.csv`, Buffer.from(lines.join('\n')));
      const t0 = performance.now();
      const [op] = await client.importProductSets({
        parent: `projects/${project}/locations/eu`,
        inputConfig: { gcsSource: { csvFileUri: `gs://bench/${project}.csv` } },
      });
      const [res] = await op.promise();
      const seconds = (performance.now() - t0) / 1000;
      const ok = res.statuses!.filter((s) => !s.code).length;
      if (ok < count) console.error(`${project}: ${count - ok} lines failed, e.g. ${JSON.stringify(res.statuses!.find((s) => s.code))}`);
      // Without a polygon the view lists the regions the detectors chose: one embedding each.
      const regions = res.referenceImages!.reduce((sum, r) => sum + (r.boundingPolys?.length ?? 0), 0);
      return { seconds, ok, regions };
    };
    await run('warmup', Math.min(n, Number(values.warmup)), '');
    const rows = [];
    for (const v of values.variants.split(',')) {
      const load1 = os.loadavg()[0];
      const { seconds, ok, regions } = await run(`bench-${v}`, n, v === 'polys' ? WHOLE : '');
      rows.push({
        bench: 'import',
        variant: v,
        images: ok,
        regions,
        seconds: +seconds.toFixed(1),
        images_per_s: +(ok / seconds).toFixed(1),
        concurrency: Number(values.concurrency || 8),
        load1_before: +load1.toFixed(2),
        load1_after: +os.loadavg()[0].toFixed(2),
        node: process.version,
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model,
      });
    }
    console.log('variant  images  regions  seconds  images/s  load1 before/after');
    for (const r of rows) {
      console.log(
        `${r.variant.padEnd(7)} ${String(r.images).padStart(7)} ${String(r.regions).padStart(8)} ${r.seconds.toFixed(1).padStart(8)} ${r.images_per_s.toFixed(1).padStart(9)}  ${r.load1_before} / ${r.load1_after}`,
      );
    }
    for (const r of rows) console.log(JSON.stringify(r));
  } finally {
    await client.close();
    await server.stop();
    await gcs.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
