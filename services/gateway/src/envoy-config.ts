import { TOKEN_AUDIENCE, TOKEN_ISSUER } from '@charge/service-kit';
import { DEFAULT_UPSTREAM_PORTS } from './config';
import type { Api } from './routes';

const T = 'type.googleapis.com/';

export interface EnvoyOptions {
  /** Where the ConfigMap mounts the descriptor set inside the Envoy pod. */
  descriptorPath: string;
  listenPort: number;
  adminPort: number;
  corsAllowedOrigins: string[];
  /** Deadline of unary routes; streaming routes get none. */
  unaryTimeoutS: number;
  maxRequestBytes: number;
}

export const DEFAULT_ENVOY_OPTIONS: EnvoyOptions = {
  descriptorPath: '/etc/envoy/descriptor.binpb',
  listenPort: 8080,
  adminPort: 9901,
  corsAllowedOrigins: ['http://localhost:5173'],
  unaryTimeoutS: 30,
  maxRequestBytes: 1024 * 1024,
};

/** The service name part of a gRPC path: `/charge.auth.v1.AuthService/Login` → `charge.auth.v1.AuthService`. */
export function serviceOfPath(grpcPath: string): string {
  return grpcPath.split('/')[1];
}

/**
 * The Envoy bootstrap for the front door, generated from the same descriptor set and
 * annotations as the local gateway: CORS, jwt_authn (auth's JWKS, fetched through Envoy's
 * own transcoded `GET /v1/auth/jwks`), grpc_web, grpc_json_transcoder, router; one
 * cluster per upstream (HTTP/2, Kubernetes service name = service name) and one route per
 * service, with the server-streaming methods first and without a timeout.
 */
export function renderEnvoyConfig(
  api: Api,
  options: EnvoyOptions = DEFAULT_ENVOY_OPTIONS,
): Record<string, unknown> {
  const services = [...new Set(api.routes.map((r) => serviceOfPath(r.grpcPath)))].sort();
  const upstreams = [...new Set(api.routes.map((r) => r.upstream))].sort();
  const routes: unknown[] = [];
  for (const service of services) {
    const cluster = api.routes.find((r) => serviceOfPath(r.grpcPath) === service)!.upstream;
    const streaming = [...api.methods.entries()]
      .filter(([path, m]) => serviceOfPath(path) === service && m.method.methodKind !== 'unary')
      .map(([path]) => path)
      .sort();
    for (const path of streaming)
      routes.push({ match: { path }, route: { cluster, timeout: '0s', idle_timeout: '3600s' } });
    routes.push({
      match: { prefix: `/${service}/` },
      route: { cluster, timeout: `${options.unaryTimeoutS}s` },
    });
  }
  const clusters: unknown[] = upstreams.map((name) => ({
    name,
    type: 'STRICT_DNS',
    connect_timeout: '2s',
    lb_policy: 'ROUND_ROBIN',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${T}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: {
                  socket_address: { address: name, port_value: DEFAULT_UPSTREAM_PORTS[name] ?? 50051 },
                },
              },
            },
          ],
        },
      ],
    },
  }));
  clusters.push({
    name: 'envoy_self',
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: 'envoy_self',
      endpoints: [
        {
          lb_endpoints: [
            {
              endpoint: {
                address: { socket_address: { address: '127.0.0.1', port_value: options.listenPort } },
              },
            },
          ],
        },
      ],
    },
  });
  const cors = {
    '@type': `${T}envoy.extensions.filters.http.cors.v3.CorsPolicy`,
    allow_origin_string_match: options.corsAllowedOrigins.map((exact) => ({ exact })),
    allow_methods: 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
    allow_headers:
      'authorization, content-type, x-request-id, traceparent, tracestate, x-grpc-web, x-user-agent, grpc-timeout',
    expose_headers: 'x-request-id, grpc-status, grpc-message, grpc-status-details-bin',
    max_age: '600',
  };
  const httpFilters = [
    {
      name: 'envoy.filters.http.cors',
      typed_config: { '@type': `${T}envoy.extensions.filters.http.cors.v3.Cors` },
    },
    {
      name: 'envoy.filters.http.jwt_authn',
      typed_config: {
        '@type': `${T}envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication`,
        providers: {
          auth: {
            issuer: TOKEN_ISSUER,
            audiences: [TOKEN_AUDIENCE],
            forward: true,
            from_headers: [{ name: 'authorization', value_prefix: 'Bearer ' }],
            remote_jwks: {
              http_uri: {
                uri: `http://127.0.0.1:${options.listenPort}/v1/auth/jwks`,
                cluster: 'envoy_self',
                timeout: '5s',
              },
              cache_duration: '300s',
              async_fetch: {},
            },
          },
        },
        // Services authorize every call themselves; Envoy rejects bad tokens early and
        // lets anonymous calls (register, login, JWKS) through.
        rules: [
          {
            match: { prefix: '/' },
            requires: { requires_any: { requirements: [{ provider_name: 'auth' }, { allow_missing: {} }] } },
          },
        ],
      },
    },
    {
      name: 'envoy.filters.http.grpc_web',
      typed_config: { '@type': `${T}envoy.extensions.filters.http.grpc_web.v3.GrpcWeb` },
    },
    {
      name: 'envoy.filters.http.grpc_json_transcoder',
      typed_config: {
        '@type': `${T}envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder`,
        proto_descriptor: options.descriptorPath,
        services,
        convert_grpc_status: true,
        print_options: {
          add_whitespace: false,
          always_print_primitive_fields: false,
          always_print_enums_as_ints: false,
          preserve_proto_field_names: false,
          stream_newline_delimited: true,
        },
        ignore_unknown_query_parameters: false,
        request_validation_options: { reject_unknown_method: true, reject_unknown_query_parameters: true },
        max_request_body_size: options.maxRequestBytes,
      },
    },
    {
      name: 'envoy.filters.http.router',
      typed_config: { '@type': `${T}envoy.extensions.filters.http.router.v3.Router` },
    },
  ];
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: options.adminPort } } },
    static_resources: {
      listeners: [
        {
          name: 'http',
          address: { socket_address: { address: '0.0.0.0', port_value: options.listenPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.http_connection_manager',
                  typed_config: {
                    '@type': `${T}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
                    stat_prefix: 'ingress',
                    codec_type: 'AUTO',
                    generate_request_id: true,
                    stream_idle_timeout: '3600s',
                    route_config: {
                      name: 'charge',
                      virtual_hosts: [
                        {
                          name: 'charge',
                          domains: ['*'],
                          typed_per_filter_config: { 'envoy.filters.http.cors': cors },
                          routes,
                        },
                      ],
                    },
                    http_filters: httpFilters,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}
