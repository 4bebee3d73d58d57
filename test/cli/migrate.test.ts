/**
 * `metapixel migrate` as a user runs it (a child process of src/cli/main.ts) between two
 * Metapixel servers over gRPC: 300 products in 3 sets (some in two sets, some with labels
 * and descriptions, three categories) and 30 reference images (pixel polygons, normalized
 * polygons, none). Both servers read the same Cloud Storage emulator; the source takes a
 * bearer token, the target an API key (the CLI's variables). A run killed with
 * SIGKILL while copying images, then a rerun: everything on the target, field by field,
 * nothing duplicated, and searchable there; a third run copies nothing; a changed source is
 * updated where the API allows and a conflict is reported (exit status 3); --dry-run lists
 * without changing anything; errors (unreachable, unauthenticated, no Google credentials)
 * exit with status 6.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { imageAnnotatorClient, productSearchClient } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = path.resolve(__dirname, '..', '..');
const PARENT = 'projects/mig/locations/us-west1';
const PRODUCTS = 300;
const IMAGES = 30;
const PHOTOS = [
  'darknet_dog.jpg',
  'darknet_eagle.jpg',
  'darknet_giraffe.jpg',
  'darknet_horses.jpg',
  'darknet_kite.jpg',
  'darknet_person.jpg',
  'skimage_astronaut.png',
  'skimage_coffee.png',
  'skimage_motorcycle_left.png',
  'skimage_motorcycle_right.png',
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let source: TestServer;
let target: TestServer;

// The source takes a bearer token, the target an API key: each goes as gRPC metadata.
const SRC = { otherArgs: { headers: { authorization: 'Bearer src-token' } } };
const DST = { otherArgs: { headers: { 'x-goog-api-key': 'dst-key' } } };
const cliEnv = { ...process.env, METAPIXEL_FROM_ACCESS_TOKEN: 'src-token', METAPIXEL_API_KEY: 'dst-key' };
const authOf = (s: TestServer) => (s === source ? SRC : DST);

const pid = (i: number) => `p-${String(i).padStart(3, '0')}`;
const grpcUrl = (s: TestServer) => `http://127.0.0.1:${s.grpcPort}`;
const migrateArgs = (extra: string[] = []) => ['migrate', '--from', grpcUrl(source), '--to', grpcUrl(target), '--project', 'mig', ...extra];

function metapixel(args: string[], env: NodeJS.ProcessEnv = cliEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 240000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The source catalog, made through Google's client as a user would. */
async function seed(): Promise<void> {
  const client = productSearchClient(source, 'grpc');
  for (let s = 0; s < 3; s++)
    await client.createProductSet({ parent: PARENT, productSetId: `s-${s}`, productSet: { displayName: `Set ${s}` } }, SRC);
  const work = Array.from({ length: PRODUCTS }, (_, i) => i);
  const lane = async () => {
    for (let i = work.shift(); i !== undefined; i = work.shift()) {
      const category = i % 10 === 5 ? 'apparel-v2' : i % 10 === 7 ? 'homegoods-v2' : 'general-v1';
      const labels =
        i % 4 === 0
          ? [
              { key: 'color', value: i % 8 === 0 ? 'red' : 'blue' },
              { key: 'size', value: String(i % 5) },
            ]
          : [];
      const description = i % 3 === 0 ? `Product ${i}\nwith a description` : undefined;
      await client.createProduct(
        {
          parent: PARENT,
          productId: pid(i),
          product: { displayName: `Product ${i}`, description, productCategory: category, productLabels: labels },
        },
        SRC,
      );
      await client.addProductToProductSet({ name: `${PARENT}/productSets/s-${i % 3}`, product: `${PARENT}/products/${pid(i)}` }, SRC);
      if (i < 20 && i % 3 !== 0)
        await client.addProductToProductSet({ name: `${PARENT}/productSets/s-0`, product: `${PARENT}/products/${pid(i)}` }, SRC);
      if (i < IMAGES) await seedImage(client, i);
    }
  };
  await Promise.all(Array.from({ length: 4 }, lane));
  await client.close();
}

