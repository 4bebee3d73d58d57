/**
 * Google's .proto files are loaded from the npm packages that ship them (Apache-2.0):
 * the Vision protos from @google-cloud/vision, the common google/* protos from google-gax.
 * Only Metapixel's own protos live in this repository's protos/ folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import * as protoLoader from '@grpc/proto-loader';

const visionDir = path.dirname(require.resolve('@google-cloud/vision/package.json'));
/** google-gax's "exports" hides package.json; its main file sits at build/src/index.js. */
const gaxDir = path.resolve(path.dirname(require.resolve('google-gax', { paths: [visionDir] })), '..', '..');

export const PROTO_INCLUDE_DIRS = [
  path.join(visionDir, 'build', 'protos'),
  path.join(gaxDir, 'build', 'protos'),
  path.resolve(__dirname, '..', '..', '..', 'protos'),
];

export const PROTO_FILES = [
  'google/cloud/vision/v1/product_search_service.proto',
  'google/cloud/vision/v1/image_annotator.proto',
  // The betas, served by the v1 handlers through src/api/versions.ts.
  'google/cloud/vision/v1p3beta1/product_search_service.proto',
  'google/cloud/vision/v1p3beta1/image_annotator.proto',
  'google/cloud/vision/v1p4beta1/product_search_service.proto',
  'google/cloud/vision/v1p4beta1/image_annotator.proto',
  'google/longrunning/operations.proto',
  'metapixel/v1/encode.proto',
  'metapixel/v1/jobs.proto',
  'metapixel/v1/explain.proto',
];

/** The message shape both adapters hand to the core: what @grpc/proto-loader produces. */
export const INTERNAL_FORM: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
  arrays: true,
};

function resolveInclude(root: protobuf.Root): void {
  root.resolvePath = (_origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of PROTO_INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      try {
        fs.accessSync(candidate);
        return candidate;
      } catch {
        /* try the next include dir */
      }
    }
    return target;
  };
}

let cachedRoot: protobuf.Root | undefined;

/** The reflection root used for REST transcoding, JSON conversion and Any packing. */
export function loadRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const root = new protobuf.Root();
  resolveInclude(root);
  root.loadSync(PROTO_FILES, { keepCase: false, alternateCommentMode: true });
  root.resolveAll();
  cachedRoot = root;
  return root;
}

/** The gRPC package definition, with the same options as INTERNAL_FORM. */
export function loadGrpcDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(PROTO_FILES, {
    includeDirs: PROTO_INCLUDE_DIRS,
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
    arrays: true,
  });
}

export function lookupType(name: string): protobuf.Type {
  return loadRoot().lookupType(name);
}
