/**
 * The console in a real Chromium (Debian's `chromium`, driven by playwright-core) against
 * the real server on ephemeral ports: create a set and a product, add a reference image
 * from the staging bucket, run a query and check the match and the boxes drawn, localize
 * objects, cancel a running import, read the health figures; at 1280×800 and 390 px wide.
 * A screenshot of each page goes to $CONSOLE_SCREENSHOTS_DIR (default
 * test-artifacts/console/); with CONSOLE_DOCS_SCREENSHOTS=1 the four main views are also
 * written to docs/console/ (the pictures in docs/console.md).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { BrowserContext, Page } from 'playwright-core';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const SHOTS = path.resolve(ROOT, process.env.CONSOLE_SCREENSHOTS_DIR ?? 'test-artifacts/console');
const DOCS = process.env.CONSOLE_DOCS_SCREENSHOTS === '1' ? path.join(ROOT, 'docs', 'console') : undefined;
const have = existsSync(CHROMIUM);
if (!have) console.warn(`SKIPPED console browser tests: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
const maybe = have ? describe : describe.skip;

/** Chromium as the machine notes say: headless, no sandbox (root), a fresh profile. */
async function launch(): Promise<{ profile: string; context: BrowserContext; page: Page }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'metapixel-chromium-'));
  const { chromium } = await import('playwright-core');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('dialog', (d) => void d.accept());
  page.setDefaultTimeout(30000);
  return { profile, context, page };
}

/** GET on its own connection: fetch's pooled keep-alive sockets would outlive the server and hold the jest worker. */
function get<T>(url: string): Promise<{ status: number; json: T }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(body || '{}') as T }));
      })
      .on('error', reject);
  });
}

const PROJECT = 'shop';
const LOCATION = 'us-west1';
const PARENT = `projects/${PROJECT}/locations/${LOCATION}`;

