/** Issue #15: a malformed protobuf request answered INTERNAL; Google answers INVALID_ARGUMENT. */
import * as grpc from '@grpc/grpc-js';
import { startTestServer, type TestServer } from '../support/server';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

function rawCall(path: string, body: Buffer): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      (err) => {
        client.close();
        resolve(err);
      },
    );
  });
}

test.each([
  ['a truncated varint', Buffer.from([0x08, 0xff, 0xff])],
  ['a length past the end', Buffer.from([0x0a, 0x7f, 0x61])],
  ['an invalid wire type', Buffer.from([0x0f, 0x01])],
])('%s is INVALID_ARGUMENT on every method', async (_what, body) => {
  for (const path of [
    '/google.cloud.vision.v1.ProductSearch/CreateProductSet',
    '/google.cloud.vision.v1.ImageAnnotator/BatchAnnotateImages',
    '/google.longrunning.Operations/GetOperation',
  ]) {
    const err = await rawCall(path, body);
    expect({ path, code: err?.code }).toEqual({ path, code: grpc.status.INVALID_ARGUMENT });
  }
});

test('a well-formed empty message still reaches the method', async () => {
  const err = await rawCall('/google.cloud.vision.v1.ProductSearch/GetProductSet', Buffer.alloc(0));
  // No name: the method's own validation answers.
  expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(err?.details).toMatch(/name/);
});
