/**
 * Google API Discovery document (discovery#restDescription) for one API version, generated
 * from the routes the REST adapter serves (http-rules.ts) and the protos they reference, so
 * discovery-based clients (Python's googleapiclient, `@googleapis/vision`) see exactly the
 * methods and messages this server answers. Resource nesting and method names follow
 * Google's own derivation from the HTTP paths (`projects.locations.productSets.create`).
 */
import protobuf from 'protobufjs';
import type { Route } from './http-rules';

type Json = Record<string, unknown>;

export const SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/cloud-vision'];

/** Standard query parameters every Google REST API accepts (transcode.ts SYSTEM_PARAMS). */
const STANDARD_PARAMETERS: Json = {
  '$.xgafv': { description: 'V1 error format.', enum: ['1', '2'], enumDescriptions: ['v1 error format', 'v2 error format'], location: 'query', type: 'string' },
  access_token: { description: 'OAuth access token.', location: 'query', type: 'string' },
  alt: { default: 'json', description: 'Data format for response.', enum: ['json'], enumDescriptions: ['Responses with Content-Type of application/json'], location: 'query', type: 'string' },
  callback: { description: 'JSONP', location: 'query', type: 'string' },
  fields: { description: 'Selector specifying which fields to include in a partial response.', location: 'query', type: 'string' },
  key: { description: 'API key. Your API key identifies your project and provides you with API access, quota, and reports.', location: 'query', type: 'string' },
  oauth_token: { description: 'OAuth 2.0 token for the current user.', location: 'query', type: 'string' },
  prettyPrint: { default: 'true', description: 'Returns response with indentations and line breaks.', location: 'query', type: 'boolean' },
  quotaUser: { description: 'Available to use for quota purposes for server-side applications.', location: 'query', type: 'string' },
  uploadType: { description: 'Legacy upload protocol for media (e.g. "media", "multipart").', location: 'query', type: 'string' },
  upload_protocol: { description: 'Upload protocol for media (e.g. "raw", "multipart").', location: 'query', type: 'string' },
};

const ANY_VALUE = { type: 'any', description: 'Properties of the object. Contains field @type with type URL.' };

/** How Google's discovery documents write the well-known types (inline, never $ref). */
const WKT: Record<string, Json> = {
  '.google.protobuf.Timestamp': { type: 'string', format: 'google-datetime' },
  '.google.protobuf.Duration': { type: 'string', format: 'google-duration' },
  '.google.protobuf.FieldMask': { type: 'string', format: 'google-fieldmask' },
  '.google.protobuf.Any': { type: 'object', additionalProperties: ANY_VALUE },
  '.google.protobuf.Struct': { type: 'object', additionalProperties: { type: 'any' } },
  '.google.protobuf.Value': { type: 'any' },
  '.google.protobuf.ListValue': { type: 'array', items: { type: 'any' } },
  '.google.protobuf.DoubleValue': { type: 'number', format: 'double' },
  '.google.protobuf.FloatValue': { type: 'number', format: 'float' },
  '.google.protobuf.Int64Value': { type: 'string', format: 'int64' },
  '.google.protobuf.UInt64Value': { type: 'string', format: 'uint64' },
  '.google.protobuf.Int32Value': { type: 'integer', format: 'int32' },
  '.google.protobuf.UInt32Value': { type: 'integer', format: 'uint32' },
  '.google.protobuf.BoolValue': { type: 'boolean' },
  '.google.protobuf.StringValue': { type: 'string' },
  '.google.protobuf.BytesValue': { type: 'string', format: 'byte' },
};

const SCALARS: Record<string, Json> = {
  string: { type: 'string' },
  bytes: { type: 'string', format: 'byte' },
  bool: { type: 'boolean' },
  double: { type: 'number', format: 'double' },
  float: { type: 'number', format: 'float' },
  int32: { type: 'integer', format: 'int32' },
  sint32: { type: 'integer', format: 'int32' },
  sfixed32: { type: 'integer', format: 'int32' },
  uint32: { type: 'integer', format: 'uint32' },
  fixed32: { type: 'integer', format: 'uint32' },
  // 64-bit integers are JSON strings in proto3 JSON.
  int64: { type: 'string', format: 'int64' },
  sint64: { type: 'string', format: 'int64' },
  sfixed64: { type: 'string', format: 'int64' },
  uint64: { type: 'string', format: 'uint64' },
  fixed64: { type: 'string', format: 'uint64' },
};

export interface DiscoveryMethod {
  id: string;
  path: string;
  flatPath: string;
  httpMethod: string;
  parameters: Record<string, Json>;
  parameterOrder: string[];
  request?: { $ref: string };
  response: { $ref: string };
  scopes: string[];
  description?: string;
}

export interface DiscoveryResource {
  methods?: Record<string, DiscoveryMethod>;
  resources?: Record<string, DiscoveryResource>;
}

/**
 * The document without its addresses; `withRoot` adds rootUrl/baseUrl per request, so a
 * client calls back the host it fetched the document from.
 */
