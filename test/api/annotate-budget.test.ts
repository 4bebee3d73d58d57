/**
 * Issue #15 item 1: one small request bought minutes of CPU (each repeated feature re-ran
 * detection; 1000 features per image were accepted) and the work went on after the client
 * left. Counted in model runs from /metrics (metapixel_inference_duration_seconds_count),
 * through the real ImageAnnotatorClient on both transports.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, TRANSPORTS, statusOf } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
const dog = readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg'));

beforeAll(async () => {
  // One worker, one run per model at a time: a batch of 16 images queues up behind the first.
  server = await startTestServer({
    inferenceWorkers: 1,
    inferenceConcurrency: 1,
    detectMirror: 'never',
    maxImagesInFlightPerProject: 1000,
  });
});
afterAll(async () => {
  await server?.stop();
});

async function metrics(): Promise<string> {
  return (await fetch(`${server.restUrl}/metrics`)).text();
}
const sum = (text: string, re: RegExp) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);
/** Model runs finished so far, all models. */
const runs = async () => sum(await metrics(), /^metapixel_inference_duration_seconds_count\{[^}]*\} (\d+)$/gm);
/** Model runs running or waiting now. */
const queued = async () => sum(await metrics(), /^metapixel_inference_queue_depth\{[^}]*\} (\d+)$/gm);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const batch16 = () => Array.from({ length: 16 }, () => ({ image: { content: dog }, features: [{ type: 'OBJECT_LOCALIZATION' as const }] }));

/** Runs of one plain OBJECT_LOCALIZATION of the dog (measured, so the test follows the models). */
let perImage = 0;

describe.each(TRANSPORTS)('over %s', (transport) => {
  test('repeated features are computed once; too many features are refused without running a model', async () => {
    const client = imageAnnotatorClient(server, transport);
    const annotate = async (features: { type: 'OBJECT_LOCALIZATION'; maxResults?: number }[]) => {
      const before = await runs();
      const [res] = await client.batchAnnotateImages({ requests: [{ image: { content: dog }, features }] });
      return { res: res.responses![0], runs: (await runs()) - before };
    };
    const one = await annotate([{ type: 'OBJECT_LOCALIZATION' }]);
    perImage = one.runs;
    expect(perImage).toBeGreaterThan(0);
    const ten = await annotate(Array.from({ length: 10 }, (_, i) => ({ type: 'OBJECT_LOCALIZATION' as const, maxResults: i + 1 })));
    expect(ten.runs).toBe(perImage);
    expect(ten.res.error).toBeFalsy();
    // The largest maxResults asked is the one served.
    expect(ten.res.localizedObjectAnnotations!.length).toBe(one.res.localizedObjectAnnotations!.length);
    const thousand = await annotate(Array.from({ length: 1000 }, () => ({ type: 'OBJECT_LOCALIZATION' as const })));
    expect(thousand.runs).toBe(0);
    expect(thousand.res.error).toMatchObject({ code: 3, message: expect.stringMatching(/Too many features: 1000.*limit is 32/) });
    await client.close();
  });

  test('a client that cancels stops the work: the queued model runs are dropped', async () => {
    expect(perImage).toBeGreaterThan(0);
    await until(async () => (await queued()) === 0, 'an idle queue');
    const client = imageAnnotatorClient(server, transport);
    await client.initialize();
    const before = await runs();
    // gax's own cancellable call (the public method's .then() drops its cancel()).
    const inner = (
      client as unknown as { innerApiCalls: Record<string, (req: unknown, opts: unknown) => Promise<unknown> & { cancel(): void }> }
    ).innerApiCalls;
    const call = inner.batchAnnotateImages({ requests: batch16() }, {});
    const outcome = call.then(
      () => 'answered',
      (e: unknown) => statusOf(e),
    );
    // Cancel as soon as the first model run of the batch has finished.
    await until(async () => (await runs()) > before, 'the first model run');
    call.cancel();
    expect(await outcome).not.toBe('answered');
    await until(async () => (await queued()) === 0, 'the queue to drain');
    await sleep(300);
    const done = (await runs()) - before;
    // 16 images would be 16 × perImage runs; the ones already running when the cancel
    // arrived finish, the rest never start.
    expect(done).toBeLessThan(4 * perImage);
    await client.close();
  });

  test('a deadline (grpc-timeout; X-Server-Timeout on REST) stops the work the same way', async () => {
    expect(perImage).toBeGreaterThan(0);
    await until(async () => (await queued()) === 0, 'an idle queue');
    const client = imageAnnotatorClient(server, transport);
    const before = await runs();
    let outcome: string;
    if (transport === 'grpc') {
      outcome = await client.batchAnnotateImages({ requests: batch16() }, { timeout: 600, maxRetries: 0 }).then(
        () => 'answered',
        (e: unknown) => statusOf(e),
      );
    } else {
      // The Node REST client enforces its timeout on its side only; Google's REST deadline
      // header is what a server can see.
      const res = await fetch(`${server.restUrl}/v1/images:annotate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-server-timeout': '0.6' },
        body: JSON.stringify({ requests: batch16().map((r) => ({ ...r, image: { content: dog.toString('base64') } })) }),
      });
      outcome = ((await res.json()) as { error?: { status: string } }).error?.status ?? 'answered';
      expect(outcome).toBe('DEADLINE_EXCEEDED');
    }
    expect(outcome).not.toBe('answered');
    await until(async () => (await queued()) === 0, 'the queue to drain');
    await sleep(300);
    // However far the batch got in 0.6 s, it is cut there: never all 16 images.
    expect((await runs()) - before).toBeLessThan(16 * perImage);
    await client.close();
  });
});

describe('per-project quota on images in flight', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ inferenceWorkers: 1, inferenceConcurrency: 1, detectMirror: 'never', maxImagesInFlightPerProject: 16 });
  });
  afterAll(async () => {
    await small?.stop();
  });

  test('a call beyond the quota is RESOURCE_EXHAUSTED (REST: 429 with Retry-After); other projects are not held up', async () => {
    const client = imageAnnotatorClient(small, 'grpc');
    const scrape = async () =>
      sum(await (await fetch(`${small.restUrl}/metrics`)).text(), /^metapixel_inference_duration_seconds_count\{[^}]*\} (\d+)$/gm);
    const before = await scrape();
    const first = client.batchAnnotateImages({ parent: 'projects/busy', requests: batch16() });
    await until(async () => (await scrape()) > before, 'the first model run');
    const one = [{ image: { content: dog }, features: [{ type: 'OBJECT_LOCALIZATION' as const }] }];
    const err = await client.batchAnnotateImages({ parent: 'projects/busy', requests: one }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(err)).toBe('RESOURCE_EXHAUSTED');
    const res = await fetch(`${small.restUrl}/v1/projects/busy/images:annotate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ image: { content: dog.toString('base64') }, features: [{ type: 'OBJECT_LOCALIZATION' }] }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    const [other] = await client.batchAnnotateImages({ parent: 'projects/calm', requests: one });
    expect(other.responses![0].error).toBeFalsy();
    const [done] = await first;
    expect(done.responses).toHaveLength(16);
    // Its images are released: the project may call again.
    const [again] = await client.batchAnnotateImages({ parent: 'projects/busy', requests: one });
    expect(again.responses![0].error).toBeFalsy();
    await client.close();
  });
});
