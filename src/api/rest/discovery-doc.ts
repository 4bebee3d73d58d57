/**
 * Google API Discovery document (discovery#restDescription) for one API version, generated
 * from the routes the REST adapter serves (http-rules.ts) and the protos they reference, so
 * discovery-based clients (Python's googleapiclient, `@googleapis/vision`) see exactly the
 * methods and messages this server answers. Resource nesting and method names follow
 * Google's own derivation from the HTTP paths (`projects.locations.productSets.create`).
 */
import protobuf from 'protobufjs';
import { snakeToCamel } from '../proto/json-codec';
import type { Route } from './http-rules';
import { enumShape, fieldAt, Schemas, SCALARS, WKT } from './discovery-schemas';

type Json = Record<string, unknown>;

export const SCOPES = ['https://www.googleapis.com/auth/cloud-platform', 'https://www.googleapis.com/auth/cloud-vision'];

/** Standard query parameters every Google REST API accepts (transcode.ts SYSTEM_PARAMS). */
const STANDARD_PARAMETERS: Json = {
  '$.xgafv': {
    description: 'V1 error format.',
    enum: ['1', '2'],
    enumDescriptions: ['v1 error format', 'v2 error format'],
    location: 'query',
    type: 'string',
  },
  access_token: { description: 'OAuth access token.', location: 'query', type: 'string' },
  alt: {
    default: 'json',
    description: 'Data format for response.',
    enum: ['json'],
    enumDescriptions: ['Responses with Content-Type of application/json'],
    location: 'query',
    type: 'string',
  },
  callback: { description: 'JSONP', location: 'query', type: 'string' },
  fields: { description: 'Selector specifying which fields to include in a partial response.', location: 'query', type: 'string' },
  key: {
    description: 'API key. Your API key identifies your project and provides you with API access, quota, and reports.',
    location: 'query',
    type: 'string',
  },
  oauth_token: { description: 'OAuth 2.0 token for the current user.', location: 'query', type: 'string' },
  prettyPrint: { default: 'true', description: 'Returns response with indentations and line breaks.', location: 'query', type: 'boolean' },
  quotaUser: { description: 'Available to use for quota purposes for server-side applications.', location: 'query', type: 'string' },
  uploadType: { description: 'Legacy upload protocol for media (e.g. "media", "multipart").', location: 'query', type: 'string' },
  upload_protocol: { description: 'Upload protocol for media (e.g. "raw", "multipart").', location: 'query', type: 'string' },
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
    icons: {
      x16: 'http://www.google.com/images/icons/product/search-16.gif',
      x32: 'http://www.google.com/images/icons/product/search-32.gif',
    },
    parameters: STANDARD_PARAMETERS,
    auth: {
      oauth2: {
        scopes: {
          [SCOPES[0]]: {
            description: 'See, edit, configure, and delete your Google Cloud data and see the email address for your Google Account.',
          },
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
    bound.add(v.split('.').map(snakeToCamel).join('.'));
    const plain = /^\{[^=}]+(=\*)?\}$/;
    path = path.replace(/\{[^}]+\}/, (whole) => (plain.test(whole) ? `{${name}}` : `{+${name}}`));
  });
  if (route.body !== '*') {
    const skip = new Set([...bound, ...(route.body ? [snakeToCamel(route.body)] : [])]);
    queryParameters(route.requestType, '', skip, parameters, new Set());
  }
  const request =
    route.body === ''
      ? undefined
      : route.body === '*'
        ? route.requestType
        : (fieldAt(route.requestType, route.body)?.resolvedType as protobuf.Type);
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

/** A variable inside the body message (`product_set.name`) is named by its last part, as Google does. */
function pathParamName(route: Route, v: string): string {
  const parts = v.split('.').map(snakeToCamel);
  if (route.body && route.body !== '*' && v.startsWith(`${route.body}.`)) return parts[parts.length - 1];
  return parts.join('.');
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
    out[name] = {
      ...(field.comment ? { description: field.comment } : {}),
      location: 'query',
      ...shape,
      ...(field.repeated ? { repeated: true } : {}),
    };
  }
}