/** Image i of product i: a third with pixel polygons, a third normalized, a third with none. */
async function seedImage(client: ReturnType<typeof productSearchClient>, i: number): Promise<void> {
  const photo = PHOTOS[i % PHOTOS.length];
  const body = readFileSync(path.join(devImagesDir(), photo));
  const object = `photos/${i}-${photo}`;
  source.gcs.put('catalog', object, body);
  const { width = 0, height = 0 } = await sharp(body).metadata();
  const boundingPolys =
    i % 3 === 0
      ? [
          {
            normalizedVertices: [
              { x: 0.05, y: 0.05 },
              { x: 0.95, y: 0.05 },
              { x: 0.95, y: 0.95 },
              { x: 0.05, y: 0.95 },
            ],
          },
        ]
      : i % 3 === 1
        ? [
            {
              vertices: [
                { x: 0, y: 0 },
                { x: width, y: 0 },
                { x: width, y: height },
                { x: 0, y: height },
              ],
            },
          ]
        : [];
  await client.createReferenceImage(
    {
      parent: `${PARENT}/products/${pid(i)}`,
      referenceImageId: `img-${i}`,
      referenceImage: { uri: `gs://catalog/${object}`, boundingPolys },
    },
    SRC,
  );
}

/** Everything a server lists, as plain sorted data (independent of the code under test). */
async function dump(server: TestServer) {
  const client = productSearchClient(server, 'grpc');
  const auth = authOf(server);
  const [sets] = await client.listProductSets({ parent: PARENT, pageSize: 100 }, auth);
  const [products] = await client.listProducts({ parent: PARENT, pageSize: 100 }, auth);
  const members: string[] = [];
  for (const s of sets) {
    const [inSet] = await client.listProductsInProductSet({ name: s.name, pageSize: 100 }, auth);
    for (const p of inSet) members.push(`${s.name} <- ${p.name}`);
  }
  const images: object[] = [];
  for (const p of products) {
    const [list] = await client.listReferenceImages({ parent: p.name, pageSize: 100 }, auth);
    for (const r of list) images.push({ name: r.name, uri: r.uri, boundingPolys: r.boundingPolys });
  }
  await client.close();
  return {
    sets: sets.map((s) => ({ name: s.name, displayName: s.displayName })).sort(byName),
    products: products
      .map((p) => ({
        name: p.name,
        displayName: p.displayName,
        description: p.description,
        productCategory: p.productCategory,
        productLabels: p.productLabels,
      }))
      .sort(byName),
    members: members.sort(),
    images: (images as { name: string }[]).sort(byName),
  };
}

const byName = (a: { name?: string | null }, b: { name?: string | null }) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1);

async function countImages(server: TestServer): Promise<number> {
  const client = productSearchClient(server, 'grpc');
  let n = 0;
  for (let i = 0; i < IMAGES; i++)
    n += (await client.listReferenceImages({ parent: `${PARENT}/products/${pid(i)}` }, authOf(server)))[0].length;
  await client.close();
  return n;
}

beforeAll(async () => {
  source = await startTestServer({ bearerTokens: 'src-token=mig' });
  // The target reads the images where the source does: the same gs:// URIs.
  target = await startTestServer({ storageEmulatorHost: source.gcs.host, apiKeys: 'dst-key=mig' });
  await seed();
}, 300000);
afterAll(async () => {
  await target?.stop();
  await source?.stop();
});

test('the seeded source has what the tests copy', async () => {
  const d = await dump(source);
  expect(d.sets).toHaveLength(3);
  expect(d.products).toHaveLength(PRODUCTS);
  expect(d.members).toHaveLength(PRODUCTS + 13);
  expect(d.images).toHaveLength(IMAGES);
  expect(d.products.filter((p) => p.productLabels?.length)).toHaveLength(75);
}, 120000);

