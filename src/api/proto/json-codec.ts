/**
 * Proto3 JSON <-> the internal message form (what @grpc/proto-loader hands the gRPC
 * adapter), driven by protobufjs reflection so no message is mapped by hand.
 *
 * In: lowerCamelCase or snake_case names, string or numeric enums, standard or URL-safe
 * base64, int64 as string or number, well-known types in their JSON forms.
 * Out: canonical proto3 JSON (lowerCamelCase, defaults omitted, RFC 3339 timestamps,
 * `@type`-tagged Any); enums as names, or numbers when the client asks for them.
 * Input is expected to have passed the ajv schema of json-schema.ts first; the checks here
 * are the ones a schema cannot express (RFC 3339 ranges, Any's inner type).
 */
import protobuf from 'protobufjs';
import { invalidArgument } from '../../core/errors';
import { INTERNAL_FORM } from './load';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = Record<string, unknown>;

export const snakeToCamel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const camelToSnake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

/** Decodes standard or URL-safe base64, rejecting anything else. */
export function decodeBase64(s: string, at: string): Buffer {
  // Images arrive as megabytes of base64: validate without regex passes over the payload.
  // Node decodes both alphabets and skips what is not base64, so a string with a stray
  // character decodes to fewer bytes than its length promises, and is refused.
  const t = WHITESPACE.test(s) ? s.replace(/\s+/g, '') : s;
  let end = t.length;
  while (end > 0 && t.charCodeAt(end - 1) === 61 /* = */) end--;
  const buf = t.length - end > 2 || end % 4 === 1 ? undefined : Buffer.from(t, 'base64');
  if (!buf || buf.length !== Math.floor((end * 3) / 4))
    throw invalidArgument(
      `Invalid value at '${at}': invalid base64 data (standard or URL-safe alphabet; line breaks allowed, padding only at the end).`,
    );
  return buf;
}

const WHITESPACE = /\s/;

/** A field by its JSON or proto name; only the message's own fields (never `toString`,
 *  `__proto__` or another property every object inherits). */
export function findField(type: protobuf.Type, key: string): protobuf.Field | undefined {
  const fields = type.fields;
  if (Object.hasOwn(fields, key)) return fields[key];
  const camel = snakeToCamel(key);
  return Object.hasOwn(fields, camel) ? fields[camel] : undefined;
}

// ---- JSON in ---------------------------------------------------------------------------

export function fromJson(type: protobuf.Type, json: unknown, at = ''): Obj {
  const plain = jsonToPlain(type, json, at);
  return type.toObject(type.fromObject(plain), INTERNAL_FORM);
}

function jsonToPlain(type: protobuf.Type, json: unknown, at: string): Obj {
  const wkt = WKT_IN[type.fullName];
  if (wkt) return wkt(json, at, type.root);
  if (json === null || json === undefined) return {};
  if (typeof json !== 'object' || Array.isArray(json)) {
    throw invalidArgument(`Invalid value at '${at || type.name}': expected an object.`);
  }
  const out: Obj = {};
  for (const [key, value] of Object.entries(json as Obj)) {
    const field = findField(type, key);
    if (!field) throw invalidArgument(`Invalid JSON payload received. Unknown name "${key}" at '${at}'.`);
    if (value === null) continue;
    const fieldAt = at ? `${at}.${key}` : key;
    out[field.name] = fieldFromJson(field.resolve(), value, fieldAt);
  }
  return out;
}

function fieldFromJson(field: protobuf.Field, value: unknown, at: string): unknown {
  if (field instanceof protobuf.MapField) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value as Obj)) out[k] = scalarOrMessageIn(field, v, `${at}[${k}]`);
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw invalidArgument(`Invalid value at '${at}': expected a list.`);
    return value.map((v, i) => scalarOrMessageIn(field, v, `${at}[${i}]`));
  }
  return scalarOrMessageIn(field, value, at);
}

