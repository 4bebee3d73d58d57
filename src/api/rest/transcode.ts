/**
 * HTTP request -> request message JSON, per a route's google.api.http rule: path
 * variables, then the body (the whole request for body "*", else one field), then the
 * query string for the remaining fields. Google's system parameters are read separately.
 */
import protobuf from 'protobufjs';
import { invalidArgument } from '../../core/errors';
import { findField, snakeToCamel } from '../proto/json-codec';
import type { Route } from './http-rules';

type Obj = Record<string, unknown>;

/** Query parameters every Google API accepts that are not request fields. */
const SYSTEM_PARAMS = new Set([
  'alt',
  '$alt',
  'key',
  'fields',
  '$fields',
  'prettyPrint',
  '$prettyPrint',
  'callback',
  '$callback',
  'access_token',
  'oauth_token',
  'quotaUser',
  '$quotaUser',
  'upload_protocol',
  'uploadType',
  'userProject',
  '$userProject',
  '$trace',
  'xgafv',
  '$.xgafv',
]);

export interface SystemParams {
  /** `$alt=json;enum-encoding=int` asks for numeric enums in the response. */
  enumsAsInt: boolean;
  apiKey?: string;
}

export function systemParams(query: URLSearchParams): SystemParams {
  const alt = query.get('$alt') ?? query.get('alt') ?? '';
  return { enumsAsInt: /enum-encoding=int/.test(alt), apiKey: query.get('key') ?? undefined };
}

export function requestJson(route: Route, pathValues: string[], query: URLSearchParams, body: unknown): Obj {
  const req: Obj = {};
  if (route.body === '*') {
    if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
      throw invalidArgument('Invalid JSON payload received. The request body must be a JSON object.');
    }
    Object.assign(req, body ?? {});
  } else if (route.body) {
    if (body !== undefined) req[snakeToCamel(route.body)] = body;
  }
  route.vars.forEach((path, i) => setPath(req, path.split('.').map(snakeToCamel), pathVariable(route, i, pathValues[i])));
  for (const key of new Set(query.keys())) {
    if (SYSTEM_PARAMS.has(key)) continue;
    const field = resolveQueryField(route.requestType, key);
    const values = query.getAll(key).map((v) => queryValue(field, v, key));
    setPath(req, key.split('.').map(snakeToCamel), field.repeated ? values : values[values.length - 1]);
  }
  return req;
}

/** A decoded path variable must still match its template: an encoded '/' cannot forge a name. */
function pathVariable(route: Route, i: number, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw invalidArgument('Invalid percent-encoding in the request path.');
  }
  if (!route.varPatterns[i].test(value) || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw invalidArgument(`Invalid resource name in the request path for ${route.vars[i]}.`);
  }
  return value;
}

function setPath(obj: Obj, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (next === undefined || next === null) cur[key] = {};
    else if (typeof next !== 'object' || Array.isArray(next)) throw invalidArgument(`Invalid value at '${key}': expected an object.`);
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]] = value;
}

function resolveQueryField(type: protobuf.Type, key: string): protobuf.Field {
  let t: protobuf.Type = type;
  const parts = key.split('.');
  let field: protobuf.Field | undefined;
  for (const [i, part] of parts.entries()) {
    field = findField(t, part)?.resolve();
    if (!field) throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter.`);
    const last = i === parts.length - 1;
    if (!last) {
      if (!(field.resolvedType instanceof protobuf.Type) || field.repeated) {
        throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter.`);
      }
      t = field.resolvedType;
    }
  }
  return field!;
}

/** Query values are strings; give booleans and numbers their JSON type. */
function queryValue(field: protobuf.Field, v: string, key: string): unknown {
  if (field.type === 'bool') {
    if (v !== 'true' && v !== 'false') throw invalidArgument(`Invalid value at '${key}' (TYPE_BOOL), "${v}".`);
    return v === 'true';
  }
  if (field.resolvedType instanceof protobuf.Enum && /^\d+$/.test(v)) return Number(v);
  return v;
}