test('kill -9 while copying reference images, then a rerun: everything on the target, nothing duplicated, searchable', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...migrateArgs()], {
    cwd: ROOT,
    env: cliEnv,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += String(d);
    // stderr is not a terminal: plain progress lines; the first one of the images phase.
    if (/^migrate: \d+\/30 reference images/m.test(stderr) && !child.killed) child.kill('SIGKILL');
  });
  const exit = await new Promise<string | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  expect(exit).toBe('SIGKILL');
  expect(stderr).toMatch(/^migrate: 300\/300 products, 0 failed/m);
  // Creates in flight at the kill may still finish on the server: wait until the count holds.
  for (let last = -1, n = await countImages(target); n !== last;) {
    await new Promise((r) => setTimeout(r, 3000));
    [last, n] = [n, await countImages(target)];
  }
  const partial = await dump(target);
  expect(partial.products).toHaveLength(PRODUCTS);
  expect(partial.members).toHaveLength(0);
  const imagesAtKill = partial.images.length;
  expect(imagesAtKill).toBeGreaterThan(0);
  expect(imagesAtKill).toBeLessThan(IMAGES);

  const rerun = await metapixel(migrateArgs(['--json']));
  expect(rerun.stderr).toBe('');
  const summary = JSON.parse(rerun.stdout);
  expect(summary.failures).toEqual([]);
  expect(summary.counts).toEqual({
    productSets: { copied: 0, updated: 0, skipped: 3, failed: 0 },
    products: { copied: 0, updated: 0, skipped: PRODUCTS, failed: 0 },
    // A create still processing from the killed run answers the rerun's ALREADY_EXISTS: skipped.
    referenceImages: { copied: expect.any(Number), updated: 0, skipped: expect.any(Number), failed: 0 },
    memberships: { copied: PRODUCTS + 13, updated: 0, skipped: 0, failed: 0 },
  });
  const images = summary.counts.referenceImages;
  expect(images.copied + images.skipped).toBe(IMAGES);
  expect(images.skipped).toBeGreaterThanOrEqual(imagesAtKill);
  expect(images.copied).toBeGreaterThan(0);
  expect(rerun.code).toBe(0);
  expect(await dump(target)).toEqual(await dump(source));

  const annotator = imageAnnotatorClient(target, 'grpc');
  const [batch] = await annotator.batchAnnotateImages(
    {
      requests: [
        {
          image: { content: readFileSync(path.join(devImagesDir(), 'darknet_giraffe.jpg')) },
          features: [{ type: 'PRODUCT_SEARCH' }],
          imageContext: { productSearchParams: { productSet: `${PARENT}/productSets/s-2`, productCategories: ['general-v1'] } },
        },
      ],
    },
    DST,
  );
  await annotator.close();
  const res = batch.responses![0];
  // Image 2 (product p-002, in s-2) is the giraffe.
  expect(res.productSearchResults!.results![0].product).toMatchObject({ name: `${PARENT}/products/p-002`, displayName: 'Product 2' });
}, 600000);

test('a rerun copies nothing', async () => {
  const run = await metapixel(migrateArgs());
  expect(run.stdout).toMatch(
    /^Migration complete: projects\/mig\/locations\/us-west1 at http:\/\/127\.0\.0\.1:\d+ -> projects\/mig\/locations\/us-west1 at http:\/\/127\.0\.0\.1:\d+ in [\d.]+ s\n/,
  );
  expect(run.stdout).toMatch(
    /\n\s+copied\s+updated\s+skipped\s+failed\n\s+product sets\s+0\s+0\s+3\s+0\n\s+products\s+0\s+0\s+300\s+0\n\s+reference images\s+0\s+0\s+30\s+0\n\s+memberships\s+0\s+0\s+313\s+0\n$/,
  );
  expect(run.code).toBe(0);
}, 300000);

