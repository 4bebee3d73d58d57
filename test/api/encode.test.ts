/**
 * images:encode (metapixel.v1.ImageEncoder, Metapixel's own extension) over gRPC — a
 * @grpc/grpc-js client built with @grpc/proto-loader from the served proto files — and
 * over REST with plain JSON on all three paths, on real photos: items and their codes,
 * options, per-image errors, request limits, and codes equal to those the index stores
 * for the same photo when it is created as a reference image with Google's real client.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { metapixelGrpcClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

interface Code {
  hex: string;
  bits: string;
  length: number;
}
interface Item {
  category: string;
  name: string;
  mid: string;
  score: number;
  boundingPoly: { normalizedVertices: { x: number; y: number }[] };
  code: Code;
}
interface ImageResponse {
  items?: Item[];
  imageCode?: Code | null;
  thumbnailCode?: Code | null;
  codeScheme?: { length: number; method: string; fingerprint: string } | null;
  error?: { code: number; message: string } | null;
}
interface ImageRequest {
  image: { content?: Buffer | string; source?: { imageUri?: string } };
  options?: Record<string, unknown>;
}

const DOG = 'darknet_dog.jpg';
/** Hand-measured boxes (pixels) of test/api/annotate.test.ts; the photo is 768 × 576. */
const DOG_OBJECTS: Record<string, [number, number, number, number]> = {
  Dog: [132, 222, 310, 540],
  Bicycle: [125, 135, 567, 420],
  Car: [470, 75, 688, 170],
};
const PARENT = 'projects/codes/locations/us-west1';

let server: TestServer;
let encoderClient: InstanceType<grpc.ServiceClientConstructor>;
const photo = (file: string) => readFileSync(path.join(devImagesDir(), file));

beforeAll(async () => {
  server = await startTestServer();
  encoderClient = metapixelGrpcClient(server, 'ImageEncoder');
}, 120000);
afterAll(async () => {
  encoderClient?.close();
  await server?.stop();
});

function viaGrpc(req: object): Promise<{ responses: ImageResponse[] }> {
  return new Promise((resolve, reject) =>
    encoderClient.EncodeImages(req, (e: grpc.ServiceError | null, r: { responses: ImageResponse[] }) => (e ? reject(e) : resolve(r))),
  );
}

