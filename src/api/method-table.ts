/**
 * Full gRPC method name -> core function. The single place that says which core function
 * serves which RPC; the REST adapter reaches the same entries through the protos'
 * google.api.http rules, so the two transports cannot drift apart.
 */
import type { CallContext } from '../core/context';
import { unimplemented } from '../core/errors';

export type Handler = (request: unknown, ctx: CallContext) => Promise<unknown>;

export class MethodTable {
  private readonly handlers = new Map<string, Handler>();

  /** Registers every listed method of `service` under `${prefix}/${Method}`. */
  addService<S extends object>(prefix: string, service: S, methods: Record<string, keyof S & string>): this {
    for (const [rpc, fn] of Object.entries(methods)) {
      const f = service[fn] as unknown as (req: unknown, ctx: CallContext) => Promise<unknown>;
      this.handlers.set(`${prefix}/${rpc}`, (req, ctx) => f.call(service, req, ctx));
    }
    return this;
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  get(method: string): Handler {
    const h = this.handlers.get(method);
    if (!h) throw unimplemented(`Method ${method.replace('/', '.')} is not implemented by this server.`);
    return h;
  }
}

export const PRODUCT_SEARCH = 'google.cloud.vision.v1.ProductSearch';
export const IMAGE_ANNOTATOR = 'google.cloud.vision.v1.ImageAnnotator';
export const OPERATIONS = 'google.longrunning.Operations';
export const IMAGE_ENCODER = 'metapixel.v1.ImageEncoder';
export const JOBS = 'metapixel.v1.Jobs';
