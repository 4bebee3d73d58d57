/**
 * Issue #15: CancelOperation on a running images:asyncBatchAnnotate or ImportProductSets
 * drops the operation's inference runs still waiting in the queues: within 1 s of the
 * cancel the queues are empty and no model runs any more for it (before, a batch went on
 * through all its images and an import through every line in flight). Counted from
 * /metrics (metapixel_inference_duration_seconds_count, metapixel_inference_queue_depth),
 * through the real clients over gRPC.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
const PHOTOS = ['darknet_dog.jpg', 'darknet_person.jpg', 'darknet_horses.jpg', 'darknet_eagle.jpg'];

beforeAll(async () => {
  // One run per model at a time, so an operation's work queues up behind the first runs.
  server = await startTestServer({ inferenceWorkers: 1, inferenceConcurrency: 1, detectMirror: 'never', importConcurrency: 8 });
  for (const p of PHOTOS) server.gcs.put('photos', p, readFileSync(path.join(devImagesDir(), p)));
}, 60000);
afterAll(async () => {
  await server?.stop();
});

const sum = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
async function load(): Promise<{ runs: number; queued: number; waiting: number }> {
  const text = await (await fetch(`${server.restUrl}/metrics`)).text();
  return {
    runs: sum(text, /^metapixel_inference_duration_seconds_count\{[^}]*\} (\d+)$/gm),
    queued: sum(text, /^metapixel_inference_queue_depth\{[^}]*\} (\d+)$/gm),
    waiting: sum(text, /^metapixel_inference_queue_depth\{[^}]*state="waiting"[^}]*\} (\d+)$/gm),
  };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** After the cancel: nothing waits in the queues within 1 s, and no run starts afterwards. */
async function expectWorkStopped(cancelled: number): Promise<void> {
  let settled = await load();
  while (settled.waiting > 0 && Date.now() - cancelled < 1000) settled = await load();
  expect(settled.waiting).toBe(0);
  await sleep(1500);
  const later = await load();
  expect(later.queued).toBe(0);
  // Only runs already started at the cancel may finish (one per model).
  expect(later.runs - settled.runs).toBeLessThanOrEqual(3);
}

test('a cancelled images:asyncBatchAnnotate drops its queued inference within 1 s', async () => {
  const client = imageAnnotatorClient(server, 'grpc');
  const requests = Array.from({ length: 64 }, (_, i) => ({
    image: { source: { imageUri: `gs://photos/${PHOTOS[i % PHOTOS.length]}` } },
    features: [{ type: 'OBJECT_LOCALIZATION' as const }],
  }));
  const before = await load();
  // One batch of 64: before the fix the stop was seen only between batches.
  const [operation] = await client.asyncBatchAnnotateImages({
    requests,
    outputConfig: { gcsDestination: { uri: 'gs://out/cancel/' }, batchSize: 64 },
  });
  await until(async () => (await load()).runs > before.runs, 'the first model run');
  await client.operationsClient.cancelOperation({ name: operation.name! } as never);
  const cancelled = Date.now();
  await expectWorkStopped(cancelled);
  await expect(operation.promise()).rejects.toMatchObject({ code: 1 });
  // 64 images are at least 128 detector runs; the cancel cut them short, and no output was written.
  expect((await load()).runs - before.runs).toBeLessThan(40);
  expect(server.gcs.list('out', 'cancel/')).toEqual([]);
  await client.close();
}, 120000);

test('a cancelled ImportProductSets drops the queued inference of its lines in flight within 1 s', async () => {
  const client = productSearchClient(server, 'grpc');
  const parent = 'projects/imp/locations/us-west1';
  // No polygons: each line runs detection and embeds several regions.
  const lines = Array.from({ length: 40 }, (_, i) => `gs://photos/${PHOTOS[i % PHOTOS.length]},img-${i},set,p-${i},general-v1,,,`);
  server.gcs.put('photos', 'lines.csv', Buffer.from(lines.join('\n') + '\n'));
  const before = await load();
  const [operation] = await client.importProductSets({ parent, inputConfig: { gcsSource: { csvFileUri: 'gs://photos/lines.csv' } } });
  // Eight lines in flight: their runs fill the queues.
  await until(async () => (await load()).queued >= 4, 'queued runs of the lines in flight');
  await client.operationsClient.cancelOperation({ name: operation.name! } as never);
  const cancelled = Date.now();
  await expectWorkStopped(cancelled);
  await expect(operation.promise()).rejects.toMatchObject({ code: 1 });
  expect((await load()).runs - before.runs).toBeLessThan(40 * 4);
  // A line whose work was dropped left nothing behind: every product has its image, and
  // nothing is imported after the cancel settled.
  const [op] = await client.operationsClient.getOperation({ name: operation.name! } as never);
  expect(op.done).toBe(true);
  const [products] = await client.listProducts({ parent, pageSize: 100 });
  expect(products.length).toBeLessThan(40);
  for (const p of products) expect((await client.listReferenceImages({ parent: p.name! }))[0]).toHaveLength(1);
  await sleep(500);
  expect((await client.listProducts({ parent, pageSize: 100 }))[0]).toHaveLength(products.length);
  await client.close();
}, 120000);
