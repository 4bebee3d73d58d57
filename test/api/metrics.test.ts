/** Prometheus /metrics: counters and histograms move with real calls. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expectStatus, imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ metricsPerSet: true });
});
afterAll(async () => {
  await server?.stop();
});

async function scrape(): Promise<string> {
  const res = await fetch(`${server.restUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  return res.text();
}

function value(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(name + '{') && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('call counters, latency histograms, inference timings and queue depth are exported', async () => {
  const before = await scrape();
  const ps = productSearchClient(server, 'grpc');
  await ps.createProductSet({ parent: 'projects/m/locations/l', productSet: { displayName: 'M' } });
  await expectStatus(ps.getProductSet({ name: 'projects/m/locations/l/productSets/missing' }), 'NOT_FOUND');
  const ia = imageAnnotatorClient(server, 'rest');
  await ia.objectLocalization!({ image: { content: readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')) } });
  await ps.close();
  await ia.close();

  const after = await scrape();
  const create = { method: 'google.cloud.vision.v1.ProductSearch/CreateProductSet', transport: 'grpc', code: 'OK' };
  const missing = { method: 'google.cloud.vision.v1.ProductSearch/GetProductSet', transport: 'grpc', code: 'NOT_FOUND' };
  const annotate = { method: 'google.cloud.vision.v1.ImageAnnotator/BatchAnnotateImages', transport: 'rest', code: 'OK' };
  for (const labels of [create, missing, annotate]) {
    expect(value(after, 'metapixel_rpc_requests_total', labels) - value(before, 'metapixel_rpc_requests_total', labels)).toBe(1);
  }
  expect(value(after, 'metapixel_rpc_duration_seconds_count', { method: annotate.method, transport: 'rest' })).toBe(1);
  // The warm-up runs count too; the annotate call adds two runs per detector (plain and mirrored).
  const ssd = { model: 'ssd_mobilenetv2_oidv4' };
  expect(
    value(after, 'metapixel_inference_duration_seconds_count', ssd) - value(before, 'metapixel_inference_duration_seconds_count', ssd),
  ).toBe(2);
  expect(after).toMatch(/metapixel_inference_queue_depth\{model="centernet_mobilenetv3_coco",state="waiting"\} 0/);
  expect(after).toMatch(/metapixel_process_resident_memory_bytes \d+/);
  // The set created above is indexed (empty).
  expect(after).toMatch(/metapixel_index_regions\{product_set="m\/l\/[0-9a-f]{16}"\} 0/);
  // Creating the set was one change made searchable: one ingestion-lag observation.
  const lag = (t: string) => Number(/^metapixel_index_lag_seconds_count (\d+)/m.exec(t)?.[1] ?? 0);
  expect(lag(after) - lag(before)).toBe(1);
});
