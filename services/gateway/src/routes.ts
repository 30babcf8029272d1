import { readFileSync } from 'node:fs';
import {
  createFileRegistry,
  fromBinary,
  getOption,
  hasOption,
  type DescExtension,
  type DescField,
  type DescMessage,
  type DescMethod,
  type FileRegistry,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { PathTemplate } from './path-template';

export const HTTP_BODY_TYPE = 'google.api.HttpBody';

export type HttpVerb = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One REST binding of one RPC, from its `google.api.http` annotation. */
export interface Route {
  verb: HttpVerb;
  template: PathTemplate;
  method: DescMethod;
  /** `/charge.auth.v1.AuthService/Login` */
  grpcPath: string;
  /** Proto package segment naming the upstream: `charge.auth.v1` → `auth`. */
  upstream: string;
  /** `undefined`: no body; `'*'`: the whole request; else the top-level field it fills. */
  body: string | undefined;
  bodyField?: DescField;
  responseBody?: DescField;
  /** `client`: request body streamed as HttpBody chunks; `server`: NDJSON / HttpBody stream. */
  streaming: 'none' | 'server' | 'client';
}

/** The descriptor set read once at start: the registry for JSON and the REST routes. */
export interface Api {
  registry: FileRegistry;
  routes: Route[];
  /** Every method of every service that has at least one annotated RPC, by gRPC path. */
  methods: Map<string, { method: DescMethod; upstream: string }>;
  /** Bindings that cannot be served (bidi streaming, a bad field path …), with the reason. */
  skipped: string[];
}

interface HttpRuleShape {
  pattern: { case: string | undefined; value?: unknown };
  body: string;
  responseBody: string;
  additionalBindings: HttpRuleShape[];
}

export function loadApi(descriptorSetFile: string): Api {
  const set = fromBinary(FileDescriptorSetSchema, readFileSync(descriptorSetFile));
  const registry = createFileRegistry(set);
  const httpExt = registry.getExtension('google.api.http') as DescExtension | undefined;
  if (!httpExt) throw new Error(`${descriptorSetFile} lacks google/api/annotations.proto`);
  const routes: Route[] = [];
  const methods = new Map<string, { method: DescMethod; upstream: string }>();
  const skipped: string[] = [];
  for (const file of registry.files) {
    for (const service of file.services) {
      const annotated = service.methods.filter((m) => hasOption(m, httpExt));
      if (annotated.length === 0) continue;
      const upstream = upstreamOf(service.typeName);
      for (const method of service.methods) {
        const grpcPath = `/${service.typeName}/${method.name}`;
        methods.set(grpcPath, { method, upstream });
        if (!hasOption(method, httpExt)) continue;
        const rule = getOption(method, httpExt) as unknown as HttpRuleShape;
        for (const r of [rule, ...rule.additionalBindings]) {
          try {
            routes.push(toRoute(r, method, grpcPath, upstream));
          } catch (error) {
            skipped.push((error as Error).message);
          }
        }
      }
    }
  }
  return { registry, routes, methods, skipped };
}

/** `charge.auth.v1.AuthService` → `auth` (the `<SVC>_GRPC_ADDR` name). */
export function upstreamOf(serviceTypeName: string): string {
  const parts = serviceTypeName.split('.');
  return parts.length >= 3 ? parts[parts.length - 3] : parts[0];
}

function toRoute(rule: HttpRuleShape, method: DescMethod, grpcPath: string, upstream: string): Route {
  const where = `${grpcPath} google.api.http`;
  const { case: kind, value } = rule.pattern;
  let verb: HttpVerb;
  let path: string;
  if (kind === 'get' || kind === 'post' || kind === 'put' || kind === 'patch' || kind === 'delete') {
    verb = kind.toUpperCase() as HttpVerb;
    path = value as string;
  } else if (kind === 'custom') {
    const custom = value as { kind: string; path: string };
    verb = custom.kind.toUpperCase() as HttpVerb;
    path = custom.path;
  } else throw new Error(`${where}: no pattern`);
  const template = PathTemplate.parse(path);
  const input = method.input;
  for (const fieldPath of template.fieldPaths) resolveFieldPath(input, fieldPath, where);
  const body = rule.body || undefined;
  const bodyField = body && body !== '*' ? topField(input, body, where) : undefined;
  const responseBody = rule.responseBody ? topField(method.output, rule.responseBody, where) : undefined;
  let streaming: Route['streaming'] = 'none';
  if (method.methodKind === 'server_streaming') streaming = 'server';
  else if (method.methodKind === 'client_streaming') {
    const httpBody =
      (body === '*' && input.typeName === HTTP_BODY_TYPE) ||
      (bodyField?.fieldKind === 'message' && bodyField.message.typeName === HTTP_BODY_TYPE);
    if (!httpBody) throw new Error(`${where}: a client-streaming binding needs an HttpBody body`);
    streaming = 'client';
  } else if (method.methodKind === 'bidi_streaming')
    throw new Error(`${where}: bidi streaming is not transcoded`);
  return { verb, template, method, grpcPath, upstream, body, bodyField, responseBody, streaming };
}

function topField(message: DescMessage, name: string, where: string): DescField {
  const field = message.fields.find((f) => f.name === name);
  if (!field) throw new Error(`${where}: ${message.typeName} has no field ${name}`);
  return field;
}

/** The fields along a dotted path; every one but the last is a singular message. */
export function resolveFieldPath(message: DescMessage, path: string[], where = ''): DescField[] {
  const fields: DescField[] = [];
  let current: DescMessage | undefined = message;
  for (const [i, name] of path.entries()) {
    const field: DescField | undefined = current?.fields.find((f) => f.name === name || f.jsonName === name);
    if (!field) throw new Error(`${where}: ${message.typeName} has no field ${path.join('.')}`);
    fields.push(field);
    if (i < path.length - 1) {
      if (field.fieldKind !== 'message') throw new Error(`${where}: ${path.join('.')} crosses a non-message`);
      current = field.message;
    }
  }
  return fields;
}