function scalarOrMessageIn(field: protobuf.Field, value: unknown, at: string): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return jsonToPlain(rt, value, at);
  if (rt instanceof protobuf.Enum) {
    const ok = typeof value === 'number' ? Object.hasOwn(rt.valuesById, value) : Object.hasOwn(rt.values, String(value));
    if (!ok) throw invalidArgument(`Invalid value at '${at}' (type.googleapis.com/${rt.fullName.slice(1)}), "${String(value)}".`);
    return value;
  }
  if (field.type === 'bytes') return decodeBase64(String(value), at);
  if (['float', 'double'].includes(field.type) && typeof value === 'string') return Number(value);
  const range = INT_RANGES[field.type];
  if (range && (typeof value === 'string' || typeof value === 'number')) return integerIn(value, range, field.type, at);
  return value;
}

/** The range of each integer type; a value outside is refused, never wrapped. */
const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

function integerIn(value: string | number, [min, max]: [bigint, bigint], type: string, at: string): string | number {
  let n: bigint;
  try {
    if (typeof value === 'number' && !Number.isInteger(value)) throw new Error('not an integer');
    n = BigInt(typeof value === 'string' ? value.trim() : value);
  } catch {
    throw invalidArgument(`Invalid value at '${at}' (TYPE_${type.toUpperCase()}), "${String(value).slice(0, 40)}": not an integer.`);
  }
  if (n < min || n > max)
    throw invalidArgument(
      `Invalid value at '${at}' (TYPE_${type.toUpperCase()}), "${String(value).slice(0, 40)}": out of range [${min}, ${max}].`,
    );
  // 64-bit values stay strings (exact); 32-bit ones become numbers.
  return max > 2n ** 32n ? n.toString() : Number(n);
}

