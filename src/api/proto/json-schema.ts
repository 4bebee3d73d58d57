/**
 * JSON Schemas for request messages, generated from the proto reflection so that the ajv
 * gate and the proto can never disagree. A schema accepts exactly what json-codec.ts can
 * convert: both lowerCamelCase and snake_case names, string or numeric enums, int64 as
 * string or number, base64 bytes, and the JSON forms of the well-known types.
 */
import protobuf from 'protobufjs';
import { camelToSnake } from './json-codec';

export type Schema = Record<string, unknown>;

const INT32 = ['int32', 'sint32', 'sfixed32'];
const UINT32 = ['uint32', 'fixed32'];
const INT64 = ['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64'];

const WKT: Record<string, Schema> = {
  '.google.protobuf.Timestamp': { type: 'string', maxLength: 64 },
  '.google.protobuf.Duration': { type: 'string', maxLength: 64 },
  '.google.protobuf.FieldMask': { type: 'string' },
  '.google.protobuf.Any': { type: 'object', required: ['@type'], properties: { '@type': { type: 'string' } } },
  '.google.protobuf.Empty': { type: 'object', additionalProperties: false },
};

/** Builds `{ $ref, definitions }` for one message type and everything it reaches. */
export function schemaFor(type: protobuf.Type): Schema {
  const definitions: Record<string, Schema> = {};
  const ref = define(type, definitions);
  return { $ref: ref, definitions };
}

function define(type: protobuf.Type, defs: Record<string, Schema>): string {
  const key = type.fullName.slice(1);
  const ref = `#/definitions/${key}`;
  if (defs[key]) return ref;
  if (WKT[type.fullName]) {
    defs[key] = WKT[type.fullName];
    return ref;
  }
  const properties: Record<string, Schema> = {};
  defs[key] = { type: 'object', additionalProperties: false, properties };
  for (const field of type.fieldsArray) {
    field.resolve();
    const schema = fieldSchema(field, defs);
    properties[field.name] = schema;
    const snake = camelToSnake(field.name);
    if (snake !== field.name) properties[snake] = schema;
  }
  return ref;
}

function fieldSchema(field: protobuf.Field, defs: Record<string, Schema>): Schema {
  const one = valueSchema(field, defs);
  if (field instanceof protobuf.MapField) return { type: ['object', 'null'], additionalProperties: one };
  if (field.repeated) return { type: ['array', 'null'], items: one };
  return { anyOf: [one, { type: 'null' }] };
}

function valueSchema(field: protobuf.Field, defs: Record<string, Schema>): Schema {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) return { $ref: define(rt, defs) };
  if (rt instanceof protobuf.Enum) return { enum: [...Object.keys(rt.values), ...Object.values(rt.values)] };
  const t = field.type;
  if (t === 'string') return { type: 'string' };
  if (t === 'bool') return { type: 'boolean' };
  // base64 (standard or URL-safe, MIME line breaks allowed) is checked where it is decoded
  // (json-codec.ts decodeBase64), in one pass, with a message naming the field.
  if (t === 'bytes') return { type: 'string' };
  if (t === 'float' || t === 'double') {
    return {
      anyOf: [
        { type: 'number' },
        { enum: ['NaN', 'Infinity', '-Infinity'] },
        { type: 'string', pattern: '^-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?$' },
      ],
    };
  }
  if (INT32.includes(t)) return intSchema(-2147483648, 2147483647);
  if (UINT32.includes(t)) return intSchema(0, 4294967295);
  if (INT64.includes(t)) return { anyOf: [{ type: 'integer' }, { type: 'string', pattern: '^-?\\d{1,20}$' }] };
  return {};
}

function intSchema(minimum: number, maximum: number): Schema {
  return {
    anyOf: [
      { type: 'integer', minimum, maximum },
      { type: 'string', pattern: '^-?\\d{1,10}$' },
    ],
  };
}
