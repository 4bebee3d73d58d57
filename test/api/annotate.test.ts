/**
 * Object localization through Google's real clients: ImageAnnotatorClient over gRPC and
 * REST, and `gcloud ml vision detect-objects`, on real photos. Expected boxes were measured
 * by hand on gridded renderings of the photos (pixels).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gcloudFor } from '../support/gcloud';
import { imageAnnotatorClient, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startFakeGcs, type FakeGcs } from '../support/fake-gcs';
import { startTestServer, type TestServer } from '../support/server';

interface Expected {
  name: string;
  box: [number, number, number, number];
}
const PHOTOS: Record<string, { size: [number, number]; objects: Expected[] }> = {
  'darknet_dog.jpg': {
    size: [768, 576],
    objects: [
      { name: 'Dog', box: [132, 222, 310, 540] },
      { name: 'Bicycle', box: [125, 135, 567, 420] },
      { name: 'Car', box: [470, 75, 688, 170] },
    ],
  },
  'darknet_person.jpg': {
    size: [640, 424],
    objects: [
      { name: 'Person', box: [190, 100, 274, 374] },
      { name: 'Horse', box: [405, 140, 602, 346] },
      { name: 'Dog', box: [63, 263, 202, 343] },
    ],
  },
};

type Vertex = { x?: number | null; y?: number | null };
interface Annotation {
  name?: string | null;
  mid?: string | null;
  score?: number | null;
  languageCode?: string | null;
  boundingPoly?: { normalizedVertices?: Vertex[] | null } | null;
}

function iou(a: number[], b: number[]): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** For each expected object, the best IoU among annotations of that name. */
function matches(annotations: Annotation[], photo: string): Record<string, number> {
  const { size, objects } = PHOTOS[photo];
  const out: Record<string, number> = {};
  for (const exp of objects) {
    const ious = annotations
      .filter((a) => a.name === exp.name)
      .map((a) => {
        const v = a.boundingPoly!.normalizedVertices!;
        return iou([(v[0].x ?? 0) * size[0], (v[0].y ?? 0) * size[1], (v[2].x ?? 0) * size[0], (v[2].y ?? 0) * size[1]], exp.box);
      });
    out[exp.name] = Math.max(0, ...ious);
  }
  return out;
}

const atLeastHalf = (m: Record<string, number>) =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v >= 0.5 ? 'IoU>=0.5' : v.toFixed(2)]));

let server: TestServer;
let gcs: FakeGcs;
beforeAll(async () => {
  gcs = await startFakeGcs();
  server = await startTestServer({ storageEmulatorHost: gcs.host });
  for (const photo of Object.keys(PHOTOS)) gcs.put('photos', photo, readFileSync(path.join(devImagesDir(), photo)));
});
afterAll(async () => {
  await server?.stop();
  await gcs?.close();
});

describe.each(TRANSPORTS)('ImageAnnotatorClient over %s', (transport) => {
  test.each(Object.keys(PHOTOS))('finds the objects a person sees in %s', async (photo) => {
    const client = imageAnnotatorClient(server, transport);
    const [res] = await client.objectLocalization!({ image: { content: readFileSync(path.join(devImagesDir(), photo)) } });
    const anns = res.localizedObjectAnnotations as Annotation[];
    const m = matches(anns, photo);
    expect(atLeastHalf(m)).toEqual(Object.fromEntries(Object.keys(m).map((k) => [k, 'IoU>=0.5'])));
    for (const a of anns) {
      expect(a).toMatchObject({ mid: expect.stringMatching(/^\/m\/0/), languageCode: 'en' });
      expect(a.score).toBeGreaterThanOrEqual(0.5);
      const v = a.boundingPoly!.normalizedVertices!;
      // Four vertices, clockwise from the top-left.
      expect(v).toHaveLength(4);
      expect((v[0].x ?? 0) <= (v[1].x ?? 0) && (v[1].y ?? 0) <= (v[2].y ?? 0) && (v[2].x ?? 0) >= (v[3].x ?? 0)).toBe(true);
    }
    await client.close();
  });

  test('a batch keeps each image to itself: a corrupt one fails alone; maxResults is honoured; gs:// works', async () => {
    const client = imageAnnotatorClient(server, transport);
    const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));
    const [res] = await client.batchAnnotateImages({
      requests: [
        { image: { content: dog }, features: [{ type: 'OBJECT_LOCALIZATION', maxResults: 1 }] },
        { image: { content: dog.subarray(0, 2000) }, features: [{ type: 'OBJECT_LOCALIZATION' }] },
        { image: { source: { imageUri: 'gs://photos/darknet_person.jpg' } }, features: [{ type: 'OBJECT_LOCALIZATION' }] },
        { image: { content: dog }, features: [{ type: 'LABEL_DETECTION' }] },
      ],
    });
    const r = res.responses!;
    expect(r[0].localizedObjectAnnotations).toHaveLength(1);
    expect(r[0].error ?? null).toBeNull();
    expect(r[1].error).toMatchObject({ code: 3, message: expect.stringMatching(/Bad image data/) });
    expect((r[2].localizedObjectAnnotations ?? []).map((a) => a.name)).toEqual(expect.arrayContaining(['Person', 'Horse']));
    expect(r[3].error).toMatchObject({ code: 3, message: expect.stringMatching(/LABEL_DETECTION is not offered.*OBJECT_LOCALIZATION/) });
    await client.close();
  });
});

test('gcloud ml vision detect-objects', async () => {
  const gcloud = gcloudFor(server.restUrl, 'gc');
  try {
    const stdout = await gcloud('ml', 'vision', 'detect-objects', path.join(devImagesDir(), 'darknet_dog.jpg'), '--format', 'json');
    const out = JSON.parse(stdout) as { responses: { localizedObjectAnnotations: Annotation[] }[] };
    const m = matches(out.responses[0].localizedObjectAnnotations, 'darknet_dog.jpg');
    expect(atLeastHalf(m)).toEqual({ Dog: 'IoU>=0.5', Bicycle: 'IoU>=0.5', Car: 'IoU>=0.5' });
  } finally {
    gcloud.cleanup();
  }
});
