/** deploy/envoy/envoy.yaml: strict Bootstrap parse, drift, clusters, services, route parity with the gateway. */
import { readFileSync } from 'node:fs';
import type { FileRegistry } from '@bufbuild/protobuf';
import { parse, stringify } from 'yaml';
import { descriptorSetPath } from '@charge/contracts';
import {
  checkEnvoy,
  ENVOY_YAML,
  envoyRegistry,
  gatewayRouteKeys,
  renderEnvoyYaml,
} from '../../../scripts/check-envoy';
import { loadApi } from '../src/routes';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the YAML tree is edited by path below
type Tree = any;

describe('Envoy configuration', () => {
  const api = loadApi(descriptorSetPath());
  const committed = readFileSync(ENVOY_YAML, 'utf8');
  // Mutations start from the committed file, edited so that only the mutation is wrong.
  let envoy: FileRegistry;
  const hcm = (tree: Tree) => tree.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  const mutated = (edit: (tree: Tree) => void) => {
    const tree = parse(committed);
    edit(tree);
    return checkEnvoy(stringify(tree), api, envoy, { drift: false });
  };

  beforeAll(() => {
    envoy = envoyRegistry();
  });

  test('the generated configuration parses strictly as a Bootstrap and matches the gateway routes', () => {
    // The committed file is checked for drift by `npm run check:envoy`; here the current
    // contracts are checked, so that a new annotated RPC elsewhere cannot turn this red.
    expect(checkEnvoy(renderEnvoyYaml(api), api, envoy)).toEqual([]);
    expect(
      checkEnvoy(committed, api, envoy, { drift: false }).filter((p) => /Bootstrap|cluster/.test(p)),
    ).toEqual([]);
    expect(gatewayRouteKeys(api)).toEqual(
      expect.arrayContaining(['POST /v1/auth/login', 'GET /v1/analyses/{analysis_id}:watch']),
    );
  });

  test('an unknown field or an unknown typed_config type fails the strict parse', () => {
    expect(
      mutated((t) => {
        hcm(t).stat_prefixx = 'x';
      }).join('\n'),
    ).toMatch(/not a valid envoy.config.bootstrap.v3.Bootstrap.*stat_prefixx/);
    expect(
      mutated((t) => {
        hcm(t).http_filters[0].typed_config['@type'] += 'Typo';
      }).join('\n'),
    ).toMatch(/not in the type registry/);
  });

  test('a route to a missing cluster, a service missing from the transcoder, a timed streaming route are refused', () => {
    expect(
      mutated((t) => {
        t.static_resources.clusters = t.static_resources.clusters.filter((c: Tree) => c.name !== 'audit');
      }).join('\n'),
    ).toMatch(/targets unknown cluster audit/);
    const withoutAuth = mutated((t) => {
      const transcoder = hcm(t).http_filters.find(
        (f: Tree) => f.name === 'envoy.filters.http.grpc_json_transcoder',
      );
      transcoder.typed_config.services = transcoder.typed_config.services.filter(
        (s: string) => s !== 'charge.auth.v1.AuthService',
      );
    }).join('\n');
    expect(withoutAuth).toMatch(/charge.auth.v1.AuthService has REST bindings but is not transcoded/);
    expect(withoutAuth).toMatch(/REST routes differ: gateway only \[.*POST \/v1\/auth\/login/);
    expect(
      mutated((t) => {
        const routes = hcm(t).route_config.virtual_hosts[0].routes;
        routes.find(
          (r: Tree) => r.match.path === '/charge.analysis.v1.AnalysisService/WatchAnalysis',
        ).route.timeout = '30s';
      }).join('\n'),
    ).toMatch(/WatchAnalysis needs its own route/);
  });
});
