/**
 * images:asyncBatchAnnotate through Google's real ImageAnnotatorClient on both transports:
 * the operation runs to done, the output lands in Cloud Storage as Google lays it out
 * (`{prefix}output-{first}-to-{last}.json`, proto3-JSON BatchAnnotateImagesResponse), and
 * the operation reads back through GetOperation with OperationMetadata.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { imageAnnotatorClient, statusOf, TRANSPORTS } from '../support/clients';
import { devImagesDir } from '../support/dev-images';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  for (const photo of ['darknet_dog.jpg', 'darknet_person.jpg'])
    server.gcs.put('photos', photo, readFileSync(path.join(devImagesDir(), photo)));
  server.gcs.put('photos', 'corrupt.jpg', readFileSync(path.join(devImagesDir(), 'darknet_dog.jpg')).subarray(0, 2000));
});
afterAll(async () => {
  await server?.stop();
});

const OBJECTS = [{ type: 'OBJECT_LOCALIZATION' as const }];
const gs = (object: string) => ({ image: { source: { imageUri: `gs://photos/${object}` } }, features: OBJECTS });

interface OutputFile {
  responses: {
    localizedObjectAnnotations?: { name: string; mid: string; score: number; boundingPoly: { normalizedVertices: unknown[] } }[];
    error?: { code: number; message: string };
  }[];
}
const readOutput = (object: string) => JSON.parse(Buffer.from(server.gcs.get('out', object)!).toString('utf8')) as OutputFile;
const names = (r: OutputFile['responses'][number]) => (r.localizedObjectAnnotations ?? []).map((a) => a.name);

describe.each(TRANSPORTS)('AsyncBatchAnnotateImages over %s', (transport) => {
  test('writes batches of batchSize as output-{first}-to-{last}.json; a bad image fails alone', async () => {
    const client = imageAnnotatorClient(server, transport);
    const outputConfig = { gcsDestination: { uri: `gs://out/${transport}/prefix/` }, batchSize: 2 };
    const [operation] = await client.asyncBatchAnnotateImages({
      requests: [gs('darknet_dog.jpg'), gs('corrupt.jpg'), gs('darknet_person.jpg')],
      outputConfig,
    });
    // No parent: the operation belongs to the server's default project (an open server).
    expect(operation.name).toMatch(/^projects\/default\/operations\/[0-9a-f]+$/);
    const [response] = await operation.promise();
    expect(response).toMatchObject({ outputConfig });

    expect(server.gcs.list('out', `${transport}/`)).toEqual([
      `${transport}/prefix/output-1-to-2.json`,
      `${transport}/prefix/output-3-to-3.json`,
    ]);
    const first = readOutput(`${transport}/prefix/output-1-to-2.json`);
    const second = readOutput(`${transport}/prefix/output-3-to-3.json`);
    expect(Object.keys(first)).toEqual(['responses']);
    expect(first.responses).toHaveLength(2);
    expect(second.responses).toHaveLength(1);
    // proto3 JSON: camelCase names, only the fields that are set.
    expect(Object.keys(first.responses[0])).toEqual(['localizedObjectAnnotations']);
    expect(names(first.responses[0])).toEqual(expect.arrayContaining(['Dog', 'Bicycle']));
    const dog = first.responses[0].localizedObjectAnnotations!.find((a) => a.name === 'Dog')!;
    expect(dog).toMatchObject({ mid: expect.stringMatching(/^\/m\/0/), languageCode: 'en', score: expect.any(Number) });
    expect(dog.boundingPoly.normalizedVertices).toHaveLength(4);
    expect(first.responses[1]).toEqual({ error: { code: 3, message: expect.stringMatching(/Bad image data/) } });
    expect(names(second.responses[0])).toEqual(expect.arrayContaining(['Person', 'Horse']));

    // The operation stays readable through GetOperation, with OperationMetadata DONE.
    const done = await client.checkAsyncBatchAnnotateImagesProgress(operation.name!);
    expect(done.done).toBe(true);
    const meta = done.metadata as unknown as { state: unknown; createTime: { seconds: unknown }; updateTime: { seconds: unknown } };
    expect([3, 'DONE']).toContain(meta.state);
    expect(Number(meta.updateTime.seconds)).toBeGreaterThanOrEqual(Number(meta.createTime.seconds));
    expect(done.result).toMatchObject({ outputConfig });
    // Metapixel's progress endpoint counts images: 3 answered, 1 of them an error.
    const progress = (await (await fetch(`${server.restUrl}/v1/${operation.name}:progress`)).json()) as Record<string, unknown>;
    expect(progress).toMatchObject({
      name: operation.name,
      kind: 'async-batch-annotate-images',
      state: 'SUCCESSFUL',
      done: true,
      totalLines: '3',
      totalKnown: true,
      processedLines: '3',
      succeededLines: '2',
      failedLines: '1',
    });
    await client.close();
  });

  test('bad requests fail at call time with INVALID_ARGUMENT', async () => {
    const client = imageAnnotatorClient(server, transport);
    const requests = [gs('darknet_dog.jpg')];
    const uri = 'gs://out/x/';
    const rejects = async (outputConfig: object | undefined, why: RegExp, more: object = {}) => {
      const err = await client.asyncBatchAnnotateImages({ requests, outputConfig, ...more }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      expect(statusOf(err)).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toMatch(why);
    };
    await rejects(undefined, /Missing required field: outputConfig.gcsDestination.uri/);
    await rejects({ batchSize: 2 }, /Missing required field: outputConfig.gcsDestination.uri/);
    await rejects({ gcsDestination: { uri: 'https://storage.googleapis.com/out/x/' } }, /must start with gs:\/\//);
    await rejects({ gcsDestination: { uri: 'gs://Bad_Bucket!/x/' } }, /not a valid bucket name/);
    await rejects({ gcsDestination: { uri }, batchSize: 101 }, /batchSize 101: the valid range is \[1, 100\]/);
    await rejects({ gcsDestination: { uri }, batchSize: -1 }, /batchSize -1: the valid range/);
    await rejects({ gcsDestination: { uri } }, /No image requests/, { requests: [] });
    await rejects({ gcsDestination: { uri } }, /Too many images: 2001 in one request; the limit is 2000/, {
      requests: Array.from({ length: 2001 }, () => requests[0]),
    });
    await rejects({ gcsDestination: { uri } }, /Invalid label/, { labels: { 'Bad Key': 'v' } });
    expect(server.gcs.list('out', 'x/')).toEqual([]);
    await client.close();
  });
});

test('a parent names the operation; a file prefix and the default batchSize (20) shape the output', async () => {
  const cases = [
    { transport: 'grpc' as const, parent: 'projects/p1/locations/eu', name: /^projects\/p1\/locations\/eu\/operations\/[0-9a-f]+$/ },
    { transport: 'rest' as const, parent: 'projects/p1', name: /^projects\/p1\/operations\/[0-9a-f]+$/ },
    { transport: 'rest' as const, parent: 'projects/p2/locations/us', name: /^projects\/p2\/locations\/us\/operations\/[0-9a-f]+$/ },
  ];
  for (const [i, { transport, parent, name }] of cases.entries()) {
    const client = imageAnnotatorClient(server, transport);
    // 17 images: more than images:annotate allows at once, within one default batch.
    const requests = Array.from({ length: 17 }, () => ({ image: { source: { imageUri: 'gs://photos/missing.jpg' } }, features: OBJECTS }));
    const [operation] = await client.asyncBatchAnnotateImages({
      parent,
      requests,
      outputConfig: { gcsDestination: { uri: `gs://out/single-${i}-` } },
    });
    expect(operation.name).toMatch(name);
    await operation.promise();
    expect(server.gcs.list('out', `single-${i}-`)).toEqual([`single-${i}-output-1-to-17.json`]);
    const out = readOutput(`single-${i}-output-1-to-17.json`);
    expect(out.responses).toHaveLength(17);
    expect(out.responses[16]).toEqual({ error: { code: 5, message: expect.stringMatching(/not found/) } });
    const polled = await client.checkAsyncBatchAnnotateImagesProgress(operation.name!);
    expect(polled).toMatchObject({ name: operation.name, done: true });
    await client.close();
  }
});