export function buildDiscoveryDoc(root: protobuf.Root, routes: Route[], version: string): Json {
  const prefix = `/${version}/`;
  const served = routes.filter((r) => r.template.startsWith(prefix));
  if (served.length === 0) throw new Error(`no REST routes for version ${version}`);
  const schemas = new Schemas(served);
  const resources: DiscoveryResource = {};
  const ids = new Set<string>();
  for (const route of served) {
    const { path: resourcePath, name } = methodPlace(route, prefix);
    const id = ['vision', ...resourcePath, name].join('.');
    if (ids.has(id)) throw new Error(`two REST routes map to the discovery method ${id}`);
    ids.add(id);
    let node = resources;
    for (const r of resourcePath) node = (node.resources ??= {})[r] ??= {};
    (node.methods ??= {})[name] = describeMethod(root, route, prefix, id, schemas);
  }
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: `vision:${version}`,
    name: 'vision',
    version,
    title: 'Cloud Vision API',
    description: 'Cloud Vision API Product Search and Object Localization, served by Metapixel.',
    ownerDomain: 'google.com',
    ownerName: 'Google',
    protocol: 'rest',
    servicePath: '',
    documentationLink: 'https://cloud.google.com/vision/',
    icons: { x16: 'http://www.google.com/images/icons/product/search-16.gif', x32: 'http://www.google.com/images/icons/product/search-32.gif' },
    parameters: STANDARD_PARAMETERS,
    auth: {
      oauth2: {
        scopes: {
          [SCOPES[0]]: { description: 'See, edit, configure, and delete your Google Cloud data and see the email address for your Google Account.' },
          [SCOPES[1]]: { description: 'Apply machine learning models to understand and label images' },
        },
      },
    },
    schemas: schemas.all,
    resources: resources.resources ?? {},
  };
}

export function withRoot(doc: Json, rootUrl: string): Json {
  return { ...doc, rootUrl, mtlsRootUrl: rootUrl, baseUrl: rootUrl };
}

/** The template with every variable replaced by its segment pattern, the version prefix cut. */
function expanded(template: string, prefix: string): { segments: string[]; verb?: string } {
  const verbMatch = /:([A-Za-z]\w*)$/.exec(template);
  const body = (verbMatch ? template.slice(0, verbMatch.index) : template).slice(prefix.length);
  const flat = body.replace(/\{([^=}]+)(?:=([^}]+))?\}/g, (_, _v: string, pattern?: string) => pattern ?? '*');
  return { segments: flat.split('/'), verb: verbMatch?.[1] };
}

const isWildcard = (s: string) => s === '*' || s === '**';

/** Resources are the literal (collection) segments; the method is the custom verb or the standard one. */
function methodPlace(route: Route, prefix: string): { path: string[]; name: string } {
  const { segments, verb } = expanded(route.template, prefix);
  const path = segments.filter((s) => !isWildcard(s));
  if (verb) return { path, name: verb };
  const onItem = isWildcard(segments[segments.length - 1]);
  const name = { get: onItem ? 'get' : 'list', post: 'create', patch: 'patch', put: 'update', delete: 'delete' }[route.verb];
  return { path, name };
}

function describeMethod(root: protobuf.Root, route: Route, prefix: string, id: string, schemas: Schemas): DiscoveryMethod {
  const [service, rpc] = route.method.split('/');
  const comment = root.lookupService(service).methods[rpc]?.comment;
  const parameters: Record<string, Json> = {};
  const parameterOrder: string[] = [];
  const bound = new Set<string>();
  let path = route.template.slice(1);
  route.vars.forEach((v, i) => {
    const name = pathParamName(route, v);
    const field = fieldAt(route.requestType, v);
    parameters[name] = {
      ...(field?.comment ? { description: field.comment } : {}),
      location: 'path',
      pattern: route.varPatterns[i].source.replace(/\\\//g, '/'), // RegExp.source escapes '/'
      required: true,
      type: 'string',
    };
    parameterOrder.push(name);
    bound.add(v.split('.').map(camel).join('.'));
    const plain = /^\{[^=}]+(=\*)?\}$/;
    path = path.replace(/\{[^}]+\}/, (whole) => (plain.test(whole) ? `{${name}}` : `{+${name}}`));
  });
  if (route.body !== '*') {
    const skip = new Set([...bound, ...(route.body ? [camel(route.body)] : [])]);
    queryParameters(route.requestType, '', skip, parameters, new Set());
  }
  const request = route.body === '' ? undefined : route.body === '*' ? route.requestType : (fieldAt(route.requestType, route.body)?.resolvedType as protobuf.Type);
  return {
    id,
    path,
    flatPath: flatPath(route.template, prefix),
    httpMethod: route.verb.toUpperCase(),
    parameters,
    parameterOrder,
    ...(request ? { request: { $ref: schemas.ref(request) } } : {}),
    response: { $ref: schemas.ref(route.responseType) },
    scopes: SCOPES,
    ...(comment ? { description: comment } : {}),
  };
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** A variable inside the body message (`product_set.name`) is named by its last part, as Google does. */
function pathParamName(route: Route, v: string): string {
  const parts = v.split('.').map(camel);
  if (route.body && route.body !== '*' && v.startsWith(`${route.body}.`)) return parts[parts.length - 1];
  return parts.join('.');
}

