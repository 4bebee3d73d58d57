/**
 * The AsyncBatchAnnotateImages job on its own: resuming from a checkpoint writes only the
 * batches not yet written, a cancel stops between batches, and the final metadata follows
 * OperationMetadata's states; the call names the operation after the right project. Output goes to a METAPIXEL_GCS_DIR-style directory; the
 * features asked for are ones Metapixel answers with a per-image error, so no model runs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { AnnotateService } from '../../src/annotate/annotate-service';
import { AsyncAnnotateJob, AsyncAnnotateService } from '../../src/jobs/async-annotate';
import { GcsWriter } from '../../src/images/gcs-writer';
import { Authenticator, parseGrants } from '../../src/core/auth';
import { OperationsService } from '../../src/jobs/operations-service';
import { openStore } from '../../src/store/open-store';
import type { OperationRecord } from '../../src/store/operation-store';
import type { Stores } from '../../src/store/stores';
import type { JobControl } from '../../src/jobs/job-runner';

let dir: string;
let job: AsyncAnnotateJob;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'metapixel-async-'));
  // Fetcher, decoder and detector are never reached: LABEL_DETECTION is answered per image.
  const annotator = new AnnotateService(
    {} as never,
    {} as never,
    {} as never,
    { maxImagesPerRequest: 16, defaultMaxResults: 10 },
    pino({ level: 'silent' }),
  );
  job = new AsyncAnnotateJob(
    annotator,
    new GcsWriter({ storage: {} as never /* unused with localDir */, localDir: dir, timeoutMs: 1000 }),
    JSON.stringify,
    { concurrency: 2, retryDelaysMs: [] },
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const CREATED = { seconds: '1700000000', nanos: 0 };

function operation(images: number, checkpoint?: unknown): OperationRecord {
  const requests = Array.from({ length: images }, (_, i) => ({
    image: { content: Buffer.from(`img${i}`).toString('base64'), source: null },
    features: [{ type: 'LABEL_DETECTION', maxResults: i }],
  }));
  return {
    project: 'p',
    location: null,
    id: 'op1',
    kind: 'async-batch-annotate-images',
    done: false,
    cancelRequested: false,
    request: { requests, outputConfig: { gcsDestination: { uri: 'gs://out/run/' }, batchSize: 2 } },
    metadata: {
      '@type': 'type.googleapis.com/google.cloud.vision.v1.OperationMetadata',
      state: 'CREATED',
      createTime: CREATED,
      updateTime: CREATED,
    },
    checkpoint,
    createTime: new Date(),
    updateTime: new Date(),
  };
}

function control(onProgress: (checkpoint: { nextBatch: number }) => void = () => undefined) {
  const abort = new AbortController();
  const checkpoints: number[] = [];
  const states: string[] = [];
  const ctl: JobControl = {
    signal: abort.signal,
    progress: async (metadata, checkpoint) => {
      states.push((metadata as { state: string }).state);
      checkpoints.push((checkpoint as { nextBatch: number }).nextBatch);
      onProgress(checkpoint as { nextBatch: number });
    },
  };
  return { ctl, abort, checkpoints, states };
}

const written = () => (existsSync(path.join(dir, 'out', 'run')) ? readdirSync(path.join(dir, 'out', 'run')).sort() : []);

test('a fresh run writes every batch in order, checkpointing after each file', async () => {
  const { ctl, checkpoints, states } = control();
  const res = await job.run(operation(5), ctl);
  expect(res).toEqual({
    '@type': 'type.googleapis.com/google.cloud.vision.v1.AsyncBatchAnnotateImagesResponse',
    outputConfig: { gcsDestination: { uri: 'gs://out/run/' }, batchSize: 2 },
  });
  expect(written()).toEqual(['output-1-to-2.json', 'output-3-to-4.json', 'output-5-to-5.json']);
  expect(checkpoints).toEqual([0, 1, 2, 3]);
  expect(new Set(states)).toEqual(new Set(['RUNNING']));
  const last = JSON.parse(readFileSync(path.join(dir, 'out', 'run', 'output-5-to-5.json'), 'utf8')) as {
    responses: { error: { code: number } }[];
  };
  expect(last.responses).toEqual([{ error: { code: 3, message: expect.stringMatching(/LABEL_DETECTION is not offered/) } }]);
});

