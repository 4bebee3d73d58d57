/**
 * Google's real client libraries pointed at a local server, exactly as
 * ../shared/facts/google-api.md verified: gRPC on an insecure channel, or the REST
 * fallback over plain http. Tests prove compatibility only through these.
 */
import { Code } from '../../src/core/errors';
import * as grpc from '@grpc/grpc-js';
import vision from '@google-cloud/vision';
import { PassThroughClient } from 'google-auth-library';
import { loadGrpcDefinition } from '../../src/api/proto/load';

export type Transport = 'grpc' | 'rest';
export const TRANSPORTS: Transport[] = ['grpc', 'rest'];

interface Ports {
  restPort: number;
  grpcPort: number;
}

function options(server: Ports, transport: Transport, apiKey?: string) {
  if (transport === 'grpc') {
    return {
      apiEndpoint: '127.0.0.1',
      port: server.grpcPort,
      sslCreds: grpc.credentials.createInsecure(),
      authClient: new PassThroughClient(),
    };
  }
  return {
    apiEndpoint: '127.0.0.1',
    port: server.restPort,
    fallback: 'rest' as const,
    protocol: 'http',
    ...(apiKey ? { apiKey } : { authClient: new PassThroughClient() }),
  };
}

export function productSearchClient(server: Ports, transport: Transport, apiKey?: string) {
  return new vision.ProductSearchClient(options(server, transport, apiKey));
}

export function imageAnnotatorClient(server: Ports, transport: Transport, apiKey?: string) {
  return new vision.ImageAnnotatorClient(options(server, transport, apiKey));
}

/** Per-call metadata for gRPC (insecure channels send no API key on their own). */
export function withKey(transport: Transport, key: string) {
  return transport === 'grpc' ? { otherArgs: { headers: { 'x-goog-api-key': key } } } : {};
}

/** Google's status code of a client error: gRPC code, or for REST the status name. */
export function statusOf(err: unknown): string {
  const e = err as { code?: number | string; status?: string | number; message?: string };
  const rest = restErrorBody(e.message);
  if (rest) {
    // The REST client surfaces the HTTP status as `code`; the body must agree with it.
    expect(rest.code).toBe(e.code);
    return rest.status;
  }

  if (typeof e.code === 'number' && Code[e.code] !== undefined) return Code[e.code];
  return `code ${String(e.code)}: ${e.message}`;
}

export async function expectStatus(p: Promise<unknown>, status: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect(statusOf(err)).toBe(status);
    return;
  }
  throw new Error(`expected ${status}, but the call succeeded`);
}

function restErrorBody(message: string | undefined): { code: number; status: string } | undefined {
  try {
    const body = JSON.parse(message ?? '') as { error?: { code: number; status: string; message: string } };
    return body.error && typeof body.error.status === 'string' ? body.error : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A @grpc/grpc-js client of one of Metapixel's own services (protos/metapixel/v1: no
 * Google library knows them), built from the protos the server serves.
 */
export function metapixelGrpcClient(
  server: Ports,
  service: 'ImageEncoder' | 'Jobs' | 'MatchExplainer',
): InstanceType<grpc.ServiceClientConstructor> {
  const v1 = (grpc.loadPackageDefinition(loadGrpcDefinition()).metapixel as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const Client = v1[service] as grpc.ServiceClientConstructor;
  return new Client(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure());
}