test('a changed source: --dry-run lists it, then the run updates what the API allows and reports the rest (exit status 3)', async () => {
  const src = productSearchClient(source, 'grpc');
  const dst = productSearchClient(target, 'grpc');
  await src.updateProduct(
    {
      product: { name: `${PARENT}/products/p-010`, displayName: 'Renamed', productLabels: [{ key: 'color', value: 'green' }] },
      updateMask: { paths: ['display_name', 'product_labels'] },
    },
    SRC,
  );
  await src.createProduct({ parent: PARENT, productId: 'p-new', product: { displayName: 'New', productCategory: 'toys-v2' } }, SRC);
  await src.addProductToProductSet({ name: `${PARENT}/productSets/s-1`, product: `${PARENT}/products/p-new` }, SRC);
  // On the target only: a product of another category where the source has p-new2.
  await src.createProduct({ parent: PARENT, productId: 'p-new2', product: { displayName: 'New 2', productCategory: 'toys-v2' } }, SRC);
  await dst.createProduct({ parent: PARENT, productId: 'p-new2', product: { displayName: 'New 2', productCategory: 'apparel-v2' } }, DST);
  await Promise.all([src.close(), dst.close()]);

  const [dry, text] = await Promise.all([metapixel(migrateArgs(['--dry-run', '--json'])), metapixel(migrateArgs(['--dry-run']))]);
  expect(dry.code).toBe(0);
  const planned = JSON.parse(dry.stdout);
  expect(planned.steps).toEqual(
    [
      { kind: 'products', name: `${PARENT}/products/p-010`, op: 'update', detail: 'display_name, product_labels' },
      { kind: 'products', name: `${PARENT}/products/p-new`, op: 'create' },
      {
        kind: 'products',
        name: `${PARENT}/products/p-new2`,
        op: 'conflict',
        detail:
          'productCategory is apparel-v2 on the target, toys-v2 on the source, and cannot be updated: delete the product on the target, then rerun',
      },
      { kind: 'memberships', name: `${PARENT}/productSets/s-1 <- ${PARENT}/products/p-new`, op: 'create' },
    ].sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : 1) : 0)),
  );
  expect(text.stdout).toMatch(/^Dry run, nothing changed: /);
  expect(text.stdout).toMatch(/\n {2}update {3}projects\/mig\/locations\/us-west1\/products\/p-010 {2}\(display_name, product_labels\)\n/);

  const run = await metapixel(migrateArgs());
  expect(run.code).toBe(3);
  expect(run.stdout).toMatch(/^Migration finished with failures: /);
  expect(run.stdout).toMatch(/\n\s+products\s+1\s+1\s+299\s+1\n/);
  expect(run.stdout).toMatch(/\n\s+memberships\s+1\s+0\s+313\s+0\n/);
  expect(run.stdout).toMatch(
    /Failures \(1 of 1; rerun to retry them\):\n {2}projects\/mig\/locations\/us-west1\/products\/p-new2: differs: productCategory is apparel-v2 on the target, toys-v2 on the source/,
  );
  const check = productSearchClient(target, 'grpc');
  const [after] = await check.getProduct({ name: `${PARENT}/products/p-010` }, DST);
  await check.close();
  expect(after).toMatchObject({ displayName: 'Renamed', productLabels: [{ key: 'color', value: 'green' }] });
}, 300000);

test('errors: an unreachable source, a target without its key, Google without credentials (exit status 6)', async () => {
  const [down, noKey, google] = await Promise.all([
    metapixel(['migrate', '--from', 'http://127.0.0.1:9', '--to', grpcUrl(target), '--project', 'mig']),
    metapixel(migrateArgs(), { ...cliEnv, METAPIXEL_API_KEY: '' }),
    metapixel(['migrate', '--to', grpcUrl(target), '--project', 'mig'], {
      ...cliEnv,
      METAPIXEL_FROM_ACCESS_TOKEN: '',
      GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/key.json',
    }),
  ]);
  expect(down.stderr).toMatch(
    /cannot list the source catalog projects\/mig\/locations\/us-west1 at http:\/\/127\.0\.0\.1:9: UNAVAILABLE: /,
  );
  expect(down.code).toBe(6);
  expect(noKey.stderr).toMatch(
    /cannot list the target catalog projects\/mig\/locations\/us-west1 at http:\/\/127\.0\.0\.1:\d+: UNAUTHENTICATED: /,
  );
  expect(noKey.code).toBe(6);
  // No --from: Google's endpoint with Application Default Credentials, which cannot load here.
  expect(google.stderr).toMatch(
    /cannot list the source catalog projects\/mig\/locations\/us-west1 at https:\/\/vision\.googleapis\.com:443: The file at \/nonexistent\/key\.json does not exist.*\(Google: are Application Default Credentials set up\?/,
  );
  expect(google.code).toBe(6);
}, 120000);
