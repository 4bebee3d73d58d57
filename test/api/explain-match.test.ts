/**
 * metapixel.v1.MatchExplainer (Metapixel's own extension, issue #17 "which reference region
 * matched"): over gRPC (a @grpc/grpc-js client built from the served protos) and REST, on a
 * reference image created with Google's real client, whose regions the server chose. A
 * photo of the dog alone is closest to the dog's region, not to the whole street scene; the
 * same region of the full photo given as bounding_poly is too; errors as Google's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as grpc from '@grpc/grpc-js';
import { metapixelGrpcClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

interface Vertex {
  x?: number | null;
  y?: number | null;
}
interface RegionMatch {
  boundingPoly: { vertices: Vertex[] };
  index: number;
  source: string;
  similarity: number;
}
interface Explained {
  regions: RegionMatch[];
  queryRegion: { normalizedVertices: Vertex[] };
}

const PARENT = 'projects/explain/locations/us-west1';
/** The dog in darknet_dog.jpg (768 × 576), hand-measured as in annotate.test.ts. */
const DOG_BOX = { x0: 132, y0: 222, x1: 310, y1: 540 };
const dogPhoto = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));

let server: TestServer;
let client: InstanceType<grpc.ServiceClientConstructor>;
let refName: string;
let listedPolys: { vertices?: Vertex[] | null }[];

beforeAll(async () => {
  server = await startTestServer();
  server.gcs.put('shop', 'dog.jpg', dogPhoto);
  const ps = productSearchClient(server, 'grpc');
  const [product] = await ps.createProduct({
    parent: PARENT,
    productId: 'dog',
    product: { displayName: 'Dog', productCategory: 'general-v1' },
  });
  const [ref] = await ps.createReferenceImage({
    parent: product.name!,
    referenceImageId: 'street',
    referenceImage: { uri: 'gs://shop/dog.jpg' },
  });
  refName = ref.name!;
  listedPolys = ref.boundingPolys!;
  await ps.close();
  client = metapixelGrpcClient(server, 'MatchExplainer');
}, 120000);
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const viaGrpc = (req: object): Promise<Explained> =>
  new Promise((resolve, reject) => client.ExplainMatch(req, (e: grpc.ServiceError | null, r: Explained) => (e ? reject(e) : resolve(r))));

async function viaRest(
  name: string,
  body: object,
): Promise<{ status: number; json: Explained & { error?: { status: string; message: string } } }> {
  const res = await fetch(`${server.restUrl}/v1/${name}:explainMatch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Explained & { error?: { status: string; message: string } } };
}

const boxOf = (vs: Vertex[]) => ({
  x0: Math.min(...vs.map((v) => v.x ?? 0)),
  y0: Math.min(...vs.map((v) => v.y ?? 0)),
  x1: Math.max(...vs.map((v) => v.x ?? 0)),
  y1: Math.max(...vs.map((v) => v.y ?? 0)),
});
function iou(a: { x0: number; y0: number; x1: number; y1: number }, b: typeof a): number {
  const w = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0));
  const h = Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
  const area = (r: typeof a) => (r.x1 - r.x0) * (r.y1 - r.y0);
  return (w * h) / (area(a) + area(b) - w * h);
}

test('every listed region is answered once, most similar first, in the positions and boxes ReferenceImage lists', async () => {
  const crop = await sharp(dogPhoto)
    .extract({ left: DOG_BOX.x0, top: DOG_BOX.y0, width: DOG_BOX.x1 - DOG_BOX.x0, height: DOG_BOX.y1 - DOG_BOX.y0 })
    .jpeg()
    .toBuffer();
  const res = await viaGrpc({ referenceImage: refName, image: { content: crop } });
  expect(res.regions.map((r) => r.index).sort((a, b) => a - b)).toEqual(listedPolys.map((_, i) => i));
  for (const r of res.regions)
    expect(r.boundingPoly.vertices).toEqual(listedPolys[r.index].vertices!.map((v) => ({ x: v.x ?? 0, y: v.y ?? 0 })));
  const sims = res.regions.map((r) => r.similarity);
  expect(sims).toEqual([...sims].sort((a, b) => b - a));
  // The dog alone resembles the dog's region most, and more than the whole street scene.
  const best = res.regions[0];
  expect(best.source).toBe('detected');
  expect(iou(boxOf(best.boundingPoly.vertices), DOG_BOX)).toBeGreaterThan(0.5);
  const whole = res.regions.find((r) => r.source === 'whole-image')!;
  expect(best.similarity).toBeGreaterThan(whole.similarity + 0.1);
  expect(res.queryRegion.normalizedVertices).toEqual([
    { x: 0, y: 0 },
    { x: 1, y: 0 },
    { x: 1, y: 1 },
    { x: 0, y: 1 },
  ]);
}, 60000);

test('over REST, the dog region of the full photo given as bounding_poly finds the same region; the whole photo finds the whole image', async () => {
  const content = dogPhoto.toString('base64');
  const poly = {
    vertices: [
      { x: DOG_BOX.x0, y: DOG_BOX.y0 },
      { x: DOG_BOX.x1, y: DOG_BOX.y0 },
      { x: DOG_BOX.x1, y: DOG_BOX.y1 },
      { x: DOG_BOX.x0, y: DOG_BOX.y1 },
    ],
  };
  const region = await viaRest(refName, { image: { content }, boundingPoly: poly });
  expect(region.status).toBe(200);
  expect(iou(boxOf(region.json.regions[0].boundingPoly.vertices), DOG_BOX)).toBeGreaterThan(0.5);
  expect(region.json.queryRegion.normalizedVertices[0].x).toBeCloseTo(DOG_BOX.x0 / 768, 3);
  const whole = await viaRest(refName, { image: { content } });
  expect(whole.json.regions[0].source).toBe('whole-image');
  expect(whole.json.regions[0].similarity).toBeGreaterThan(0.95);
}, 60000);

test('errors: an unknown reference image, no image, a bad name, a region with no area', async () => {
  const content = dogPhoto.toString('base64');
  const missing = await viaRest(`${PARENT}/products/dog/referenceImages/nope`, { image: { content } });
  expect([missing.status, missing.json.error!.status]).toEqual([404, 'NOT_FOUND']);
  const noImage = await viaRest(refName, {});
  expect([noImage.status, noImage.json.error!.status]).toEqual([400, 'INVALID_ARGUMENT']);
  const flat = await viaRest(refName, {
    image: { content },
    boundingPoly: {
      normalizedVertices: [
        { x: 0.2, y: 0.2 },
        { x: 0.2, y: 0.8 },
      ],
    },
  });
  expect(flat.json.error!.message).toMatch(/bounding_poly encloses no area/);
  await expect(viaGrpc({ referenceImage: 'products/x', image: { content: dogPhoto } })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
  });
});
