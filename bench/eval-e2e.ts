/**
 * The figure of record for search quality: the built server, driven only through Google's
 * real @google-cloud/vision client, on real photos from Debian packages (test/fixtures/e2e-photos,
 * bench/e2e/photos.ts).
 *
 * Catalogs, built with CreateReferenceImage from gs:// objects:
 * - general:  every product in general-v1, reference images without polygons (the server
 *             chooses the regions);
 * - narrow:   the same products in homegoods-v2, without polygons (few photos hold a
 *             homegoods object, so this shows the narrow-category path);
 * - baseline: the same products in general-v1 with one whole-image polygon, queried with a
 *             whole-image boundingPoly: a plain whole-image embedding search, the column
 *             every change must beat.
 * Queries (bench/e2e/queries.ts): per product one of each synthetic kind, the real second
 * photos of the products that have one, and distractors (photos of nothing in any catalog).
 * Prints R@1, R@5 and mAP per kind and catalog, AUROC of correct top-1 scores against
 * distractor top-1 scores, the separating score threshold, PRODUCT_SEARCH latency, and one
 * JSON line. --check exits 1 when the general catalog's overall R@1 is below the baseline's.
 *
 * Usage: npm run eval:e2e [-- --reduced] [--check] [--transport grpc|rest] [--split all|heldout|dev]
 */
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { SeededRandom } from '../src/search/hasher/seeded-random';
import { imageAnnotatorClient, productSearchClient, type Transport } from '../test/support/clients';
import { startFakeGcs } from '../test/support/fake-gcs';
import { raw, type RawRgb } from '../tools/hashing/augment';
import { startBuiltServer } from './built-server';
import { auroc, bestThreshold, figures, percentile, type QueryOutcome } from './e2e/metrics';
import { e2ePhotos, type E2ePhoto } from './e2e/photos';
import { KIND_RECIPES, loadPhoto, makeQuery, QUERY_KINDS, type QueryKind } from './e2e/queries';
import { WHOLE_IMAGE_POLY } from './whole-image-poly';

const { values } = parseArgs({
  options: {
    reduced: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    transport: { type: 'string', default: 'grpc' },
    split: { type: 'string', default: 'all' },
    catalogs: { type: 'string' },
    server: { type: 'string' }, // another build's entry file (e.g. ../old/dist/app/main.js) to compare
    failures: { type: 'boolean', default: false }, // print every in-catalog query whose top-1 is wrong
    dump: { type: 'string' }, // write every query's results (kind, split, rank, scores) as JSON lines, for offline study
  },
});
const PARENT = 'projects/eval/locations/us-west1';

interface Catalog {
  name: 'general' | 'narrow' | 'baseline';
  category: string;
  wholeImagePoly: boolean;
}
const CATALOGS: Catalog[] = [
  { name: 'general', category: 'general-v1', wholeImagePoly: false },
  { name: 'narrow', category: 'homegoods-v2', wholeImagePoly: false },
  { name: 'baseline', category: 'general-v1', wholeImagePoly: true },
];

interface Query {
  kind: QueryKind;
  /** Product id, undefined for distractors. */
  product?: string;
  split: E2ePhoto['split'];
  bytes: Buffer;
}

async function buildQueries(products: E2ePhoto[][], seconds: E2ePhoto[], distractors: E2ePhoto[], backgrounds: RawRgb[]): Promise<Query[]> {
  const out: Query[] = [];
  const rng = new SeededRandom(20261204);
  for (const [i, refs] of products.entries()) {
    const src = await loadPhoto(refs[0].file);
    for (const kind of QUERY_KINDS) {
      out.push({
        kind,
        product: refs[0].group,
        split: refs[0].split,
        bytes: await makeQuery(kind, src, rng, i, backgrounds[i % backgrounds.length]),
      });
    }
  }
  for (const p of seconds)
    out.push({
      kind: 'second-photo',
      product: p.group,
      split: p.split,
      bytes: await raw(await loadPhoto(p.file))
        .jpeg({ quality: 90 })
        .toBuffer(),
    });
  for (const p of distractors)
    out.push({
      kind: 'distractor',
      split: p.split,
      bytes: await raw(await loadPhoto(p.file))
        .jpeg({ quality: 90 })
        .toBuffer(),
    });
  return out;
}

