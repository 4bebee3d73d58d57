/**
 * README's client snippets are true: the Python and Go programs it shows are the files
 * the client tests run, and its curl and keyed-gcloud blocks run, unchanged except for the
 * port, against a server; gcloud refuses the -v2 category names as README says; and the
 * checkable rows of "What Google does that Metapixel does not" hold.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are walked as untyped JSON, checked by expect
type Json = any;

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const P = 'projects/my-project/locations/us-west1';

/** The fenced block right after `<!-- marker -->`. */
function blockAfter(marker: string): string {
  const m = new RegExp(`<!-- ${marker.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n`).exec(README);
  if (!m) throw new Error(`README has no fenced block after <!-- ${marker} -->`);
  return m[1];
}

test('the Python and Go programs in README are the files the client tests run', () => {
  const files = [...README.matchAll(/<!-- file: ([^ ]+) -->/g)].map((m) => m[1]);
  expect(files.sort()).toEqual(['test/clients/go/productsearch/main.go', 'test/clients/python/product_search.py']);
  for (const f of files) expect(blockAfter(`file: ${f}`)).toBe(readFileSync(path.join(ROOT, f), 'utf8'));
});

/** curl prints each answer without a newline: split the output into its JSON values. */
function jsonValues(text: string): Json[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
  }
  return out;
}

describe('against a server', () => {
  let server: TestServer;
  let dir: string;
  const bash = (script: string, env: Record<string, string> = {}) =>
    run('bash', ['-euo', 'pipefail', '-c', script.replaceAll('127.0.0.1:8080', `127.0.0.1:${server.restPort}`)], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, ...env },
      timeout: 120000,
      maxBuffer: 16 << 20,
    });

  beforeAll(async () => {
    server = await startTestServer({ apiKeys: 'my-key=my-project', bearerTokens: 'my-token=my-project' });
    dir = mkdtempSync(path.join(os.tmpdir(), 'readme-'));
    const shoe = path.join(devImagesDir(), 'skimage_coffee.png');
    server.gcs.put('catalog', 'shoe.jpg', await sharp(shoe).jpeg().toBuffer());
    const { width, height } = await sharp(shoe).metadata();
    writeFileSync(
      path.join(dir, 'photo.jpg'),
      await sharp(shoe)
        .extract({ left: 30, top: 20, width: width - 60, height: height - 40 })
        .jpeg({ quality: 60 })
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the curl block runs: catalog calls, a search that finds the product, objects, an operation', async () => {
    const { stdout } = await bash(blockAfter('run: curl'));
    const answers = jsonValues(stdout);
    expect(answers[0]).toMatchObject({ name: `${P}/productSets/shoes`, displayName: 'Shoes' });
    expect(answers[2]).toMatchObject({ name: `${P}/products/shoe-1/referenceImages/front`, uri: 'gs://catalog/shoe.jpg' });
    expect(answers[4]).toMatchObject({ description: 'Leather', productLabels: [{ key: 'color', value: 'red' }] });
    expect(answers[6]).toEqual({ products: [expect.objectContaining({ name: `${P}/products/shoe-1` })] });
    const annotated = answers[8].responses[0];
    expect(annotated.error).toBeUndefined();
    expect(annotated.productSearchResults.results[0].product.name).toBe(`${P}/products/shoe-1`);
    expect(annotated.localizedObjectAnnotations.length).toBeGreaterThan(0);
    expect(answers[9]).toMatchObject({ name: expect.stringMatching(new RegExp(`^${P}/operations/[^/]+$`)), metadata: expect.any(Object) });
    expect(answers).toHaveLength(10);
  }, 150000);

  const hasGcloud = spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!hasGcloud) console.warn('SKIPPED: the gcloud tests need the gcloud CLI on PATH');
  const gcloudEnv = () => ({ CLOUDSDK_CONFIG: path.join(dir, 'gcloud'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1' });

  (hasGcloud ? test : test.skip)(
    'the keyed gcloud block creates and lists with a bearer token from a file',
    async () => {
      const { stdout } = await bash(blockAfter('run: gcloud').replaceAll('shoes', 'gcloud-shoes'), gcloudEnv());
      expect(stdout).toMatch(/^gcloud-shoes\s+us-west1\s+Shoes$/m);
      // Without the token file the same call is refused.
      const refused = await bash(`gcloud beta ml vision product-search product-sets list --location us-west1 --project my-project`, {
        ...gcloudEnv(),
        CLOUDSDK_API_ENDPOINT_OVERRIDES_VISION: `${server.restUrl}/`,
        CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
      }).catch((e: { stderr: string }) => e);
      expect(refused.stderr).toMatch(/Request is missing required authentication credential/);
    },
    180000,
  );

  (hasGcloud ? test : test.skip)(
    'gcloud answers a -v2 category with "Invalid choice", as README says',
    async () => {
      expect(README).toMatch(/`homegoods-v2`[^.]*"Invalid choice"/);
      const err = await bash(
        `gcloud beta ml vision product-search products create p1 --location us-west1 --category homegoods-v2 --project my-project --access-token-file token.txt`,
        { ...gcloudEnv(), CLOUDSDK_API_ENDPOINT_OVERRIDES_VISION: `${server.restUrl}/` },
      ).catch((e: { stderr: string; code: number }) => e);
      expect((err as { stderr: string }).stderr).toMatch(/Invalid choice: 'homegoods-v2'/);
    },
    120000,
  );

  test('the checked rows of "What Google does that Metapixel does not" hold', async () => {
    const table = README.slice(README.indexOf('## What Google does that Metapixel does not'));
    expect(table).toMatch(/\| ✓ that image's `error` is INVALID_ARGUMENT "Feature … is not offered by Metapixel"/);
    const key = { 'x-goog-api-key': 'my-key', 'content-type': 'application/json' };
    const post = (url: string, body: unknown) =>
      fetch(`${server.restUrl}${url}`, { method: 'POST', headers: key, body: JSON.stringify(body) });
    const content = readFileSync(path.join(dir, 'photo.jpg')).toString('base64');
    const mixed = (await (
      await post('/v1/images:annotate', {
        requests: [{ image: { content }, features: [{ type: 'LABEL_DETECTION' }, { type: 'OBJECT_LOCALIZATION' }] }],
      })
    ).json()) as Json;
    expect(mixed.responses[0].error).toMatchObject({
      code: 3,
      message: expect.stringMatching(/^Feature LABEL_DETECTION is not offered by Metapixel/),
    });
    expect(mixed.responses[0].localizedObjectAnnotations.length).toBeGreaterThan(0);
    const files = await post('/v1/files:annotate', {
      requests: [
        {
          inputConfig: { gcsSource: { uri: 'gs://catalog/a.pdf' }, mimeType: 'application/pdf' },
          features: [{ type: 'OBJECT_LOCALIZATION' }],
        },
      ],
    });
    expect([files.status, ((await files.json()) as Json).error.status]).toEqual([501, 'UNIMPLEMENTED']);
    const asyncFiles = await post('/v1/files:asyncBatchAnnotate', { requests: [] });
    expect(asyncFiles.status).toBe(501);
    await post(`/v1/${P}/productSets?productSetId=fields`, { displayName: 'Fields' });
    const partial = await fetch(`${server.restUrl}/v1/${P}/productSets/fields?fields=name`, { headers: key });
    expect(await partial.json()).toMatchObject({ name: `${P}/productSets/fields`, displayName: 'Fields' });
    expect((await post('/batch', {})).status).toBe(404);
  }, 120000);
});
