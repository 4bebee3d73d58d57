/**
 * `metapixel encode` as a user runs it (a child process of src/cli/main.ts, no server):
 * one JSON line per image of a folder, codes equal to those images:encode answers for the
 * same files, an error line and exit status 1 for a corrupt file, a summary on stderr,
 * and --help.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const ROOT = path.resolve(__dirname, '..', '..');
const PHOTOS = ['darknet_dog.jpg', 'darknet_person.jpg', 'skimage_coffee.png'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function metapixel(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), ...args],
      { cwd: ROOT, maxBuffer: 64 << 20, timeout: 120000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let dir: string;
let server: TestServer;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-cli-'));
  mkdirSync(path.join(dir, 'more'));
  copyFileSync(path.join(devImagesDir(), PHOTOS[0]), path.join(dir, PHOTOS[0]));
  copyFileSync(path.join(devImagesDir(), PHOTOS[1]), path.join(dir, PHOTOS[1]));
  copyFileSync(path.join(devImagesDir(), PHOTOS[2]), path.join(dir, 'more', PHOTOS[2]));
  writeFileSync(path.join(dir, 'broken.jpg'), Buffer.from('\xff\xd8\xff\xe0 this is not really a JPEG', 'latin1'));
  writeFileSync(path.join(dir, 'notes.txt'), 'not an image, skipped by extension');
  server = await startTestServer();
}, 120000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a folder: one JSON line per image in path order, codes equal images:encode, the corrupt file an error line and exit status 1', async () => {
  const run = await metapixel(['encode', dir]);
  expect(run.code).toBe(1);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const expectedInputs = [
    path.join(dir, 'broken.jpg'),
    path.join(dir, PHOTOS[0]),
    path.join(dir, PHOTOS[1]),
    path.join(dir, 'more', PHOTOS[2]),
  ];
  expect(lines.map((l) => l.input)).toEqual(expectedInputs);
  expect(lines[0].error).toMatchObject({ code: 3, message: expect.stringMatching(/Bad image data/) });
  expect(lines[0].items).toBeUndefined();

  const res = await fetch(`${server.restUrl}/v1/images:encode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ requests: expectedInputs.slice(1).map((f) => ({ image: { content: readFileSync(f).toString('base64') } })) }),
  });
  const { responses } = (await res.json()) as { responses: object[] };
  // The same fields, values and proto3 JSON form as the API's, plus the input path.
  lines.slice(1).forEach((line, i) => expect(line).toEqual({ input: expectedInputs[i + 1], ...responses[i] }));
  expect(lines[1].items.map((i: { name: string }) => i.name)).toEqual(expect.arrayContaining(['Dog', 'Bicycle', 'Car']));

  expect(run.stderr).toMatch(/3 of 4 images encoded \(\d+ items, 128-bit codes\).*1 failed/);
  expect(run.stderr).not.toMatch(/\x1b\[/); // no progress bar when stderr is not a terminal
}, 150000);

test('only good files with options: exit status 0, every item of the category', async () => {
  const run = await metapixel(['encode', '--category', 'toys-v2', '--no-progress', path.join(dir, PHOTOS[0])]);
  expect(run.code).toBe(0);
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines).toHaveLength(1);
  expect(lines[0].items.map((i: { name: string; category: string }) => `${i.name}/${i.category}`).sort()).toEqual([
    'Bicycle/toys-v2',
    'Car/toys-v2',
  ]);
  expect(run.stderr).toMatch(/1 of 1 images encoded/);
}, 150000);

test('--help everywhere, the version, and usage errors that say what is wrong', async () => {
  const [top, encode, serve, version, bad, missing] = await Promise.all([
    metapixel(['--help']),
    metapixel(['encode', '--help']),
    metapixel(['serve', '--help']),
    metapixel(['--version']),
    metapixel(['encode', '--max-items', '0', dir]),
    metapixel(['encode']),
  ]);
  expect(top.code).toBe(0);
  expect(top.stdout).toMatch(/Usage: metapixel/);
  expect(top.stdout).toMatch(/serve/);
  expect(top.stdout).toMatch(/encode/);
  expect(encode.code).toBe(0);
  expect(encode.stdout).toMatch(/Usage: metapixel encode \[options\] <inputs\.\.\.>/);
  expect(encode.stdout).toMatch(/--category/);
  expect(serve.code).toBe(0);
  expect(serve.stdout).toMatch(/--grpc-port/);
  expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--max-items.*expected an integer from 1 to 100/);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toMatch(/missing required argument 'inputs'/);
}, 150000);