maybe('console in Chromium', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  async function shot(name: string, doc = false): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    if (doc && DOCS) {
      mkdirSync(DOCS, { recursive: true });
      // Palette PNG: the photos in the pages make full-colour ones megabytes.
      const png = await page.screenshot({ fullPage: true });
      await sharp(png)
        .png({ palette: true, quality: 90, effort: 8 })
        .toFile(path.join(DOCS, `${name}.png`));
    }
  }

  /** The page never scrolls sideways (phone width). */
  async function noSidewaysScroll(): Promise<void> {
    // Page-side code as strings: this file is type-checked without the DOM library.
    const [scroll, width] = await page.evaluate<[number, number]>('[document.documentElement.scrollWidth, window.innerWidth]');
    expect(scroll).toBeLessThanOrEqual(width);
  }

  beforeAll(async () => {
    // The console as `npm run build` bundles it (esbuild: well under a second).
    execFileSync(process.execPath, [path.join(ROOT, 'console', 'build.mjs')], { stdio: 'pipe' });
    // Several lines per image keep the import busy long enough to cancel it.
    server = await startTestServer({ importConcurrency: 1, consoleStaging: 'gs://staging/uploads/' });
    for (const f of ['darknet_dog.jpg', 'darknet_horses.jpg', 'darknet_eagle.jpg'])
      server.gcs.put('staging', f, readFileSync(path.join(devImagesDir(), f)));
    const bulk = Array.from(
      { length: 300 },
      (_, i) => `gs://staging/darknet_eagle.jpg,bulk-${i},bulk,bulk-${i},general-v1,Bulk ${i},,\n`,
    ).join('');
    server.gcs.put('staging', 'bulk.csv', Buffer.from(`gs://staging/missing.jpg,m,bulk,m,general-v1,Missing,,\n${bulk}`));
    server.gcs.put(
      'staging',
      'bad.csv',
      Buffer.from(
        'gs://staging/missing.jpg,m1,bad,m1,general-v1,Missing,,\ngs://staging/darknet_dog.jpg,d1,bad,d1,no-such-category,Dog,,\n',
      ),
    );
    ({ profile, context, page } = await launch());
  }, 120000);
  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('catalog: create a set and a product, add a reference image; its regions are drawn', async () => {
    await page.goto(`${server.restUrl}/`);
    await page.locator('header nav').waitFor();
    const fcp = () => page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity);
    const cold = await fcp();
    // The first page of a fresh browser also pays for the browser's own start; the page's
    // cost is what a second load (HTTP cache revalidated: no-cache) shows.
    await page.reload();
    await page.locator('header nav').waitFor();
    const warm = await fcp();
    // The ≤ 1 s goal holds on an idle machine; a shared, overloaded one only gets a log line
    // and a bound that still catches a page that never paints.
    const load = os.loadavg()[0];
    const idle = load <= os.cpus().length;
    console.log(
      `console: first contentful paint ${cold.toFixed(0)} ms (fresh Chromium), ${warm.toFixed(0)} ms (reload); load average ${load.toFixed(1)} on ${os.cpus().length} cores${idle ? '' : ' (busy: 1 s goal not checked)'}`,
    );
    expect(warm).toBeLessThanOrEqual(idle ? 1000 : 10000);
    await page.fill('input[name=project]', PROJECT);
    await page.fill('input[name=location]', LOCATION);
    await page.click('.scope button[type=submit]');
    await page.getByText('No product sets in this location yet.').waitFor();

    await page.fill('input[name=setDisplayName]', 'Pets');
    await page.fill('input[name=setId]', 'pets');
    await page.click('text=Create set');
    await page.locator('.set-item[data-set=pets].selected').waitFor();

    await page.click('summary:has-text("New product")');
    await page.fill('input[name=productDisplayName]', 'Brown dog');
    await page.fill('input[name=productId]', 'dog');
    await page.fill('input[name=productLabels]', 'color=brown, kind=dog');
    await page.click('text=Create product');
    const card = page.locator('article[data-product=dog]');
    await card.waitFor();
    expect(await card.locator('.chip').allTextContents()).toEqual(['general-v1', 'color=brown', 'kind=dog']);

    // The photo comes from this computer: uploaded through the server into the gs:// folder.
    await card.locator('summary:has-text("Add reference image")').click();
    await card.locator('input[name=imageFile]').setInputFiles(path.join(devImagesDir(), 'darknet_dog.jpg'));
    // The folder offered is the server's METAPIXEL_CONSOLE_STAGING.
    expect(await card.locator('input[name=imageUri]').inputValue()).toBe('gs://staging/uploads/');
    await card.locator('button:has-text("Add image")').click();
    const ref = card.locator('.ref[data-reference-image]');
    await ref.waitFor({ timeout: 60000 });
    expect(
      Buffer.from(server.gcs.get('staging', 'uploads/darknet_dog.jpg')!).equals(readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'))),
    ).toBe(true);
    // The server chose the regions (no polygon given): at least the whole image, drawn on
    // the picture itself, which the page read back through the server.
    const picture = ref.locator('figure img');
    await picture.waitFor({ timeout: 20000 });
    const loaded = await picture.evaluate((el) => {
      const img = el as unknown as { complete: boolean; naturalWidth: number };
      return [img.complete, img.naturalWidth];
    });
    expect(loaded).toEqual([true, 768]);
    expect(await ref.locator('.box.reference').count()).toBeGreaterThanOrEqual(1);
    await page.locator('.set-item[data-set=pets] .count', { hasText: '1 product' }).waitFor();

    // A second product through the same forms, so the query has something to tell apart.
    await page.click('summary:has-text("New product")');
    await page.fill('input[name=productDisplayName]', 'Horses');
    await page.fill('input[name=productId]', 'horses');
    await page.click('text=Create product');
    const horses = page.locator('article[data-product=horses]');
    await horses.waitFor();
    await horses.locator('summary:has-text("Add reference image")').click();
    await horses.locator('input[name=imageUri]').fill('gs://staging/darknet_horses.jpg');
    await horses.locator('button:has-text("Add image")').click();
    await horses.locator('.ref[data-reference-image] .box').first().waitFor({ timeout: 60000 });
    await horses.locator('.ref[data-reference-image] figure img').waitFor({ timeout: 20000 });
    await page.locator('.set-item[data-set=pets] .count', { hasText: '2 products' }).waitFor();
    await shot('catalog', true);
  }, 180000);

  test('query: the photo of the dog finds the dog, with its region and objects drawn and the side-by-side view', async () => {
    // The shopper's photo: the catalog picture, rescaled and recompressed.
    const dog = await sharp(path.join(devImagesDir(), 'darknet_dog.jpg')).resize({ width: 640 }).jpeg({ quality: 75 }).toBuffer();
    await page.click('nav a[href="#query"]');
    await page.locator('select[name=querySet] option[value$="/productSets/pets"]').waitFor({ state: 'attached' });
    await page.setInputFiles('input[name=photo]', { name: 'dog-query.jpg', mimeType: 'image/jpeg', buffer: dog });
    const first = page.locator('.group .match').first();
    await first.waitFor({ timeout: 60000 });
    // Every searched region is drawn on the photo, numbered, and listed with its matches.
    const regions = await page.locator('.query-results .frame img + .box, .query-results .frame .box.region').count();
    const groups = await page.locator('.group').count();
    expect(groups).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.query-results > .split .frame .box.region').count()).toBe(groups);
    expect(regions).toBeGreaterThanOrEqual(groups);
    expect(await page.locator('.query-results > .split .frame .box.object').count()).toBeGreaterThanOrEqual(1);
    // The best match anywhere is the dog, above the recommended threshold.
    const best = await page.$$eval(
      '.match',
      (els) =>
        els
          .map((e) => ({ product: e.getAttribute('data-product'), score: Number(e.getAttribute('data-score')) }))
          .sort((a, b) => b.score - a.score)[0],
    );
    expect(best.product).toBe('dog');
    expect(best.score).toBeGreaterThanOrEqual(0.5);
    expect(await page.locator(`.match.hit[data-product=dog]`).count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.match .bar .mark').count()).toBe(await page.locator('.match').count());
    // The box sits inside the photo.
    const box = await page.locator('.query-results > .split .frame .box.region').first().boundingBox();
    const img = await page.locator('.query-results > .split .frame img').first().boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(img!.x - 1);
    expect(box!.x + box!.width).toBeLessThanOrEqual(img!.x + img!.width + 1);

    const hit = page.locator('.match.hit[data-product=dog]').first();
    const hitScore = Number(await hit.getAttribute('data-score')).toFixed(3);
    // By keyboard: the matches are buttons.
    await hit.focus();
    await page.keyboard.press('Enter');
    const compare = page.locator('.compare .side-by-side');
    await compare.waitFor();
    expect(await compare.locator('figure').count()).toBe(2);
    expect(await compare.locator('figure').nth(0).locator('.box.region').count()).toBe(1);
    expect(await compare.locator('figure').nth(1).locator('.box.reference').count()).toBeGreaterThanOrEqual(1);
    // The reference side is the catalog's picture, read back through the server, with the
    // region the query region is most like (explainMatch) highlighted and listed first.
    await compare.locator('figure').nth(1).locator('img').waitFor({ timeout: 20000 });
    const rows = page.locator('.compare .region-similarities tbody tr');
    expect(await rows.count()).toBe(await compare.locator('figure').nth(1).locator('.box.reference').count());
    const listed = await rows.locator('td:first-child').allTextContents();
    expect([...listed].sort()).toEqual(listed.map((_, k) => `region ${k + 1}`).sort());
    const bestRegion = await rows.first().getAttribute('data-region');
    expect(await rows.first().getAttribute('class')).toBe('best');
    // Only the best region keeps the group's colour; the others are drawn in grey (tone 7).
    const referenceBoxes = compare.locator('figure').nth(1).locator('.box.reference');
    expect(await referenceBoxes.locator(`xpath=self::*[@data-region="${bestRegion}"]`).getAttribute('class')).not.toMatch(/tone7/);
    expect(await compare.locator('figure').nth(1).locator('.box.reference.tone7').count()).toBe((await referenceBoxes.count()) - 1);
    await expect(page.locator('.compare p').first().textContent()).resolves.toMatch(
      /is most like its region \d+ \(\w[\w-]*, similarity \d\.\d{3}\)/,
    );
    await expect(page.locator('.compare h2').textContent()).resolves.toMatch(
      new RegExp(`→ Brown dog: score ${hitScore.replace('.', '\\.')} \\(match\\)`),
    );
    await shot('query', true);

    await page.setViewportSize({ width: 390, height: 844 });
    await noSidewaysScroll();
    await shot('query-390');
    await page.click('nav a[href="#catalog"]');
    await page.locator('article[data-product=dog]').waitFor();
    await noSidewaysScroll();
    await shot('catalog-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 180000);

  test('object localization: boxes with names and scores', async () => {
    await page.click('nav a[href="#localize"]');
    await page.setInputFiles('input[name=photo]', path.join(devImagesDir(), 'darknet_horses.jpg'));
    await page.locator('.frame .box.object').first().waitFor({ timeout: 60000 });
    const rows = await page.locator('tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(2);
    expect(await page.locator('.frame .box.object').count()).toBe(rows);
    expect((await page.locator('tbody tr td:nth-child(2)').allTextContents()).some((n) => /horse/i.test(n))).toBe(true);
    expect(await page.locator('.frame .box.object .tag').first().textContent()).toMatch(/^\S.* 0\.\d\d$/);
    await shot('localize', true);
  }, 120000);

  test('operations: an import shows live progress and is cancelled from the page', async () => {
    await page.click('nav a[href="#operations"]');
    await page.getByText('No operations in this location.').waitFor();
    await page.fill('input[name=importCsv]', 'gs://staging/bulk.csv');
    await page.click('text=Start import');
    const op = page.locator('article.op').first();
    await page.locator('article.op[data-state=PROCESSING]').waitFor({ timeout: 30000 });
    await page.locator('article.op .meta', { hasText: /^[1-9]\d* of 301 processed/ }).waitFor({ timeout: 30000 });
    await shot('operations', true);
    await op.locator('button:has-text("Cancel")').click();
    await page.locator('article.op[data-state=CANCELLED]').waitFor({ timeout: 60000 });
    expect(await op.locator('button:has-text("Cancel")').count()).toBe(0);
    const { json: ops } = await get<{ operations: { done: boolean; metadata: { state: string } }[] }>(
      `${server.restUrl}/v1/${PARENT}/operations`,
    );
    expect(ops.operations.map((o) => [o.done, o.metadata.state])).toEqual([[true, 'CANCELLED']]);

    // A finished import lists its failed lines (all of them failed: the import is FAILED).
    await page.fill('input[name=importCsv]', 'gs://staging/bad.csv');
    await page.click('text=Start import');
    await page.locator('article.op[data-state=FAILED]').waitFor({ timeout: 60000 });
    // The progress call may say FAILED before the operation read beside it has its response:
    // the page polls on until it does and then lists the lines.
    await page.locator('article.op[data-state=FAILED] .failures li').nth(1).waitFor({ timeout: 30000 });
    const failures = await page.locator('article.op[data-state=FAILED] .failures li').allTextContents();
    expect(failures).toEqual([
      expect.stringMatching(/^Line 0: .*missing\.jpg.*\(code 5\)$/),
      expect.stringMatching(/^Line 1: .*categor.*\(code 3\)$/),
    ]);
    await shot('operations-done');
  }, 120000);

  test('health: index size, lag and inference queues from /metrics', async () => {
    await page.click('nav a[href="#health"]');
    await page.locator('.stat').first().waitFor();
    const value = async (label: string) =>
      page
        .locator('.stat', { has: page.locator('.label', { hasText: label }) })
        .locator('.value')
        .textContent();
    expect(Number((await value('regions indexed'))!.replace(/,/g, ''))).toBeGreaterThan(0);
    expect(await page.locator('tr[data-model]').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('.chip.ok').textContent()).toBe('ready');
    await shot('health', true);
  }, 60000);

  test('catalog edits: rename and delete a set, edit a product, delete a product', async () => {
    await page.click('nav a[href="#catalog"]');
    await page.fill('input[name=setDisplayName]', 'Scratch');
    await page.fill('input[name=setId]', 'scratch');
    await page.click('text=Create set');
    await page.locator('.set-item[data-set=scratch].selected').waitFor();
    await page.fill('input[name=renameSet]', 'Scratch renamed');
    await page.click('.detail-head button:has-text("Save")');
    await page.locator('.set-item[data-set=scratch] strong', { hasText: 'Scratch renamed' }).waitFor();
    await page.click('summary:has-text("New product")');
    await page.fill('input[name=productDisplayName]', 'Temporary');
    await page.fill('input[name=productId]', 'temp');
    await page.click('text=Create product');
    const card = page.locator('article[data-product=temp]');
    await card.locator('button:has-text("Edit")').click();
    await card.locator('input[name=productLabels]').fill('size=xl');
    await card.locator('input[name=productDescription]').fill('edited in the console');
    await card.locator('button:has-text("Save product")').click();
    await page.locator('article[data-product=temp] .chip', { hasText: 'size=xl' }).waitFor();
    const { json: product } = await get<{ description: string; productLabels: unknown[] }>(`${server.restUrl}/v1/${PARENT}/products/temp`);
    expect(product).toMatchObject({ description: 'edited in the console', productLabels: [{ key: 'size', value: 'xl' }] });
    await page.locator('article[data-product=temp] button:has-text("Delete")').click(); // confirm() is accepted
    await page.getByText('No products in this set yet.').waitFor();
    expect((await get(`${server.restUrl}/v1/${PARENT}/products/temp`)).status).toBe(404);
    await page.click('.detail-head button:has-text("Delete set")');
    await page.locator('.set-item[data-set=scratch]').waitFor({ state: 'detached' });
    expect((await get(`${server.restUrl}/v1/${PARENT}/productSets/scratch`)).status).toBe(404);
  }, 60000);
});

maybe('console in Chromium, with API keys configured', () => {
  let server: TestServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  beforeAll(async () => {
    execFileSync(process.execPath, [path.join(ROOT, 'console', 'build.mjs')], { stdio: 'pipe' });
    server = await startTestServer({ apiKeys: 'shop-key=shop' });
    ({ profile, context, page } = await launch());
  }, 120000);
  afterAll(async () => {
    await context?.close();
    await server?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test('asks for a key when the API wants one, keeps it in sessionStorage only, and sends it', async () => {
    await page.goto(`${server.restUrl}/`);
    await page.fill('input[name=project]', PROJECT);
    await page.fill('input[name=location]', LOCATION);
    await page.click('.scope button[type=submit]');
    const dialog = page.locator('dialog[open]');
    await dialog.getByText('The server needs an API key for this project.').waitFor();
    await dialog.locator('input[name=apiKey]').fill('shop-key');
    await dialog.locator('button[type=submit]').click();
    await page.getByText('No product sets in this location yet.').waitFor();
    const stored = await page.evaluate<{ session: string | null; local: string }>(
      "({ session: sessionStorage.getItem('metapixel.apiKey'), local: JSON.stringify(localStorage) })",
    );
    expect(stored.session).toBe('shop-key');
    expect(stored.local).not.toContain('shop-key');
    // Another project is refused by the server, and the page says so.
    await page.fill('input[name=project]', 'other');
    await page.click('.scope button[type=submit]');
    await page
      .getByText(/PERMISSION_DENIED/)
      .first()
      .waitFor();
  }, 120000);
});
