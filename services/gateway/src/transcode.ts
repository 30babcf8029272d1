import {
  create,
  fromJson,
  toBinary,
  ScalarType,
  type DescField,
  type DescMessage,
  type JsonObject,
  type JsonValue,
  type Registry,
} from '@bufbuild/protobuf';
import { resolveFieldPath, type Route } from './routes';

/** A request the client got wrong: answered with 400 / INVALID_ARGUMENT. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'BadRequest';
  }
}

/** Well-known message types whose JSON form is a string (usable in paths and queries). */
const STRING_JSON_MESSAGES = new Set([
  'google.protobuf.Timestamp',
  'google.protobuf.Duration',
  'google.protobuf.FieldMask',
  'google.protobuf.StringValue',
  'google.protobuf.BytesValue',
  'google.protobuf.Int32Value',
  'google.protobuf.UInt32Value',
  'google.protobuf.Int64Value',
  'google.protobuf.UInt64Value',
  'google.protobuf.FloatValue',
  'google.protobuf.DoubleValue',
]);

/**
 * The request message of `route` as binary protobuf, from the JSON body (already
 * parsed; `undefined` when the route has none), the path bindings and the query string.
 * Path bindings win over the body; query parameters may only name fields that neither
 * the path nor the body binds, and unknown ones are refused (as Envoy is configured).
 */
export function buildRequest(
  route: Route,
  registry: Registry,
  body: JsonValue | undefined,
  bindings: Map<string, string>,
  query: URLSearchParams,
): Uint8Array {
  const input = route.method.input;
  let json: JsonObject = {};
  if (route.body === '*') {
    if (body !== undefined) {
      if (body === null || typeof body !== 'object' || Array.isArray(body))
        throw new BadRequest('the request body must be a JSON object');
      json = body;
    }
  } else if (route.bodyField && body !== undefined) {
    json[route.bodyField.jsonName] = body;
  }
  const bound = new Set<string>();
  for (const [path, value] of bindings) {
    const fields = resolveFieldPath(input, path.split('.'));
    setLeaf(json, fields, stringToJson(fields[fields.length - 1], value, path), false);
    bound.add(fields.map((f) => f.name).join('.'));
  }
  for (const key of new Set(query.keys())) {
    if (route.body === '*') throw new BadRequest(`unknown query parameter '${key}'`, key);
    let fields: DescField[];
    try {
      fields = resolveFieldPath(input, key.split('.'));
    } catch {
      throw new BadRequest(`unknown query parameter '${key}'`, key);
    }
    const names = fields.map((f) => f.name).join('.');
    if (bound.has(names) || (route.bodyField && fields[0] === route.bodyField))
      throw new BadRequest(`query parameter '${key}' names a field bound by the path or body`, key);
    const leaf = fields[fields.length - 1];
    const repeated = leaf.fieldKind === 'list';
    const values = query.getAll(key);
    if (!repeated && values.length > 1) throw new BadRequest(`query parameter '${key}' is not repeated`, key);
    const converted = values.map((v) => stringToJson(leaf, v, key));
    setLeaf(json, fields, repeated ? converted : converted[0], repeated);
  }
  let message;
  try {
    message = fromJson(input, json, { registry });
  } catch (error) {
    throw new BadRequest((error as Error).message, fieldNameOf(error));
  }
  return toBinary(input, message);
}

/** One client-streaming message carrying an HttpBody chunk (the first also its fields). */
export function httpBodyChunk(
  route: Route,
  registry: Registry,
  first: Uint8Array | undefined,
  contentType: string,
  data: Uint8Array,
): Uint8Array {
  const input = route.method.input;
  const httpBodyDesc: DescMessage = route.bodyField?.message ?? input;
  const chunk = create(httpBodyDesc);
  const reflect = chunk as unknown as { contentType: string; data: Uint8Array };
  reflect.contentType = contentType;
  reflect.data = data;
  const chunkBytes = toBinary(httpBodyDesc, chunk);
  if (!route.bodyField) return chunkBytes;
  // Field `n` of type HttpBody, encoded by hand so the first message's other fields stay as built.
  const header = encodeTagAndLength(route.bodyField.number, chunkBytes.length);
  const out = new Uint8Array((first?.length ?? 0) + header.length + chunkBytes.length);
  if (first) out.set(first, 0);
  out.set(header, first?.length ?? 0);
  out.set(chunkBytes, (first?.length ?? 0) + header.length);
  void registry;
  return out;
}

function encodeTagAndLength(fieldNumber: number, length: number): Uint8Array {
  const bytes: number[] = [];
  const varint = (n: number) => {
    while (n > 0x7f) {
      bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    bytes.push(n);
  };
  varint(fieldNumber * 8 + 2);
  varint(length);
  return Uint8Array.from(bytes);
}

/** The field a protobuf-es JSON error is about (its FieldError cause, or an unknown key). */
function fieldNameOf(error: unknown): string | undefined {
  const cause = (error as { cause?: { field?: unknown } }).cause;
  if (cause && typeof cause.field === 'function') return (cause.field as () => { name: string })().name;
  return /key "([^"]+)" is unknown/.exec((error as Error).message)?.[1];
}

function stringToJson(field: DescField, value: string, name: string): JsonValue {
  const kind = field.fieldKind === 'list' ? field.listKind : field.fieldKind;
  const bool = () => {
    if (value === 'true' || value === 'false') return value === 'true';
    throw new BadRequest(`'${name}' must be true or false`, name);
  };
  if (kind === 'scalar') return field.scalar === ScalarType.BOOL ? bool() : value;
  if (kind === 'enum') return /^-?\d+$/.test(value) ? Number(value) : value;
  if (kind === 'message' && field.message) {
    if (field.message.typeName === 'google.protobuf.BoolValue') return bool();
    if (STRING_JSON_MESSAGES.has(field.message.typeName)) return value;
  }
  throw new BadRequest(`'${name}' cannot be set from a path or query parameter`, name);
}

function setLeaf(json: JsonObject, fields: DescField[], value: JsonValue, append: boolean): void {
  let node = json;
  for (const [i, field] of fields.entries()) {
    const existing = node[field.jsonName] ?? node[field.name];
    if (field.name !== field.jsonName) delete node[field.name];
    if (i === fields.length - 1) {
      node[field.jsonName] =
        append && Array.isArray(existing) ? [...existing, ...(value as JsonValue[])] : value;
      return;
    }
    if (
      existing !== undefined &&
      (existing === null || typeof existing !== 'object' || Array.isArray(existing))
    )
      throw new BadRequest(`'${field.name}' must be an object`, field.name);
    const child: JsonObject = (existing as JsonObject | undefined) ?? {};
    node[field.jsonName] = child;
    node = child;
  }
}
