import { ConfigError } from '@charge/service-kit';
import { loadConfig } from '../src/config';

describe('gateway config', () => {
  test('defaults: HTTP 8080, health 50050, one upstream per service on its default port', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      HTTP_PORT: 8080,
      GRPC_PORT: 50050,
      CORS_ALLOWED_ORIGINS: [],
      TRUST_FORWARDED_FOR: false,
    });
    expect(config.upstreams).toEqual({
      auth: '127.0.0.1:50051',
      analysis: '127.0.0.1:50052',
      knowledge: '127.0.0.1:50053',
      training: '127.0.0.1:50054',
      audit: '127.0.0.1:50055',
    });
  });

  test('<SVC>_GRPC_ADDR overrides and adds upstreams; CORS origins are a list', () => {
    const config = loadConfig({
      AUTH_GRPC_ADDR: 'auth:6000',
      REPORTS_GRPC_ADDR: 'reports:7000',
      CORS_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config.upstreams.auth).toBe('auth:6000');
    expect(config.upstreams.reports).toBe('reports:7000');
    expect(config.CORS_ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  test('every problem is listed at once', () => {
    let error: unknown;
    try {
      loadConfig({ HTTP_PORT: 'eighty', MAX_BODY_BYTES: '0', AUDIT_GRPC_ADDR: 'no-port' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/HTTP_PORT/);
    expect(problems).toMatch(/MAX_BODY_BYTES/);
    expect(problems).toMatch(/AUDIT_GRPC_ADDR: expected host:port/);
  });
});
