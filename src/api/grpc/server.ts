/**
 * The gRPC adapter: every method of the served services gets one generic handler that
 * reads credentials from metadata, runs the call through the shared CallRunner and maps
 * a MetapixelError to its status code. Messages arrive already in the internal form.
 */
import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { Credentials } from '../../core/auth';
import { Code, isMetapixelError, MetapixelError } from '../../core/errors';
import type { CallRunner } from '../call';

export interface GrpcOptions {
  definition: PackageDefinition;
  services: readonly string[];
  runner: CallRunner;
  maxMessageBytes: number;
  /** Calls in flight on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams?: number;
  /** A connection with no call for this long is closed (GOAWAY). */
  idleTimeoutMs?: number;
}

export function createGrpcServer(opts: GrpcOptions): grpc.Server {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // Requests are capped; answers are not: a finished import's operation carries one
    // status per CSV line and can outgrow the request cap.
    'grpc.max_send_message_length': -1,
    ...(opts.maxConcurrentStreams ? { 'grpc.max_concurrent_streams': opts.maxConcurrentStreams } : {}),
    ...(opts.idleTimeoutMs ? { 'grpc.max_connection_idle_ms': opts.idleTimeoutMs } : {}),
  });
  const loaded = grpc.loadPackageDefinition(opts.definition);
  for (const name of opts.services) {
    const ctor = name.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], loaded) as grpc.ServiceClientConstructor;
    const impl: grpc.UntypedServiceImplementation = {};
    const service: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [method, def] of Object.entries(ctor.service)) {
      service[method] = { ...def, requestDeserialize: tolerantDeserialize(def.requestDeserialize) };
      if (def.requestStream || def.responseStream) continue;
      impl[method] = unaryHandler(`${name}/${def.path.split('/').pop()}`, opts.runner);
    }
    server.addService(service, impl);
  }
  return server;
}

function unaryHandler(method: string, runner: CallRunner): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    if (isMalformed(call.request)) {
      callback({
        code: grpc.status.INVALID_ARGUMENT,
        details: `Invalid request message: ${call.request[MALFORMED]}`,
        metadata: new grpc.Metadata(),
      });
      return;
    }
    const requestId = first(call.metadata, 'x-request-id');
    runner
      .run(method, 'grpc', call.request, credentials(call.metadata), requestId, callSignal(call))
      .then((res) => callback(null, res))
      .catch((e: unknown) => {
        const err = isMetapixelError(e) ? e : { code: grpc.status.INTERNAL, message: 'Internal error.' };
        callback({ code: err.code as number, details: err.message, metadata: new grpc.Metadata() });
      });
  };
}

const MALFORMED = Symbol('malformed request');

/**
 * grpc-js answers a message that fails to decode with INTERNAL; Google answers
 * INVALID_ARGUMENT. The decoder's failure is passed on as a marked request instead.
 */
function tolerantDeserialize(decode: (buf: Buffer) => unknown): (buf: Buffer) => unknown {
  return (buf) => {
    try {
      return decode(buf);
    } catch (e) {
      return { [MALFORMED]: String((e as Error).message ?? e).slice(0, 200) };
    }
  };
}

function isMalformed(req: unknown): req is { [MALFORMED]: string } {
  return typeof req === 'object' && req !== null && MALFORMED in req;
}

/** Aborted when the client cancels the call or its `grpc-timeout` deadline passes. */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  call.on('cancelled', () => {
    clearTimeout(timer);
    ac.abort(MetapixelError.of(Code.CANCELLED, 'The call was cancelled by the client.'));
  });
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  if (Number.isFinite(at)) {
    timer = setTimeout(
      () => ac.abort(MetapixelError.of(Code.DEADLINE_EXCEEDED, 'Deadline expired before the operation could complete.')),
      Math.max(0, at - Date.now()),
    );
    timer.unref();
  }
  const done = () => clearTimeout(timer);
  call.on('finish', done);
  return ac.signal;
}

function first(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return v === undefined ? undefined : String(v);
}

function credentials(md: grpc.Metadata): Credentials {
  const auth = first(md, 'authorization') ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(auth);
  return { apiKey: first(md, 'x-goog-api-key'), bearerToken: m ? m[1].trim() : undefined };
}

export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
}
