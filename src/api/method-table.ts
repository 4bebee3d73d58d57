/**
 * Full gRPC method name -> core function. The single place that says which core function
 * serves which RPC; the REST adapter reaches the same entries through the protos'
 * google.api.http rules, so the two transports cannot drift apart.
 *
 * The table is bound from the protos' service definitions: every RPC a served service
 * declares is answered by the method of the same name in lower camel case
 * (CreateProductSet -> createProductSet) on one of the objects given for that service, or
 * is listed as deliberately unimplemented with its reason. Anything else stops the start.
 */
import type protobuf from 'protobufjs';
import type { CallContext } from '../core/context';
import { unimplemented } from '../core/errors';

export type Handler = (request: unknown, ctx: CallContext) => Promise<unknown>;

/** Full method name (`${service}/${Rpc}`) -> why this server answers it UNIMPLEMENTED. */
export type Refusals = Readonly<Record<string, string>>;

export class MethodTable {
  private readonly handlers = new Map<string, Handler>();

  /**
   * Binds every RPC of each service in `bindings` (full service name -> the objects that
   * implement it) as the loaded protos declare it.
   * @throws Error when an RPC has no implementing method and no refusal, when two objects
   *   implement it, or when a refusal names an RPC that does not exist or is implemented.
   */
  static bind(root: protobuf.Root, bindings: Readonly<Record<string, readonly object[]>>, refusals: Refusals = {}): MethodTable {
    const table = new MethodTable();
    const problems: string[] = [];
    const declared = new Set<string>();
    for (const [serviceName, impls] of Object.entries(bindings)) {
      for (const rpc of root.lookupService(serviceName).methodsArray) {
        const method = `${serviceName}/${rpc.name}`;
        declared.add(method);
        const fn = lowerCamel(rpc.name);
        const owners = impls.filter((o) => typeof (o as Record<string, unknown>)[fn] === 'function');
        const refusal = refusals[method];
        if (owners.length === 1 && refusal === undefined) {
          const owner = owners[0] as Record<string, (req: unknown, ctx: CallContext) => Promise<unknown>>;
          table.handlers.set(method, (req, ctx) => owner[fn](req, ctx));
        } else if (owners.length === 0 && refusal !== undefined) {
          table.handlers.set(method, () =>
            Promise.reject(unimplemented(`Method ${serviceName}.${rpc.name} is not implemented by this server: ${refusal}`)),
          );
        } else if (owners.length === 0) {
          problems.push(`${method} has no handler: none of ${impls.map(nameOf).join(', ')} has a method ${fn}`);
        } else if (refusal !== undefined) {
          problems.push(`${method} is listed as unimplemented but ${nameOf(owners[0])}.${fn} implements it`);
        } else {
          problems.push(`${method} has two handlers: ${owners.map((o) => `${nameOf(o)}.${fn}`).join(', ')}`);
        }
      }
    }
    for (const method of Object.keys(refusals))
      if (!declared.has(method)) problems.push(`${method} is listed as unimplemented but no served service declares it`);
    if (problems.length > 0) throw new Error(`RPC handlers do not match the protos:\n  ${problems.join('\n  ')}`);
    return table;
  }

  /** Binds one more method to a handler (the beta versions' RPCs onto v1's, api/versions.ts). */
  add(method: string, handler: Handler): this {
    if (this.handlers.has(method)) throw new Error(`${method} is bound twice`);
    this.handlers.set(method, handler);
    return this;
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  /** Every bound method's full name (`${service}/${Rpc}`). */
  methods(): string[] {
    return [...this.handlers.keys()];
  }

  get(method: string): Handler {
    const h = this.handlers.get(method);
    if (!h) throw unimplemented(`Method ${method.replace('/', '.')} is not implemented by this server.`);
    return h;
  }
}

const lowerCamel = (rpc: string) => rpc[0].toLowerCase() + rpc.slice(1);
const nameOf = (o: object) => o.constructor?.name ?? 'object';

export const PRODUCT_SEARCH = 'google.cloud.vision.v1.ProductSearch';
export const IMAGE_ANNOTATOR = 'google.cloud.vision.v1.ImageAnnotator';
export const OPERATIONS = 'google.longrunning.Operations';
export const IMAGE_ENCODER = 'metapixel.v1.ImageEncoder';
export const JOBS = 'metapixel.v1.Jobs';
export const MATCH_EXPLAINER = 'metapixel.v1.MatchExplainer';
