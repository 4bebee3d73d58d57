/**
 * src/api/versions.ts without a server: which beta methods are bound, how a beta request
 * becomes v1's, and the type URLs of operations started through a beta.
 */
import { MethodTable } from '../../src/api/method-table';
import { loadRoot, lookupType } from '../../src/api/proto/load';
import { addBetaVersions, BETA_SERVICES, toV1, withBetaTypeUrls } from '../../src/api/versions';
import type { CallContext } from '../../src/core/context';

const ctx = {} as CallContext;

test('every beta method whose v1 twin is served is bound to it, and only those', async () => {
  const seen: [string, unknown][] = [];
  const v1 = (name: string) => async (req: unknown) => (seen.push([name, req]), { name });
  const methods = new MethodTable()
    .add('google.cloud.vision.v1.ProductSearch/CreateProduct', v1('CreateProduct'))
    .add('google.cloud.vision.v1.ProductSearch/PurgeProducts', v1('PurgeProducts'))
    .add('google.cloud.vision.v1.ImageAnnotator/BatchAnnotateImages', v1('BatchAnnotateImages'));
  addBetaVersions(methods, loadRoot());
  expect(BETA_SERVICES).toEqual([
    'google.cloud.vision.v1p3beta1.ProductSearch',
    'google.cloud.vision.v1p3beta1.ImageAnnotator',
    'google.cloud.vision.v1p4beta1.ProductSearch',
    'google.cloud.vision.v1p4beta1.ImageAnnotator',
  ]);
  for (const v of ['v1p3beta1', 'v1p4beta1']) {
    expect(methods.has(`google.cloud.vision.${v}.ProductSearch/CreateProduct`)).toBe(true);
    expect(methods.has(`google.cloud.vision.${v}.ImageAnnotator/BatchAnnotateImages`)).toBe(true);
    // Not in the v1 table, so not bound in the beta either (UNIMPLEMENTED).
    expect(methods.has(`google.cloud.vision.${v}.ProductSearch/GetProduct`)).toBe(false);
  }
  // v1p3beta1 has no PurgeProducts RPC at all.
  expect(methods.has('google.cloud.vision.v1p3beta1.ProductSearch/PurgeProducts')).toBe(false);
  expect(methods.has('google.cloud.vision.v1p4beta1.ProductSearch/PurgeProducts')).toBe(true);
  await expect(
    methods.get('google.cloud.vision.v1p4beta1.ProductSearch/CreateProduct')({ parent: 'projects/p/locations/l' }, ctx),
  ).resolves.toEqual({ name: 'CreateProduct' });
  expect(seen[0][1]).toMatchObject({ parent: 'projects/p/locations/l', productId: '', product: null });
});

test('a beta annotate request read as v1: v1 defaults added, face recognition (v1p4beta1 only) dropped, bytes kept', () => {
  const content = Buffer.from('jpeg bytes');
  const v1 = toV1(lookupType('google.cloud.vision.v1.BatchAnnotateImagesRequest'), {
    requests: [
      {
        image: { content },
        features: [{ type: 'PRODUCT_SEARCH', maxResults: 3 }],
        imageContext: { faceRecognitionParams: { celebritySet: ['s'] } },
      },
    ],
  }) as { parent: string; labels: object; requests: { image: { content: Buffer }; features: unknown[]; imageContext: object }[] };
  expect(v1.parent).toBe('');
  expect(v1.labels).toEqual({});
  expect(v1.requests[0].image.content).toBe(content);
  expect(v1.requests[0].features).toEqual([{ type: 'PRODUCT_SEARCH', maxResults: 3, model: '' }]);
  expect(v1.requests[0].imageContext).not.toHaveProperty('faceRecognitionParams');
});

test("an operation's Vision type URLs name the beta; others and bytes are left alone", () => {
  const value = Buffer.from([1, 2]);
  const op = {
    name: 'projects/p/operations/1',
    metadata: { '@type': 'type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata', state: 'PROCESSING' },
    response: { '@type': 'type.googleapis.com/google.protobuf.Empty' },
    raw: value,
  };
  const beta = withBetaTypeUrls(op, 'v1p3beta1');
  expect(beta.metadata['@type']).toBe('type.googleapis.com/google.cloud.vision.v1p3beta1.BatchOperationMetadata');
  expect(beta.response['@type']).toBe('type.googleapis.com/google.protobuf.Empty');
  expect(beta.raw).toBe(value);
  expect(op.metadata['@type']).toBe('type.googleapis.com/google.cloud.vision.v1.BatchOperationMetadata');
});