test('a resumed run starts at the checkpointed batch', async () => {
  const { ctl, checkpoints } = control();
  await job.run(operation(5, { nextBatch: 1 }), ctl);
  expect(written()).toEqual(['output-3-to-4.json', 'output-5-to-5.json']);
  expect(checkpoints).toEqual([1, 2, 3]);
});

test('a cancel stops between batches', async () => {
  const { ctl, abort } = control((cp) => cp.nextBatch === 1 && abort.abort('cancelled'));
  await expect(job.run(operation(5), ctl)).rejects.toBe('cancelled');
  expect(written()).toEqual(['output-1-to-2.json']);
});

test('final metadata: DONE on success and failure, CANCELLED on cancel; createTime kept', () => {
  const now = new Date(1700000123456);
  const op = operation(1);
  const at = (o: 'SUCCEEDED' | 'FAILED' | 'CANCELLED') =>
    job.finalMetadata(op, o, now) as { state: string; createTime: unknown; updateTime: unknown };
  expect(at('SUCCEEDED')).toMatchObject({ state: 'DONE', createTime: CREATED, updateTime: { seconds: '1700000123', nanos: 456000000 } });
  expect(at('FAILED').state).toBe('DONE');
  expect(at('CANCELLED').state).toBe('CANCELLED');
});

test('an output prefix that escapes the local bucket directory fails the write', async () => {
  const op = operation(1);
  (op.request as { outputConfig: { gcsDestination: { uri: string } } }).outputConfig.gcsDestination.uri = 'gs://out/../../escape-';
  await expect(job.run(op, control().ctl)).rejects.toMatchObject({
    code: 3,
    message: expect.stringContaining("'.', '..' or empty path segments"),
  });
  expect(existsSync(path.join(dir, '..', 'escape-output-1-to-1.json'))).toBe(false);
});

describe('the project of the operation', () => {
  const auth = new Authenticator(parseGrants('k1=acme,beta;k2=*'), new Map());
  let store: Stores;
  let service: AsyncAnnotateService;
  beforeEach(async () => {
    store = await openStore({ dataDir: dir });
    const writer = new GcsWriter({ storage: {} as never /* unused with localDir */, localDir: dir, timeoutMs: 1000 });
    service = new AsyncAnnotateService(new OperationsService(store.operations), writer, 'fallback');
  });
  afterEach(async () => store.close());

  const call = (apiKey: string, parent?: string) =>
    service.asyncBatchAnnotateImages(
      {
        parent,
        requests: [{ image: { source: { imageUri: 'gs://b/o.jpg' } }, features: [{ type: 'OBJECT_LOCALIZATION' }] }],
        outputConfig: { gcsDestination: { uri: 'gs://out/x/' } },
      },
      { principal: auth.authenticate({ apiKey }), requestId: 't' },
    );

  test("without a parent: the credential's first project, else the server default", async () => {
    expect((await call('k1')).name).toMatch(/^projects\/acme\/operations\/[0-9a-f]{24}$/);
    expect((await call('k2')).name).toMatch(/^projects\/fallback\/operations\//);
  });

  test('with a parent: that project, which the caller must be granted', async () => {
    expect((await call('k1', 'projects/beta/locations/eu')).name).toMatch(/^projects\/beta\/locations\/eu\/operations\//);
    await expect(call('k1', 'projects/other')).rejects.toMatchObject({ code: 7 });
    const stored = (await store.operations.listOperations({ project: 'beta', location: 'eu' }, { limit: 10 }))[0];
    expect(stored.metadata).toMatchObject({ state: 'CREATED' });
    expect(stored.request).toMatchObject({ outputConfig: { gcsDestination: { uri: 'gs://out/x/' }, batchSize: 20 } });
  });
});
