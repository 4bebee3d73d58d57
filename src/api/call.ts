/**
 * What both adapters do around every call: authenticate, give it a request id, run the
 * core method, and turn any failure into a MetapixelError (unknown ones logged, then an
 * opaque INTERNAL), so REST and gRPC report the same outcome for the same call.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Authenticator, Credentials } from '../core/auth';
import { runInCall, type CallContext } from '../core/context';
import { Code, internal, isMetapixelError, type MetapixelError } from '../core/errors';
import type { Handler, MethodTable } from './method-table';

export interface CallObserver {
  /** Called once per finished call with its outcome; used for metrics. */
  (method: string, transport: 'rest' | 'grpc', codeName: string, seconds: number): void;
}

export class CallRunner {
  constructor(
    private readonly methods: MethodTable,
    private readonly auth: Authenticator,
    private readonly log: Logger,
    private readonly observe: CallObserver = () => undefined,
  ) {}

  has(method: string): boolean {
    return this.methods.has(method);
  }

  async run(
    method: string,
    transport: 'rest' | 'grpc',
    request: unknown,
    creds: Credentials,
    requestId: string = randomUUID(),
    /** Aborted when the client goes away or its deadline passes (the reason is the error). */
    signal?: AbortSignal,
  ): Promise<unknown> {
    return this.runHandler(method, (req, ctx) => this.methods.get(method)(req, ctx), transport, request, creds, requestId, signal);
  }

  /** As run, for a handler outside the protos' methods (the Cloud Storage media routes). */
  async runHandler(
    method: string,
    handler: Handler,
    transport: 'rest' | 'grpc',
    request: unknown,
    creds: Credentials,
    requestId: string = randomUUID(),
    signal?: AbortSignal,
  ): Promise<unknown> {
    const started = process.hrtime.bigint();
    let outcome = 'OK';
    try {
      const principal = this.auth.authenticate(creds);
      signal?.throwIfAborted();
      const ctx: CallContext = { principal, requestId, signal };
      const result = await runInCall(ctx, () => handler(request, ctx));
      // A client that left gets no answer; the call is recorded as what ended it.
      signal?.throwIfAborted();
      return result;
    } catch (e) {
      const err = this.toError(e, method, requestId);
      outcome = Code[err.code];
      throw err;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.observe(method, transport, outcome, seconds);
      this.log.info({ requestId, method, transport, code: outcome, ms: Math.round(seconds * 1000) }, 'call');
    }
  }

  private toError(e: unknown, method: string, requestId: string): MetapixelError {
    if (isMetapixelError(e)) return e;
    this.log.error({ err: e, method, requestId }, 'unhandled error');
    return internal(`Internal error (request id ${requestId}).`);
  }
}