function fieldAt(type: protobuf.Type, dotted: string): protobuf.Field | undefined {
  let t: protobuf.Type | undefined = type;
  let f: protobuf.Field | undefined;
  for (const part of dotted.split('.').map(camel)) {
    f = t?.fields[part]?.resolve();
    if (!f) return undefined;
    t = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
  }
  return f;
}

/** `v1/projects/{projectsId}/locations/{locationsId}/productSets`: each wildcard named for its collection. */
function flatPath(template: string, prefix: string): string {
  const { segments, verb } = expanded(template, prefix);
  const out = segments.map((s, i) => (isWildcard(s) ? `{${s === '**' ? '+' : ''}${segments[i - 1] ?? 'resource'}Id}` : s));
  return prefix.slice(1) + out.join('/') + (verb ? `:${verb}` : '');
}

/** Fields not bound by the path or the body are query parameters; singular messages flatten to `a.b`. */
function queryParameters(type: protobuf.Type, prefix: string, skip: Set<string>, out: Record<string, Json>, seen: Set<string>): void {
  if (seen.has(type.fullName)) return;
  seen = new Set(seen).add(type.fullName);
  for (const field of type.fieldsArray) {
    field.resolve();
    const name = prefix + field.name;
    if (skip.has(name)) continue;
    const rt = field.resolvedType;
    if (rt instanceof protobuf.Type && !WKT[rt.fullName]) {
      if (!field.repeated && !(field instanceof protobuf.MapField)) queryParameters(rt, `${name}.`, skip, out, seen);
      continue;
    }
    const shape = rt instanceof protobuf.Type ? WKT[rt.fullName] : rt instanceof protobuf.Enum ? enumShape(rt) : SCALARS[field.type];
    if (!shape || shape.type === 'object' || shape.type === 'any') continue;
    out[name] = { ...(field.comment ? { description: field.comment } : {}), location: 'query', ...shape, ...(field.repeated ? { repeated: true } : {}) };
  }
}

function enumShape(e: protobuf.Enum): Json {
  const names = Object.keys(e.values);
  return { type: 'string', enum: names, enumDescriptions: names.map((n) => e.comments[n] ?? '') };
}

/**
 * The schemas of every message reachable from the routes, named by their short proto name
 * as Google's documents are; a name two messages share gets the full name in PascalCase
 * (`GoogleRpcStatus`).
 */
class Schemas {
  readonly all: Record<string, Json> = {};
  private readonly names = new Map<string, string>();

  constructor(routes: Route[]) {
    const types = new Map<string, protobuf.Type>();
    const visit = (t: protobuf.Type) => {
      if (types.has(t.fullName) || (WKT[t.fullName] && t.fullName !== '.google.protobuf.Empty')) return;
      types.set(t.fullName, t);
      for (const f of t.fieldsArray) {
        f.resolve();
        if (f.resolvedType instanceof protobuf.Type) visit(f.resolvedType);
      }
    };
    for (const r of routes) {
      visit(r.responseType);
      if (r.body === '*') visit(r.requestType);
      else if (r.body) {
        const t = fieldAt(r.requestType, r.body)?.resolvedType;
        if (t instanceof protobuf.Type) visit(t);
      }
    }
    const count = new Map<string, number>();
    for (const t of types.values()) count.set(t.name, (count.get(t.name) ?? 0) + 1);
    for (const t of types.values()) {
      const pascal = t.fullName.slice(1).split('.').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
      this.names.set(t.fullName, count.get(t.name) === 1 ? t.name : pascal);
    }
    for (const name of [...this.names.keys()].sort((a, b) => this.names.get(a)!.localeCompare(this.names.get(b)!))) {
      const t = types.get(name)!;
      this.all[this.names.get(name)!] = this.message(t);
    }
  }

  ref(t: protobuf.Type): string {
    const name = this.names.get(t.fullName);
    if (!name) throw new Error(`no discovery schema for ${t.fullName}`);
    return name;
  }

  private message(t: protobuf.Type): Json {
    const properties: Record<string, Json> = {};
    for (const f of t.fieldsArray) {
      const one = this.value(f);
      const shape = f instanceof protobuf.MapField ? { type: 'object', additionalProperties: one } : f.repeated ? { type: 'array', items: one } : one;
      properties[f.name] = { ...(f.comment ? { description: f.comment } : {}), ...shape };
    }
    return { id: this.names.get(t.fullName), type: 'object', ...(t.comment ? { description: t.comment } : {}), properties };
  }

  private value(f: protobuf.Field): Json {
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Enum) return enumShape(rt);
    if (rt instanceof protobuf.Type) return WKT[rt.fullName] && rt.fullName !== '.google.protobuf.Empty' ? WKT[rt.fullName] : { $ref: this.ref(rt) };
    return SCALARS[f.type] ?? { type: 'any' };
  }
}
