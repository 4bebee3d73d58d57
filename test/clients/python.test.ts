/**
 * README's Python program (test/clients/python/product_search.py), run by Debian's
 * python3-googleapi discovery client against a keyed server: the discovery document, then
 * create set → product → reference image → add → images.annotate PRODUCT_SEARCH.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.join(__dirname, 'python', 'product_search.py');
const available = spawnSync(PYTHON, ['-c', 'import googleapiclient'], { stdio: 'ignore' }).status === 0;
if (!available)
  console.warn(`SKIPPED: ${PYTHON} cannot import googleapiclient; install Debian's python3-googleapi (apt-get install python3-googleapi)`);

let server: TestServer;
let dir: string;
beforeAll(async () => {
  if (!available) return;
  server = await startTestServer({ apiKeys: 'demo-key=my-project' });
  dir = mkdtempSync(path.join(os.tmpdir(), 'python-client-'));
});
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

(available ? test : test.skip)(
  'the discovery client creates a catalog and finds the product with images.annotate',
  async () => {
    const photo = path.join(devImagesDir(), 'skimage_coffee.png');
    server.gcs.put('catalog', 'shoe.png', readFileSync(photo));
    // The shopper's photo: a crop of the catalog photo, re-encoded.
    const { width, height } = await sharp(photo).metadata();
    const query = path.join(dir, 'query.jpg');
    writeFileSync(
      query,
      await sharp(photo)
        .extract({ left: 20, top: 20, width: width - 40, height: height - 40 })
        .jpeg({ quality: 70 })
        .toBuffer(),
    );

    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        METAPIXEL_URL: server.restUrl,
        METAPIXEL_API_KEY: 'demo-key',
        REFERENCE_URI: 'gs://catalog/shoe.png',
        QUERY_IMAGE: query,
      },
      timeout: 150000,
    });
    expect(stdout).toMatch(/^found: projects\/my-project\/locations\/us-west1\/products\/shoe-1 \(score [01]\.\d\d\)$/m);
    const images = await fetch(`${server.restUrl}/v1/projects/my-project/locations/us-west1/products/shoe-1/referenceImages?key=demo-key`);
    expect(((await images.json()) as { referenceImages: { uri: string }[] }).referenceImages.map((r) => r.uri)).toEqual([
      'gs://catalog/shoe.png',
    ]);
  },
  180000,
);
