/**
 * `metapixel import` and `metapixel search` as a user runs them: child processes of
 * src/cli/main.ts against a test server, uploading to its Cloud Storage emulator. A folder
 * of real photos (one product per sub-folder or file), a local CSV with a bad line (exit
 * status 3, the line's status in the summary), a CSV that cannot be read (4), the imported
 * products found by `search --json`, progress lines on a non-terminal stderr, Ctrl-C
 * cancelling the operation (exit status 5), and the errors that say what to do.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = path.resolve(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let server: TestServer;

const cliEnv = () => ({
  ...process.env,
  STORAGE_EMULATOR_HOST: server.gcs.host,
  METAPIXEL_ENDPOINT: server.restUrl,
  METAPIXEL_PROJECT: 'cli-project',
});

function metapixel(args: string[]): Promise<Run> {
  const env = cliEnv();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 120000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-cli-import-'));
  const photos = path.join(dir, 'photos');
  mkdirSync(path.join(photos, 'dog'), { recursive: true });
  mkdirSync(path.join(photos, 'horse'));
  copyFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'), path.join(photos, 'dog', 'darknet_dog.jpg'));
  copyFileSync(path.join(devImagesDir(), 'skimage_horse.png'), path.join(photos, 'horse', 'skimage_horse.png'));
  copyFileSync(path.join(devImagesDir(), 'skimage_coffee.png'), path.join(photos, 'coffee.png'));
  writeFileSync(path.join(photos, 'notes.txt'), 'not an image: skipped');
  server = await startTestServer();
}, 120000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a folder: uploads the photos and a CSV, imports them with progress lines and a summary; the products are then found by search', async () => {
  const run = await metapixel(['import', path.join(dir, 'photos'), '--product-set', 'photos', '--staging', 'gs://stage/photos']);
  expect(run.stderr).toMatch(/uploaded 3 images of 3 products to gs:\/\/stage\/photos\//);
  expect(run.stdout).toMatch(/^Import SUCCESSFUL: projects\/cli-project\/locations\/us-west1\/operations\/\w+\n/);
  expect(run.stdout).toMatch(/lines: 3 total, 3 imported, 0 failed\n/);
  expect(run.stdout).toMatch(/time: 3 reference images in [\d.]+ s on the server \([\d.]+ images\/s\); [\d.]+ s in all/);
  // stderr is not a terminal: plain progress lines, no bar.
  expect(run.stderr).toMatch(/^import: 3\/3 lines, 0 failed, [\d.]+ lines\/s/m);
  expect(run.stderr).not.toMatch(/\x1b\[/);
  expect(run.code).toBe(0);
  expect(server.gcs.list('stage', 'photos/')).toEqual([
    'photos/coffee.png',
    'photos/dog/darknet_dog.jpg',
    'photos/horse/skimage_horse.png',
    expect.stringMatching(/^photos\/import-photos-[0-9a-f]{12}\.csv$/),
  ]);

  const search = await metapixel([
    'search',
    path.join(devImagesDir(), 'skimage_horse.png'),
    path.join(devImagesDir(), 'darknet_dog.jpg'),
    '--product-set',
    'photos',
    '--json',
  ]);
  expect(search.code).toBe(0);
  const [horse, dog] = search.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(horse.input).toBe(path.join(devImagesDir(), 'skimage_horse.png'));
  expect(horse.productSearchResults.results[0].product).toMatchObject({
    name: 'projects/cli-project/locations/us-west1/products/horse',
    displayName: 'horse',
    productCategory: 'general-v1',
  });
  expect(dog.productSearchResults.productGroupedResults.length).toBeGreaterThan(0);
  expect(dog.productSearchResults.results[0].product.name).toBe('projects/cli-project/locations/us-west1/products/dog');

  const text = await metapixel([
    'search',
    path.join(devImagesDir(), 'skimage_horse.png'),
    '--product-set',
    'projects/cli-project/locations/us-west1/productSets/photos',
  ]);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/skimage_horse\.png: 1 object found/);
  // The same photo: 1 up to the int8 re-rank data's rounding (and the contrast's last sliver).
  expect(text.stdout).toMatch(
    /best matches \(all regions; 0\.5 or more is a match\):\n\s+score\s+product\s+display name\s+labels\n\s+(1\.000|0\.99\d)\s+match\s+horse\s+horse\n/,
  );
  expect(text.stdout).toMatch(
    /object 1: Horse \([\d.]+\)\s+box x [\d.]+-[\d.]+, y [\d.]+-[\d.]+\n\s+score\s+product\s+display name\s+labels\n\s+[\d.]+\s+(match|below)\s+horse\s+horse\n/,
  );
}, 180000);

test('a local CSV with a bad line: the other lines are imported, the bad one listed, exit status 3; a re-run gives the same statuses', async () => {
  // Line 1 names an image that is not in Cloud Storage.
  server.gcs.put('stage', 'csv/dog.jpg', readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')));
  const csv = path.join(dir, 'products.csv');
  writeFileSync(
    csv,
    [
      'gs://stage/csv/dog.jpg,,csv-set,red-dog,general-v1,Red dog,color=red,',
      'gs://stage/csv/missing.jpg,,csv-set,ghost,general-v1,Ghost,,',
      'gs://stage/csv/dog.jpg,,csv-set,blue-dog,general-v1,Blue dog,color=blue,',
      '',
    ].join('\n'),
  );

  const run = await metapixel(['import', csv, '--staging', 'gs://stage/csv/']);
  expect(run.stdout).toMatch(/^Import SUCCESSFUL: /);
  expect(run.stdout).toMatch(/lines: 3 total, 2 imported, 1 failed\n/);
  expect(run.stdout).toMatch(
    /Failed lines \(numbered from 0, as the response's statuses; 1 of 1\):\n {2}line 1: NOT_FOUND: Cloud Storage object gs:\/\/stage\/csv\/missing\.jpg not found\.\n/,
  );
  expect(run.code).toBe(3);

  const again = await metapixel(['import', csv, '--staging', 'gs://stage/csv/', '--json', '--no-progress']);
  expect(again.code).toBe(3);
  expect(again.stderr).toBe('');
  const summary = JSON.parse(again.stdout);
  expect(summary).toMatchObject({
    state: 'SUCCESSFUL',
    lines: 3,
    processedLines: 3,
    succeededLines: 2,
    failedLines: 1,
    referenceImages: 2,
  });
  expect(summary.failures).toEqual([
    { line: 1, code: 5, status: 'NOT_FOUND', message: 'Cloud Storage object gs://stage/csv/missing.jpg not found.' },
  ]);

  const search = await metapixel([
    'search',
    path.join(devImagesDir(), 'darknet_dog.jpg'),
    '--product-set',
    'csv-set',
    '--filter',
    'color = blue',
    '--json',
  ]);
  expect(search.code).toBe(0);
  const names = JSON.parse(search.stdout).productSearchResults.results.map((r: { product: { name: string } }) => r.product.name);
  expect(names).toEqual(['projects/cli-project/locations/us-west1/products/blue-dog']);
}, 180000);

test('a gs:// CSV: --no-wait prints the operation; one that cannot be read fails the operation (exit status 4)', async () => {
  const queued = await metapixel(['import', 'gs://stage/nothing-here.csv', '--no-wait', '--json']);
  expect(queued.code).toBe(0);
  expect(JSON.parse(queued.stdout)).toEqual({
    operation: expect.stringMatching(/^projects\/cli-project\/locations\/us-west1\/operations\/\w+$/),
    csvUri: 'gs://stage/nothing-here.csv',
  });

  const run = await metapixel(['import', 'gs://stage/nothing-here.csv', '--no-progress']);
  expect(run.stdout).toMatch(
    /^Import FAILED: .*\n {2}error: NOT_FOUND: Cloud Storage object gs:\/\/stage\/nothing-here\.csv not found\.\n/,
  );
  expect(run.code).toBe(4);
}, 120000);

test('errors say what to do: no server (6), usage mistakes (1), an image that fails (3)', async () => {
  const [down, noSet, noStaging, missing, badImage] = await Promise.all([
    metapixel(['search', path.join(devImagesDir(), 'darknet_dog.jpg'), '--product-set', 'photos', '--endpoint', 'http://127.0.0.1:9']),
    metapixel(['import', path.join(dir, 'photos'), '--staging', 'gs://stage/x/']),
    metapixel(['import', path.join(dir, 'photos'), '--product-set', 'photos']),
    metapixel(['import', path.join(dir, 'nope.csv'), '--staging', 'gs://stage/x/']),
    metapixel(['search', path.join(dir, 'photos', 'notes.txt'), '--product-set', 'photos']),
  ]);
  expect(down.stderr).toMatch(
    /cannot reach the server at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\): is `metapixel serve` running there\? Give its REST URL with --endpoint or METAPIXEL_ENDPOINT\./,
  );
  expect(down.code).toBe(6);
  expect(noSet.stderr).toMatch(/a folder import needs --product-set <id>/);
  expect(noSet.code).toBe(1);
  expect(noStaging.stderr).toMatch(/a local folder is uploaded first: give --staging gs:\/\/bucket\/prefix\//);
  expect(noStaging.code).toBe(1);
  expect(missing.stderr).toMatch(/no such file or folder: .*nope\.csv/);
  expect(missing.code).toBe(1);
  expect(badImage.stdout).toMatch(/notes\.txt: error INVALID_ARGUMENT: Bad image data/);
  expect(badImage.code).toBe(3);
}, 120000);

test('Ctrl-C cancels the import: the operation ends CANCELLED with the lines done so far, exit status 5', async () => {
  server.gcs.put('stage', 'cancel/dog.jpg', readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')));
  // Enough lines (each one a full ingestion) that the import is still running when the cancel lands.
  const lines = Array.from({ length: 100 }, (_, i) => `gs://stage/cancel/dog.jpg,img-${i},cancel-set,dog-${i},general-v1,Dog ${i},,`);
  server.gcs.put('stage', 'cancel/products.csv', Buffer.from(lines.join('\n') + '\n'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'import', 'gs://stage/cancel/products.csv'],
    { cwd: ROOT, env: cliEnv() },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    // The first progress line: the operation exists and is being watched.
    if (/^import: \d+\/[\d?]+ lines/m.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).toMatch(/cancelling projects\/cli-project\/locations\/us-west1\/operations\/\w+ \(Ctrl-C again to stop waiting\)/);
  expect(stdout).toMatch(/^Import CANCELLED: .*\n {2}error: CANCELLED: /);
  const [, done] = /lines: 100 total, (\d+) imported, 0 failed, (\d+) not processed/.exec(stdout) ?? [];
  expect(Number(done)).toBeLessThan(100);
  expect(code).toBe(5);
}, 180000);
