import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { authV1 } from '@charge/contracts';
import { DomainError } from '@charge/errors';
import {
  baseConfigSchema,
  parseConfig,
  Rpc,
  RpcMetrics,
  RPC_BUCKETS_S,
  type RunningService,
  type ServiceSpec,
} from '@charge/service-kit';
import { clientFor, freePort, startTestService, statusOf, unary } from '@charge/testing';

const SERVICE = 'charge.auth.v1.AuthService';

/** GetJwks answers once `gate` opens; Register fails with INVALID_ARGUMENT; GetMe needs a token. */
function spec(gate: { wait: () => Promise<void> }): ServiceSpec<ReturnType<typeof loadConfig>> {
  return {
    name: 'metrics-fixture',
    loadConfig,
    build: async ({ logger, inflight, metrics }) => {
      const rpc = new Rpc({ logger, inflight, metrics });
      const implementation = {
        getJwks: rpc.unary<authV1.GetJwksRequest, authV1.GetJwksResponse>(
          async () => {
            await gate.wait();
            return { keys: [] };
          },
          { auth: 'public' },
        ),
        register: rpc.unary(
          async () => {
            throw DomainError.invalidArgument('email', 'is not an email address', 'BAD_EMAIL');
          },
          { auth: 'public' },
        ),
        getMe: rpc.unary(async () => ({})),
      };
      return { services: [{ definition: authV1.AuthServiceService, implementation }] };
    },
  };
}

function loadConfig(env: Record<string, string | undefined>) {
  return parseConfig(baseConfigSchema, env);
}

/** Every line is a comment or `name{labels} value` (text exposition format 0.0.4). */
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;
const SAMPLE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? -?[0-9.e+-]+$/;

function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('per-service RPC metrics', () => {
  let service: RunningService;
  let client: authV1.AuthServiceClient;
  let release: () => void = () => undefined;
  let opened = Promise.resolve();
  const gate = { wait: () => opened };

  beforeAll(async () => {
    service = await startTestService(spec(gate), { env: { METRICS_PORT: String(await freePort()) } });
    client = clientFor(authV1.AuthServiceClient, service);
  });

  afterAll(async () => {
    client?.close();
    await service?.stop();
  });

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return res.text();
  };

  test('counts calls per method and code, times them, and serves valid Prometheus text', async () => {
    for (let i = 0; i < 3; i++) await unary(client.getJwks.bind(client), {});
    for (let i = 0; i < 2; i++) {
      const err = (await unary(client.register.bind(client), authV1.RegisterRequest.fromPartial({})).catch(
        (e: unknown) => e,
      )) as ServiceError;
      expect(err.code).toBe(status.INVALID_ARGUMENT);
    }
    expect(await statusOf(unary(client.getMe.bind(client), {}, new Metadata()))).toBe(status.UNAUTHENTICATED);

    const text = await scrape();
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n'))
      expect(line).toMatch(line.startsWith('#') ? COMMENT : SAMPLE);
    expect(text).toContain('# TYPE grpc_server_handled_total counter');
    expect(text).toContain('# TYPE grpc_server_handling_seconds histogram');
    expect(text).toContain('# TYPE grpc_server_in_flight gauge');

    const m = (method: string) => `grpc_service="${SERVICE}",grpc_method="${method}"`;
    expect(sample(text, 'grpc_server_handled_total', `${m('GetJwks')},grpc_code="OK"`)).toBe(3);
    expect(sample(text, 'grpc_server_handled_total', `${m('Register')},grpc_code="INVALID_ARGUMENT"`)).toBe(
      2,
    );
    expect(sample(text, 'grpc_server_handled_total', `${m('GetMe')},grpc_code="UNAUTHENTICATED"`)).toBe(1);
    expect(sample(text, 'grpc_server_handled_total', `${m('GetJwks')},grpc_code="INTERNAL"`)).toBeUndefined();

    expect(sample(text, 'grpc_server_handling_seconds_count', m('GetJwks'))).toBe(3);
    expect(sample(text, 'grpc_server_handling_seconds_count', m('Register'))).toBe(2);
    expect(sample(text, 'grpc_server_handling_seconds_bucket', `${m('GetJwks')},le="+Inf"`)).toBe(3);
    // Buckets are cumulative and never exceed the count.
    let previous = 0;
    for (const b of RPC_BUCKETS_S) {
      const v = sample(text, 'grpc_server_handling_seconds_bucket', `${m('GetJwks')},le="${b}"`)!;
      expect(v).toBeGreaterThanOrEqual(previous);
      expect(v).toBeLessThanOrEqual(3);
      previous = v;
    }
    expect(sample(text, 'grpc_server_handling_seconds_sum', m('GetJwks'))).toBeGreaterThan(0);
    expect(text).toMatch(/^grpc_server_in_flight 0$/m);

    const notFound = await fetch(`http://127.0.0.1:${service.metricsPort}/other`);
    expect(notFound.status).toBe(404);
    await notFound.text();
  });

  test('the in-flight gauge shows a call in progress', async () => {
    opened = new Promise<void>((resolve) => (release = resolve));
    const pending = unary(client.getJwks.bind(client), {});
    const deadline = Date.now() + 10_000;
    while (service.metrics.inFlight === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(/^grpc_server_in_flight 1$/m.test(await scrape())).toBe(true);
    release();
    await pending;
    expect(/^grpc_server_in_flight 0$/m.test(await scrape())).toBe(true);
  });
});

describe('metrics endpoint lifecycle', () => {
  test('METRICS_PORT=0 serves no endpoint; the registry still counts', async () => {
    const service = await startTestService(spec({ wait: () => Promise.resolve() }), { env: {} });
    try {
      expect(service.metricsPort).toBeUndefined();
      const client = clientFor(authV1.AuthServiceClient, service);
      await unary(client.getJwks.bind(client), {});
      client.close();
      expect(service.metrics.render()).toContain(
        `grpc_server_handled_total{grpc_service="${SERVICE}",grpc_method="GetJwks",grpc_code="OK"} 1`,
      );
    } finally {
      await service.stop();
    }
  });

  test('stop closes the endpoint', async () => {
    const port = await freePort();
    const service = await startTestService(spec({ wait: () => Promise.resolve() }), {
      env: { METRICS_PORT: String(port) },
    });
    expect(service.metricsPort).toBe(port);
    const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } });
    expect(res.status).toBe(200);
    await res.text();
    await service.stop();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  test('registries are per instance', () => {
    const a = new RpcMetrics();
    const b = new RpcMetrics();
    a.start('/x.Y/Z')(status.OK);
    expect(a.render()).toContain('grpc_method="Z",grpc_code="OK"} 1');
    expect(b.render()).not.toContain('grpc_method="Z"');
  });
});