async function viaRest(
  req: object,
  pathname = '/v1/images:encode',
): Promise<{ status: number; body: { responses: ImageResponse[]; error?: { code: number; status: string; message: string } } }> {
  const res = await fetch(`${server.restUrl}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req),
  });
  return {
    status: res.status,
    body: (await res.json()) as { responses: ImageResponse[]; error?: { code: number; status: string; message: string } },
  };
}

/** The REST form of a request: bytes as base64. */
const restForm = (requests: ImageRequest[]) => ({
  requests: requests.map((r) => ({
    ...r,
    image: { ...r.image, ...(Buffer.isBuffer(r.image.content) ? { content: r.image.content.toString('base64') } : {}) },
  })),
});

function bitsOfHex(hex: string, length: number): string {
  const bytes = Buffer.from(hex, 'hex');
  let s = '';
  for (let i = 0; i < length; i++) s += (bytes[i >> 3] >> (i & 7)) & 1 ? '1' : '0';
  return s;
}

function expectWellFormed(code: Code | null | undefined): void {
  expect(code).toBeTruthy();
  expect(code!.length).toBe(128);
  expect(code!.hex).toMatch(/^[0-9a-f]{32}$/);
  expect(code!.bits).toBe(bitsOfHex(code!.hex, 128));
}

const pxBox = (item: Item, w: number, h: number) => {
  const v = item.boundingPoly.normalizedVertices;
  return [v[0].x * w, v[0].y * h, v[2].x * w, v[2].y * h];
};

function iou(a: number[], b: number[]): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  return (ix * iy) / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy);
}

test('gRPC: the dog photo gives Dog, Bicycle and Car, each with a well-formed 128-bit code, and the whole-image code', async () => {
  const { responses } = await viaGrpc({ requests: [{ image: { content: photo(DOG) } }] });
  expect(responses).toHaveLength(1);
  const [r] = responses;
  expect(r.error).toBeNull();
  expect(r.codeScheme).toEqual({ length: 128, method: 'PCA_SIGN', fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) });
  expectWellFormed(r.imageCode);
  const byName = new Map(r.items!.map((i) => [i.name, i]));
  for (const [name, box] of Object.entries(DOG_OBJECTS)) {
    const item = byName.get(name);
    expect(item).toBeDefined();
    expect(iou(pxBox(item!, 768, 576), box)).toBeGreaterThan(0.6);
    expect(item!.score).toBeGreaterThan(0.5);
    expect(item!.score).toBeLessThan(1);
    expectWellFormed(item!.code);
  }
  expect(byName.get('Dog')).toMatchObject({ category: 'general-v1', mid: '/m/0bt9lr' });
  expect(byName.get('Bicycle')!.category).toBe('toys-v2');
  expect(byName.get('Car')!.category).toBe('toys-v2');
  // Distinct regions, distinct codes.
  expect(new Set([...r.items!.map((i) => i.code.hex), r.imageCode!.hex]).size).toBe(r.items!.length + 1);
});

test('REST on all three paths answers the same items and codes as gRPC', async () => {
  const req: ImageRequest[] = [{ image: { content: photo('darknet_person.jpg') } }];
  const {
    responses: [g],
  } = await viaGrpc({ requests: req });
  for (const p of ['/v1/images:encode', '/v1/projects/codes/images:encode', `/v1/${PARENT}/images:encode`]) {
    const { status, body } = await viaRest(restForm(req), p);
    expect(status).toBe(200);
    const [r] = body.responses;
    expect(r.error).toBeUndefined();
    expect(r.imageCode).toEqual(g.imageCode);
    expect(r.codeScheme).toEqual(g.codeScheme);
    expect(r.items!.map((i) => [i.name, i.mid, i.category, i.code])).toEqual(g.items!.map((i) => [i.name, i.mid, i.category, i.code]));
    r.items!.forEach((i, k) => expect(i.score).toBeCloseTo(g.items![k].score, 5)); // gRPC carries float32
  }
});

test('options: product category (legacy names too), max items and min score; snake_case accepted over REST', async () => {
  const content = photo(DOG).toString('base64');
  const { body } = await viaRest({
    requests: [
      { image: { content }, options: { productCategory: 'toys-v2' } },
      { image: { content }, options: { product_category: 'toys', max_items: 1 } },
      { image: { content }, options: { productCategory: 'apparel-v2' } },
      { image: { content }, options: { minScore: 0.99 } },
    ],
  });
  const [toys, one, apparel, strict] = body.responses;
  expect(toys.items!.map((i) => i.name).sort()).toEqual(['Bicycle', 'Car']);
  expect(toys.items!.every((i) => i.category === 'toys-v2')).toBe(true);
  expect(one.items).toHaveLength(1);
  expect(one.items![0].category).toBe('toys-v2');
  expect(toys.items!.map((i) => i.code)).toContainEqual(one.items![0].code);
  expect(apparel.items).toBeUndefined(); // none fits: no items, still the whole-image code
  expect(apparel.imageCode).toEqual(toys.imageCode);
  expect(strict.items).toBeUndefined();
});

test('per-image errors: bad images and bad options answer their own error, the good image its items (both transports)', async () => {
  server.gcs.put('photos', 'dog.jpg', photo(DOG));
  const requests: ImageRequest[] = [
    { image: { content: Buffer.from('not an image at all') } },
    { image: { source: { imageUri: 'gs://photos/dog.jpg' } } },
    { image: {} },
    { image: { source: { imageUri: 'gs://photos/missing.jpg' } } },
    { image: { content: photo(DOG) }, options: { productCategory: 'shoes' } },
    { image: { content: photo(DOG) }, options: { maxItems: 101 } },
    { image: { source: { imageUri: 'ftp://example.com/a.jpg' } } },
  ];
  const { responses: g } = await viaGrpc({ requests });
  const { status, body } = await viaRest(restForm(requests));
  expect(status).toBe(200);
  for (const responses of [g, body.responses]) {
    expect(responses).toHaveLength(requests.length);
    expect(responses[0].error).toMatchObject({ code: 3, message: expect.stringMatching(/Bad image data/) });
    expect(responses[1].error ?? undefined).toBeUndefined();
    expect(responses[1].items!.map((i) => i.name)).toEqual(expect.arrayContaining(['Dog', 'Bicycle', 'Car']));
    expect(responses[2].error).toMatchObject({ code: 3, message: expect.stringMatching(/No image given/) });
    expect(responses[3].error).toMatchObject({ code: expect.any(Number) });
    expect(responses[3].error!.code).not.toBe(0);
    expect(responses[4].error).toMatchObject({ code: 3, message: expect.stringMatching(/product_category "shoes"/) });
    expect(responses[5].error).toMatchObject({ code: 3, message: expect.stringMatching(/max_items/) });
    expect(responses[6].error).toMatchObject({ code: 3, message: expect.stringMatching(/Unsupported image URI/) });
    for (const r of responses.filter((x) => x.error)) expect(r.imageCode ?? undefined).toBeUndefined();
  }
  expect(body.responses[1].items!.map((i) => i.code)).toEqual(g[1].items!.map((i) => i.code));
});

test('request-level errors fail the call: no requests, too many images, a malformed parent', async () => {
  const one = { image: { content: photo(DOG).toString('base64') } };
  const none = await viaRest({ requests: [] });
  expect(none.status).toBe(400);
  expect(none.body.error).toMatchObject({ status: 'INVALID_ARGUMENT', message: expect.stringMatching(/No image requests/) });
  const many = await viaRest({ requests: Array.from({ length: 17 }, () => one) });
  expect(many.status).toBe(400);
  expect(many.body.error!.message).toMatch(/Too many images: 17 .* limit is 16/);
  const unknown = await viaRest({ requests: [one], extra: 1 });
  expect(unknown.status).toBe(400);
  await expect(viaGrpc({ requests: [], parent: 'projects/p/zones/z' })).rejects.toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
  await expect(viaGrpc({ requests: [{ image: { content: photo(DOG) } }], parent: 'nonsense' })).rejects.toMatchObject({
    code: grpc.status.INVALID_ARGUMENT,
  });
});

test('codes equal the codes the index stores for the same photo (reference images made with the real client)', async () => {
  server.gcs.put('catalog', 'dog.jpg', photo(DOG));
  const client = productSearchClient(server, 'grpc');
  const stored = async (id: string, category: string) => {
    await client.createProduct({ parent: PARENT, productId: id, product: { displayName: id, productCategory: category } });
    await client.createReferenceImage({
      parent: `${PARENT}/products/${id}`,
      referenceImageId: 'front',
      referenceImage: { uri: 'gs://catalog/dog.jpg' },
    });
    const rec = await server.store.catalog.getReferenceImage({
      project: 'codes',
      location: 'us-west1',
      product: id,
      referenceImage: 'front',
    });
    return rec!.regions.map((r) => ({
      box: [r.box.x0, r.box.y0, r.box.x1, r.box.y1],
      source: r.source,
      hex: Buffer.from(r.code!).toString('hex'),
    }));
  };
  const general = await stored('dog-general', 'general-v1');
  const toys = await stored('dog-toys', 'toys-v2');
  const apparel = await stored('dog-apparel', 'apparel'); // no class fits: the whole image and its thumbnail
  await client.close();

  const { responses } = await viaGrpc({
    requests: [{ image: { content: photo(DOG) } }, { image: { content: photo(DOG) }, options: { productCategory: 'toys-v2' } }],
  });
  // Stored: the whole image, the items, the thumbnail view; images:encode answers each code.
  const whole = (r: ImageResponse) => ({ box: [0, 0, 768, 576], source: 'whole-image', hex: r.imageCode!.hex });
  const thumbnail = (r: ImageResponse) => ({ box: [0, 0, 768, 576], source: 'thumbnail', hex: r.thumbnailCode!.hex });
  const asStored = (r: ImageResponse) => [
    whole(r),
    ...r.items!.map((i) => ({ box: pxBox(i, 768, 576).map(Math.round), source: 'detected', hex: i.code.hex })),
    thumbnail(r),
  ];
  expect(general.length).toBeGreaterThanOrEqual(5);
  expect(asStored(responses[0])).toEqual(general);
  expect(asStored(responses[1])).toEqual(toys);
  expect(toys).toHaveLength(4);
  expect(apparel).toEqual([whole(responses[0]), thumbnail(responses[0])]);
  expect(responses[0].thumbnailCode!.hex).not.toBe(responses[0].imageCode!.hex);
});