async function main() {
  const transport = values.transport as Transport;
  const all = e2ePhotos();
  const inSplit = (p: E2ePhoto) => values.split === 'all' || p.split === values.split;
  // A product is a group of reference photos; a group's 'second' photos are its real queries.
  const groups = new Map<string, E2ePhoto[]>();
  for (const p of all.filter((p) => p.role === 'reference' && inSplit(p))) groups.set(p.group, [...(groups.get(p.group) ?? []), p]);
  let products = [...groups.values()];
  let distractors = all.filter((p) => p.role === 'distractor');
  if (values.reduced) {
    products = products.filter((_, i) => i % 3 === 0);
    distractors = distractors.filter((_, i) => i % 2 === 0);
  }
  const ids = new Set(products.map((g) => g[0].group));
  const seconds = all.filter((p) => p.role === 'second' && ids.has(p.group));
  const backgrounds = await Promise.all(all.filter((p) => p.role === 'background').map((p) => loadPhoto(p.file)));
  const catalogs = CATALOGS.filter((c) =>
    values.catalogs ? values.catalogs.split(',').includes(c.name) : !values.reduced || c.name !== 'narrow',
  );

  const gcs = await startFakeGcs();
  const server = await startBuiltServer({ script: values.server, env: { STORAGE_EMULATOR_HOST: gcs.host } });
  const catalog = productSearchClient(server, transport);
  const annotator = imageAnnotatorClient(server, transport);
  try {
    for (const refs of products)
      for (const p of refs)
        gcs.put(
          'eval',
          p.id,
          await raw(await loadPhoto(p.file))
            .jpeg({ quality: 92 })
            .toBuffer(),
        );
    const ingestMs: number[] = [];
    for (const c of catalogs) {
      await catalog.createProductSet({ parent: PARENT, productSetId: c.name, productSet: { displayName: c.name } });
      for (const refs of products) {
        const id = `${c.name}-${refs[0].group}`;
        await catalog.createProduct({
          parent: PARENT,
          productId: id,
          product: { displayName: refs[0].group, productCategory: c.category },
        });
        for (const p of refs) {
          const t = performance.now();
          await catalog.createReferenceImage({
            parent: `${PARENT}/products/${id}`,
            referenceImageId: p.id.replace(/\.\w+$/, ''),
            referenceImage: { uri: `gs://eval/${p.id}`, ...(c.wholeImagePoly ? { boundingPolys: [WHOLE_IMAGE_POLY] } : {}) },
          });
          if (!c.wholeImagePoly) ingestMs.push(performance.now() - t);
        }
        await catalog.addProductToProductSet({ name: `${PARENT}/productSets/${c.name}`, product: `${PARENT}/products/${id}` });
      }
    }
    const queries = await buildQueries(products, seconds, distractors, backgrounds);
    const results: Record<string, QueryOutcome[]> = {};
    for (const c of catalogs) {
      results[c.name] = [];
      for (const q of queries) {
        const t = performance.now();
        const [res] = await annotator.batchAnnotateImages({
          requests: [
            {
              image: { content: q.bytes },
              features: [{ type: 'PRODUCT_SEARCH', maxResults: 10 }],
              imageContext: {
                productSearchParams: {
                  productSet: `${PARENT}/productSets/${c.name}`,
                  productCategories: [c.category],
                  ...(c.wholeImagePoly ? { boundingPoly: WHOLE_IMAGE_POLY } : {}),
                },
              },
            },
          ],
        });
        const ms = performance.now() - t;
        const r = res.responses?.[0];
        if (r?.error?.message) throw new Error(`${c.name} ${q.kind} ${q.product ?? ''}: ${r.error.message}`);
        const hits = r?.productSearchResults?.results ?? [];
        const rank = q.product ? hits.findIndex((h) => h.product?.name?.endsWith(`/products/${c.name}-${q.product}`)) + 1 : 0;
        results[c.name].push({ kind: q.kind, rank, topScore: hits[0]?.score ?? 0, distractor: !q.product, ms });
        if (values.dump) {
          const line = {
            catalog: c.name,
            kind: q.kind,
            product: q.product ?? null,
            split: q.split,
            rank,
            scores: hits.map((h) => h.score ?? 0),
          };
          appendFileSync(values.dump, `${JSON.stringify(line)}\n`);
        }
        if (values.failures && q.product && rank !== 1) {
          console.log(
            `miss ${c.name} ${q.kind} ${q.product}: rank ${rank || '-'}, top ${hits[0]?.product?.displayName ?? 'none'} ${(hits[0]?.score ?? 0).toFixed(3)}`,
          );
        }
      }
    }
    report(catalogs, results, ingestMs, {
      products: products.length,
      referenceImages: products.flat().length,
      seconds: seconds.length,
      distractors: distractors.length,
      transport,
    });
    if (values.check) {
      const overall = (name: string) => figures(results[name].filter((o) => !o.distractor)).r1;
      if (overall('general') < overall('baseline')) {
        console.error(`eval:e2e check FAILED: general R@1 ${overall('general')} < baseline R@1 ${overall('baseline')}`);
        process.exitCode = 1;
      } else console.log(`eval:e2e check passed: general R@1 ${overall('general')} >= baseline R@1 ${overall('baseline')}`);
    }
  } finally {
    await catalog.close();
    await annotator.close();
    await server.stop();
    await gcs.close();
  }
}

