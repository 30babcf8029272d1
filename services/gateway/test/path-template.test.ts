import { descriptorSetPath } from '@charge/contracts';
import { PathTemplate } from '../src/path-template';
import { loadApi } from '../src/routes';

describe('PathTemplate', () => {
  test('literal segments and single-segment variables, percent-decoded', () => {
    const t = PathTemplate.parse('/v1/users/{user_id}/role');
    expect(t.fieldPaths).toEqual([['user_id']]);
    expect(t.match('/v1/users/42/role')).toEqual(new Map([['user_id', '42']]));
    expect(t.match('/v1/users/a%20b/role')).toEqual(new Map([['user_id', 'a b']]));
    expect(t.match('/v1/users/42')).toBeUndefined();
    expect(t.match('/v1/users//role')).toBeUndefined();
    expect(t.match('/v1/users/42/role/x')).toBeUndefined();
  });

  test('custom verbs', () => {
    const t = PathTemplate.parse('/v1/analyses/{analysis_id}:start');
    expect(t.verb).toBe('start');
    expect(t.match('/v1/analyses/7:start')).toEqual(new Map([['analysis_id', '7']]));
    expect(t.match('/v1/analyses/7')).toBeUndefined();
    expect(t.match('/v1/analyses/7:cancel')).toBeUndefined();
    expect(
      PathTemplate.parse('/v1/training/configs:importYaml').match('/v1/training/configs:importYaml'),
    ).toEqual(new Map());
  });

  test('multi-segment variables with ** and nested field paths', () => {
    const t = PathTemplate.parse('/v1/{name=collections/*/documents/**}:download');
    expect(t.match('/v1/collections/c1/documents/a/b%2Fc.txt:download')).toEqual(
      new Map([['name', 'collections/c1/documents/a/b%2Fc.txt']]),
    );
    expect(t.match('/v1/collections/c1/files/a:download')).toBeUndefined();
    const nested = PathTemplate.parse('/v1/things/{page.page_token}');
    expect(nested.fieldPaths).toEqual([['page', 'page_token']]);
  });

  test('rejects malformed templates', () => {
    expect(() => PathTemplate.parse('v1/x')).toThrow(/start with/);
    expect(() => PathTemplate.parse('/v1/{x')).toThrow(/unclosed/);
    expect(() => PathTemplate.parse('/v1/**/x')).toThrow(/last segment/);
    expect(() => PathTemplate.parse('/v1//x')).toThrow(/empty segment/);
  });
});

describe('routes from the descriptor set', () => {
  const api = loadApi(descriptorSetPath());
  const keys = api.routes.map((r) => `${r.verb} ${r.template.source}`);

  test('every google.api.http binding of every public service becomes a route', () => {
    expect(keys).toEqual(
      expect.arrayContaining(['POST /v1/auth/login', 'GET /v1/users', 'GET /v1/audit/logs']),
    );
    expect(new Set(keys).size).toBe(keys.length);
    const login = api.routes.find((r) => r.grpcPath === '/charge.auth.v1.AuthService/Login')!;
    expect(login).toMatchObject({ verb: 'POST', body: '*', upstream: 'auth', streaming: 'none' });
  });

  test('server-streaming RPCs are streaming routes; unannotated client streams are not routes', () => {
    const watch = api.routes.find((r) => r.grpcPath === '/charge.analysis.v1.AnalysisService/WatchAnalysis');
    expect(watch).toMatchObject({ verb: 'GET', streaming: 'server', upstream: 'analysis' });
    expect(api.routes.some((r) => r.grpcPath === '/charge.analysis.v1.AnalysisService/UploadLog')).toBe(
      false,
    );
    expect(api.methods.has('/charge.analysis.v1.AnalysisService/UploadLog')).toBe(true);
    expect(api.methods.has('/grpc.health.v1.Health/Check')).toBe(false);
  });
});
