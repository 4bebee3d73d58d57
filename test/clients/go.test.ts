/**
 * README's Go program (test/clients/go/productsearch), built in GOPATH mode against
 * Debian's golang-google-cloud-dev (cloud.google.com/go/vision/apiv1) and run over gRPC
 * against a keyed server: create set, product, reference image, add, list, search, delete.
 * The build (minutes on a loaded machine) is cached in a temp GOCACHE for this run only.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const run = promisify(execFile);
const GOCODE = '/usr/share/gocode';
const NEEDED = ['cloud.google.com/go/vision/apiv1', 'google.golang.org/genproto/googleapis/cloud/vision/v1'];
const hasGo = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
const missing = NEEDED.filter((p) => !existsSync(path.join(GOCODE, 'src', p)));
const available = hasGo && missing.length === 0;
if (!available) {
  console.warn(
    `SKIPPED: ${hasGo ? `${missing.join(', ')} not under ${GOCODE}/src` : 'no go on PATH'}; ` +
      'install Debian packages golang-go golang-google-cloud-dev golang-google-genproto-dev',
  );
}

let server: TestServer;
let dir: string;
let binary: string;
let query: string;

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(path.join(os.tmpdir(), 'go-client-'));
  // GOPATH mode: the program in a GOPATH of its own, its imports from Debian's.
  const gopath = path.join(dir, 'gopath');
  mkdirSync(path.join(gopath, 'src'), { recursive: true });
  cpSync(path.join(__dirname, 'go', 'productsearch'), path.join(gopath, 'src', 'productsearch'), { recursive: true });
  binary = path.join(dir, 'productsearch');
  await run('go', ['build', '-o', binary, 'productsearch'], {
    cwd: gopath,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      GO111MODULE: 'off',
      GOPATH: `${gopath}:${GOCODE}`,
      GOCACHE: path.join(dir, 'cache'),
      GOFLAGS: '',
    },
    timeout: 15 * 60000,
  });
  server = await startTestServer({ apiKeys: 'demo-key=my-project' });
  const photo = path.join(devImagesDir(), 'skimage_coffee.png');
  server.gcs.put('catalog', 'shoe.png', readFileSync(photo));
  const { width, height } = await sharp(photo).metadata();
  query = path.join(dir, 'query.jpg');
  writeFileSync(
    query,
    await sharp(photo)
      .extract({ left: 20, top: 20, width: width - 40, height: height - 40 })
      .jpeg({ quality: 70 })
      .toBuffer(),
  );
}, 16 * 60000);
afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = (key: string) => ({
  PATH: process.env.PATH,
  METAPIXEL_GRPC: `127.0.0.1:${server.grpcPort}`,
  METAPIXEL_API_KEY: key,
  REFERENCE_URI: 'gs://catalog/shoe.png',
  QUERY_IMAGE: query,
});

(available ? test : test.skip)(
  'a wrong API key is UNAUTHENTICATED before anything is created',
  async () => {
    const err = await run(binary, [], { env: env('wrong-key'), timeout: 60000 }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(/code = Unauthenticated desc = The API key or bearer token is not valid\./);
  },
  120000,
);

(available ? test : test.skip)(
  'the Go client runs the catalog and search flow over gRPC',
  async () => {
    const { stdout } = await run(binary, [], { env: env('demo-key'), timeout: 120000 });
    const P = 'projects/my-project/locations/us-west1';
    expect(stdout.trim().split('\n')).toEqual([
      `in set: ${P}/products/shoe-1`,
      expect.stringMatching(new RegExp(`^found: ${P}/products/shoe-1 \\(score [01]\\.\\d\\d\\)$`)),
      `deleted: ${P}/products/shoe-1 ${P}/productSets/shoes`,
    ]);
    const after = await fetch(`${server.restUrl}/v1/${P}/products?key=demo-key`);
    expect(await after.json()).toEqual({});
  },
  180000,
);