function report(catalogs: Catalog[], results: Record<string, QueryOutcome[]>, ingestMs: number[], meta: Record<string, unknown>) {
  const kinds: string[] = [...QUERY_KINDS, 'second-photo'];
  const row = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padStart(i === 0 ? 14 : 9)).join(' '));
  const json: Record<string, unknown> = { eval: 'e2e', ...meta };
  console.log(
    `products ${String(meta.products)}, reference images ${String(meta.referenceImages)}, second photos ${String(meta.seconds)}, distractors ${String(meta.distractors)}, transport ${String(meta.transport)}`,
  );
  for (const [k, recipe] of Object.entries(KIND_RECIPES)) console.log(`  ${k}: ${recipe}`);
  for (const metric of ['r1', 'r5', 'map'] as const) {
    console.log(`\n${metric === 'r1' ? 'R@1' : metric === 'r5' ? 'R@5' : 'mAP'}`);
    row(['kind', ...catalogs.map((c) => c.name), 'n']);
    for (const kind of [...kinds, 'in-catalog']) {
      const pick = (name: string) => results[name].filter((o) => !o.distractor && (kind === 'in-catalog' || o.kind === kind));
      row([kind, ...catalogs.map((c) => figures(pick(c.name))[metric]), pick(catalogs[0].name).length]);
    }
  }
  console.log('\nopen set (correct top-1 vs distractor top-1 scores)');
  row(['catalog', 'AUROC', 'threshold', 'TPR', 'FPR', 'p50 ms', 'p95 ms']);
  const perCatalog: Record<string, unknown> = {};
  for (const c of catalogs) {
    const rs = results[c.name];
    const pos = rs.filter((o) => !o.distractor && o.rank === 1).map((o) => o.topScore);
    const neg = rs.filter((o) => o.distractor).map((o) => o.topScore);
    const t = bestThreshold(pos, neg);
    const ms = rs.map((o) => o.ms);
    row([c.name, auroc(pos, neg), t.threshold, t.tpr, t.fpr, percentile(ms, 50), percentile(ms, 95)]);
    perCatalog[c.name] = {
      kinds: Object.fromEntries(
        [...kinds, 'in-catalog'].map((k) => [k, figures(rs.filter((o) => !o.distractor && (k === 'in-catalog' || o.kind === k)))]),
      ),
      auroc: auroc(pos, neg),
      threshold: t,
      search_p50_ms: percentile(ms, 50),
      search_p95_ms: percentile(ms, 95),
      correct_top1_score_p50: percentile(pos, 50, 3),
      distractor_top1_score_p50: percentile(neg, 50, 3),
      distractor_top1_score_max: percentile(neg, 100, 3),
    };
  }
  const ingest = ingestMs.reduce((s, x) => s + x, 0) / Math.max(1, ingestMs.length);
  console.log(`\nCreateReferenceImage without polygons: ${(1000 / ingest).toFixed(1)} images/s (p50 ${percentile(ingestMs, 50)} ms)`);
  console.log(
    JSON.stringify({
      ...json,
      catalogs: perCatalog,
      create_reference_image_per_s: +(1000 / ingest).toFixed(2),
      node: process.version,
      cpus: os.cpus().length,
    }),
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