function timestampIn(json: unknown, at: string): Obj {
  const m = typeof json === 'string' && /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i.exec(json);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw invalidArgument(`Invalid value at '${at}': expected an RFC 3339 timestamp.`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

function durationIn(json: unknown, at: string): Obj {
  const m = typeof json === 'string' && /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(json);
  if (!m) throw invalidArgument(`Invalid value at '${at}': expected a duration like "1.5s".`);
  const sign = m[1] === '-' ? -1 : 1;
  return { seconds: String(sign * Number(m[2])), nanos: sign * Number((m[3] ?? '').padEnd(9, '0')) };
}

function fieldMaskIn(json: unknown, at: string): Obj {
  if (typeof json !== 'string') throw invalidArgument(`Invalid value at '${at}': expected a field mask string.`);
  return {
    paths: json
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map(camelToSnake),
  };
}

function anyIn(json: unknown, at: string, root: protobuf.Root): Obj {
  const obj = json as Obj;
  const url = obj && typeof obj['@type'] === 'string' ? obj['@type'] : '';
  const inner = url ? lookupAnyType(root, url) : undefined;
  if (!inner) throw invalidArgument(`Invalid value at '${at}': unknown or missing "@type" in Any.`);
  const { '@type': _t, ...rest } = obj;
  const innerJson = WKT_IN[inner.fullName] ? rest.value : rest;
  const msg = inner.fromObject(jsonToPlain(inner, innerJson, at));
  return { typeUrl: url, value: inner.encode(msg).finish() };
}

/** Any values resolve against the root of the message that holds them. */
function lookupAnyType(root: protobuf.Root, url: string): protobuf.Type | undefined {
  try {
    const found = root.lookup(url.slice(url.lastIndexOf('/') + 1));
    return found instanceof protobuf.Type ? found : undefined;
  } catch {
    return undefined;
  }
}

const WKT_IN: Record<string, (json: unknown, at: string, root: protobuf.Root) => Obj> = {
  '.google.protobuf.Timestamp': timestampIn,
  '.google.protobuf.Duration': durationIn,
  '.google.protobuf.FieldMask': fieldMaskIn,
  '.google.protobuf.Any': anyIn,
  '.google.protobuf.Empty': () => ({}),
};

// ---- JSON out --------------------------------------------------------------------------

export interface JsonOutOptions {
  /** `$alt=json;enum-encoding=int`: the Node REST client asks for numeric enums. */
  enumsAsInt?: boolean;
}

/** Internal form (or any object protobufjs' fromObject accepts) to canonical proto3 JSON. */
export function toJson(type: protobuf.Type, obj: unknown, opts: JsonOutOptions = {}): Json {
  return messageOut(type, type.fromObject(obj ?? {}), opts);
}

function messageOut(type: protobuf.Type, msg: protobuf.Message, opts: JsonOutOptions): Json {
  const wkt = WKT_OUT[type.fullName];
  if (wkt) return wkt(msg as unknown as Obj, opts, type.root);
  const out: { [k: string]: Json } = {};
  const m = msg as unknown as Obj;
  for (const field of type.fieldsArray) {
    const v = m[field.name];
    if (v === undefined || v === null) continue;
    const inOneof = !!field.partOf;
    if (field instanceof protobuf.MapField) {
      const entries = Object.entries(v as Obj);
      if (entries.length) out[field.name] = Object.fromEntries(entries.map(([k, x]) => [k, valueOut(field, x, opts)]));
    } else if (field.repeated) {
      if ((v as unknown[]).length) out[field.name] = (v as unknown[]).map((x) => valueOut(field, x, opts));
    } else if (inOneof ? m[field.partOf!.name] === field.name : !isDefault(field, v)) {
      out[field.name] = valueOut(field, v, opts);
    }
  }
  return out;
}

function isDefault(field: protobuf.Field, v: unknown): boolean {
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (field.type === 'bytes') return (v as Uint8Array).length === 0;
  if (isLong(v)) return v.toString() === '0';
  return v === 0 || v === '' || v === false;
}

function valueOut(field: protobuf.Field, v: unknown, opts: JsonOutOptions): Json {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return messageOut(rt, v as protobuf.Message, opts);
  if (rt instanceof protobuf.Enum) return opts.enumsAsInt ? (v as number) : (rt.valuesById[v as number] ?? (v as number));
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (isLong(v)) return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  return v as Json;
}

/** protobufjs represents 64-bit integers as Long objects when the 'long' package is present. */
function isLong(v: unknown): v is { low: number; high: number; toString(): string } {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v;
}

function longToNumber(v: unknown): number {
  return isLong(v) ? Number(v.toString()) : Number(v ?? 0);
}

function timestampOut(m: Obj): Json {
  const seconds = longToNumber(m.seconds);
  const nanos = Number(m.nanos ?? 0);
  const iso = new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  if (!nanos) return `${iso}Z`;
  const frac = String(nanos)
    .padStart(9, '0')
    .replace(/(000)+$/, '');
  return `${iso}.${frac}Z`;
}

function durationOut(m: Obj): Json {
  const seconds = longToNumber(m.seconds);
  const nanos = Number(m.nanos ?? 0);
  if (!nanos) return `${seconds}s`;
  const sign = seconds < 0 || nanos < 0 ? '-' : '';
  const frac = String(Math.abs(nanos))
    .padStart(9, '0')
    .replace(/(000)+$/, '');
  return `${sign}${Math.abs(seconds)}.${frac}s`;
}

function anyOut(m: Obj, opts: JsonOutOptions, root: protobuf.Root): Json {
  // protobufjs' Any wrapper sets `type_url` even when fields are camelCased.
  const raw = m.typeUrl || m.type_url;
  const url = typeof raw === 'string' ? raw : '';
  const inner = url ? lookupAnyType(root, url) : undefined;
  if (!inner) return {};
  const body = messageOut(inner, inner.decode(m.value as Uint8Array), opts);
  return WKT_OUT[inner.fullName] ? { '@type': url, value: body } : { '@type': url, ...(body as Obj as object) };
}

const WKT_OUT: Record<string, (m: Obj, opts: JsonOutOptions, root: protobuf.Root) => Json> = {
  '.google.protobuf.Timestamp': timestampOut,
  '.google.protobuf.Duration': durationOut,
  '.google.protobuf.FieldMask': (m) => ((m.paths as string[]) ?? []).map(snakeToCamel).join(','),
  '.google.protobuf.Any': anyOut,
  '.google.protobuf.Empty': () => ({}),
};
