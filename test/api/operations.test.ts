/**
 * Operations as Google's clients see them: persisted operations read back through the real
 * client's LRO helpers (gRPC and REST), with @type-tagged metadata and responses.
 */
import { productSearchClient, expectStatus, TRANSPORTS } from '../support/clients';
import { startTestServer, type TestServer } from '../support/server';
import { OperationsService } from '../../src/jobs/operations-service';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ jobPollMs: 60000 });
});
afterAll(async () => {
  await server?.stop();
});

const META = 'type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata';
const RESPONSE = 'type.googleapis.com/google.cloud.vision.v1.ImportProductSetsResponse';

test.each(TRANSPORTS)('GetOperation and ListOperations over %s', async (transport) => {
  const project = `ops-${transport}`;
  const ops = new OperationsService(server.store.operations);
  // Queued under a kind no worker claims during this test (the poll interval is long).
  const running = await ops.enqueue({
    project,
    location: 'us-west1',
    kind: 'test-only',
    request: {},
    metadata: { '@type': META, state: 'PROCESSING', submitTime: { seconds: '1700000000', nanos: 0 } },
  });
  const finished = await ops.enqueue({
    project,
    location: 'us-west1',
    kind: 'test-only',
    request: {},
    metadata: { '@type': META, state: 'SUCCESSFUL' },
  });
  await server.store.operations.updateOperation(
    { project, location: 'us-west1', operation: finished.id },
    {
      done: true,
      response: {
        '@type': RESPONSE,
        referenceImages: [{ name: 'projects/x/locations/us-west1/products/p/referenceImages/r', uri: 'gs://b/o.jpg' }],
        statuses: [{ code: 0 }, { code: 3, message: 'bad line' }],
      },
    },
    new Date(),
  );

  const client = productSearchClient(server, transport);
  const name = `projects/${project}/locations/us-west1/operations/${running.id}`;
  const op = await client.checkImportProductSetsProgress(name);
  expect(op.done).toBe(false);
  // The client decodes Any with numeric enums on gRPC and names on REST: both mean PROCESSING.
  expect([1, 'PROCESSING']).toContain((op.metadata as unknown as { state: unknown }).state);
  expect(Number((op.metadata as unknown as { submitTime: { seconds: string } }).submitTime.seconds)).toBe(1700000000);

  const done = await client.checkImportProductSetsProgress(`projects/${project}/locations/us-west1/operations/${finished.id}`);
  expect(done.done).toBe(true);
  expect(done.result).toMatchObject({
    referenceImages: [{ uri: 'gs://b/o.jpg' }],
    statuses: [{ code: 0 }, { code: 3, message: 'bad line' }],
  });

  // Vision's REST surface (and so the REST client) has only GetOperation; List is gRPC,
  // and Metapixel also serves it at GET /v1/projects/*/locations/*/operations.
  const expected = [name, `projects/${project}/locations/us-west1/operations/${finished.id}`].sort();
  if (transport === 'grpc') {
    const listed = (await client.operationsClient.listOperations({ name: `projects/${project}/locations/us-west1`, filter: '' } as never, {
      autoPaginate: false,
    })) as unknown as [{ name: string }[]];
    expect(listed[0].map((o) => o.name).sort()).toEqual(expected);
  } else {
    const res = await fetch(`${server.restUrl}/v1/projects/${project}/locations/us-west1/operations`);
    const body = (await res.json()) as { operations: { name: string; metadata: { '@type': string } }[] };
    expect(body.operations.map((o) => o.name).sort()).toEqual(expected);
    expect(body.operations[0].metadata['@type']).toBe(META);
  }

  await expectStatus(client.checkImportProductSetsProgress(`projects/${project}/locations/us-west1/operations/nope`), 'NOT_FOUND');
  await expectStatus(client.checkImportProductSetsProgress(`projects/other/locations/us-west1/operations/${running.id}`), 'NOT_FOUND');
  await client.close();
});

test('the legacy project-less operation paths answer NOT_FOUND', async () => {
  for (const p of ['/v1/operations/abc', '/v1/locations/us-west1/operations/abc']) {
    const res = await fetch(server.restUrl + p);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('NOT_FOUND');
  }
});
