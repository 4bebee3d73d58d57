/**
 * The `schemas` of a discovery document: every message the routes reach, in the form
 * Google's discovery documents use (int64 as string/int64, bytes as string/byte, the
 * well-known types inline, Any as an object of `type: any`).
 */
import protobuf from 'protobufjs';
import { snakeToCamel } from '../proto/json-codec';
import type { Route } from './http-rules';

type Json = Record<string, unknown>;

const ANY_VALUE = { type: 'any', description: 'Properties of the object. Contains field @type with type URL.' };

/** How Google's discovery documents write the well-known types (inline, never $ref). */
export const WKT: Record<string, Json> = {
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

export const SCALARS: Record<string, Json> = {
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

/** The field at a dotted path (snake_case or camelCase parts) of `type`. */
export function fieldAt(type: protobuf.Type, dotted: string): protobuf.Field | undefined {
  let t: protobuf.Type | undefined = type;
  let f: protobuf.Field | undefined;
  for (const part of dotted.split('.').map(snakeToCamel)) {
    f = t?.fields[part]?.resolve();
    if (!f) return undefined;
    t = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
  }
  return f;
}

export function enumShape(e: protobuf.Enum): Json {
  const names = Object.keys(e.values);
  return { type: 'string', enum: names, enumDescriptions: names.map((n) => e.comments[n] ?? '') };
}

/**
 * The schemas of every message reachable from the routes, named by their short proto name
 * as Google's documents are; a name two messages share gets the full name in PascalCase
 * (`GoogleRpcStatus`).
 */
export class Schemas {
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
      const pascal = t.fullName
        .slice(1)
        .split('.')
        .map((p) => p[0].toUpperCase() + p.slice(1))
        .join('');
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
      const shape =
        f instanceof protobuf.MapField ? { type: 'object', additionalProperties: one } : f.repeated ? { type: 'array', items: one } : one;
      properties[f.name] = { ...(f.comment ? { description: f.comment } : {}), ...shape };
    }
    return { id: this.names.get(t.fullName), type: 'object', ...(t.comment ? { description: t.comment } : {}), properties };
  }

  private value(f: protobuf.Field): Json {
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Enum) return enumShape(rt);
    if (rt instanceof protobuf.Type)
      return WKT[rt.fullName] && rt.fullName !== '.google.protobuf.Empty' ? WKT[rt.fullName] : { $ref: this.ref(rt) };
    return SCALARS[f.type] ?? { type: 'any' };
  }
}
