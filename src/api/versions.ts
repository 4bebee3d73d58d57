/**
 * Google's beta surfaces, google.cloud.vision.v1p3beta1 and v1p4beta1, served by the v1
 * handlers. Their ProductSearch and ImageAnnotator messages are v1's with the same field
 * names and numbers (v1 adds `parent` and `labels` to the annotate requests; v1p4beta1
 * adds face recognition, which Metapixel does not do), so a beta request becomes a v1
 * request by passing it through v1's message type, and a v1 answer is encoded with the
 * beta's response type, which drops nothing a beta can express. A beta method whose v1
 * twin Metapixel does not serve stays UNIMPLEMENTED, as v1's does.
 */
import type protobuf from 'protobufjs';
import type { CallContext } from '../core/context';
import type { Handler, MethodTable } from './method-table';
import { INTERNAL_FORM } from './proto/load';

export const BETA_VERSIONS = ['v1p3beta1', 'v1p4beta1'] as const;
export type BetaVersion = (typeof BETA_VERSIONS)[number];

const SERVICES = ['ProductSearch', 'ImageAnnotator'];

/** The beta services, served on both transports beside v1's. */
export const BETA_SERVICES = BETA_VERSIONS.flatMap((v) => SERVICES.map((s) => `google.cloud.vision.${v}.${s}`));

const V1_TYPE_URL = 'type.googleapis.com/google.cloud.vision.v1.';

/**
 * Registers `google.cloud.vision.<beta>.<Service>/<Method>` for every beta method whose v1
 * method is in `methods`. `root` must hold the beta protos (src/api/proto/load.ts).
 */
export function addBetaVersions(methods: MethodTable, root: protobuf.Root): void {
  for (const version of BETA_VERSIONS) {
    for (const service of SERVICES) {
      const beta = `google.cloud.vision.${version}.${service}`;
      for (const m of root.lookupService(beta).methodsArray) {
        const v1 = `google.cloud.vision.v1.${service}/${m.name}`;
        if (!methods.has(v1)) continue;
        m.resolve();
        const handler = betaHandler(version, methods.get(v1), root.lookupType(v1Name(m.resolvedRequestType!)), isOperation(m));
        methods.add(`${beta}/${m.name}`, handler);
      }
    }
  }
}

function betaHandler(version: BetaVersion, v1: Handler, v1Request: protobuf.Type, returnsOperation: boolean): Handler {
  return async (request: unknown, ctx: CallContext) => {
    const res = await v1(toV1(v1Request, request), ctx);
    return returnsOperation ? withBetaTypeUrls(res, version) : res;
  };
}

/** The beta message read as v1's: v1's defaults for fields the beta lacks, beta-only fields gone. */
export function toV1(v1Request: protobuf.Type, request: unknown): unknown {
  return v1Request.toObject(v1Request.fromObject(request as Record<string, unknown>), INTERNAL_FORM);
}

/**
 * An operation started through a beta says the beta's types in its Any values, as Google's
 * does, so a beta client's decoders are told the message they decode.
 */
export function withBetaTypeUrls<T>(value: T, version: BetaVersion): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withBetaTypeUrls(v, version)) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === '@type' && typeof v === 'string' && v.startsWith(V1_TYPE_URL)
        ? v.replace('.v1.', `.${version}.`)
        : withBetaTypeUrls(v, version);
  }
  return out as T;
}

function v1Name(t: protobuf.Type): string {
  return t.fullName.replace(/^\.google\.cloud\.vision\.v1p\dbeta1\./, 'google.cloud.vision.v1.');
}

function isOperation(m: protobuf.Method): boolean {
  return m.resolvedResponseType!.fullName === '.google.longrunning.Operation';
}
