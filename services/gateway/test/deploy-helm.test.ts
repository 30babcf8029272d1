/** deploy/helm/charge-analysis: values against the strict schema (Ajv), static template and Envoy cross-checks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  CHART,
  checkChart,
  checkMetricsWiring,
  checkRenderedMetrics,
  validateValues,
} from '../../../scripts/check-helm';

describe('Helm chart', () => {
  const values = () => parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8'));

  test('values.yaml satisfies values.schema.json; templates and Envoy agree with the values', () => {
    const { problems, notes } = checkChart();
    expect(problems).toEqual([]);
    // Says so, rather than passing silently, when helm could not run here.
    for (const note of notes) process.stderr.write(`check:helm: ${note}\n`);
    expect(notes.length).toBeGreaterThan(0);
  });

  test('the schema is strict: unknown keys, bad ports, inline secrets and bad env names are refused', () => {
    const typo = values();
    typo.services.auth.replica = 3;
    expect(validateValues(typo).join('\n')).toMatch(
      /\/services\/auth must NOT have additional properties: replica/,
    );

    const badPort = values();
    badPort.services.audit.grpcPort = 70000;
    expect(validateValues(badPort).join('\n')).toMatch(/\/services\/audit\/grpcPort must be <= 65535/);

    const inlineSecret = values();
    inlineSecret.database.password = 'hunter2';
    expect(validateValues(inlineSecret).join('\n')).toMatch(
      /\/database must NOT have additional properties: password/,
    );

    const badEnv = values();
    badEnv.services.analysis.env['lower-case'] = 'x';
    expect(validateValues(badEnv).length).toBeGreaterThan(0);

    const newService = values();
    newService.services.reports = { ...newService.services.audit, grpcPort: 50056 };
    expect(validateValues(newService)).toEqual([]);
  });

  test('metrics: a port per pod, prometheus.io annotations, METRICS_PORT, Service port, NetworkPolicy, ServiceMonitor flag', () => {
    const v = values();
    expect(v.metrics).toMatchObject({ port: 9464, podAnnotations: true, serviceMonitor: { enabled: false } });
    expect(checkMetricsWiring(v)).toEqual([]);

    const read = (f: string) => readFileSync(path.join(CHART, 'templates', f), 'utf8');
    const services = read('services.yaml');
    // The annotations and the metrics containerPort sit in the Deployment range, so the
    // worker Deployments (analysis workers, training runners) get them as well.
    const deployment = services.slice(
      services.indexOf('kind: Deployment'),
      services.indexOf('kind: Service'),
    );
    expect(deployment).toContain('{{- include "charge.metricsAnnotations" $root | nindent 8 }}');
    expect(deployment).toMatch(/- name: metrics\s+containerPort: \{\{ \$root\.Values\.metrics\.port \}\}/);
    expect(read('_helpers.tpl')).toMatch(
      /prometheus\.io\/scrape: "true"\s+prometheus\.io\/port: \{\{ \.Values\.metrics\.port \| quote \}\}\s+prometheus\.io\/path: \/metrics/,
    );
    expect(read('servicemonitor.yaml')).toMatch(
      /^\{\{- if \.Values\.metrics\.serviceMonitor\.enabled \}\}$/m,
    );

    // The static check notices a collision and a template that lost the wiring.
    const clash = values();
    clash.metrics.port = clash.services.auth.grpcPort;
    expect(checkMetricsWiring(clash)).toEqual([
      `metrics.port ${clash.services.auth.grpcPort} is services.auth.grpcPort`,
    ]);

    // The strict schema covers the new block.
    const typo = values();
    typo.metrics.serviceMonitor.intervall = '15s';
    expect(validateValues(typo).join('\n')).toMatch(
      /\/metrics\/serviceMonitor must NOT have additional properties: intervall/,
    );
    const badPort = values();
    badPort.metrics.port = 80;
    expect(validateValues(badPort).join('\n')).toMatch(/\/metrics\/port must be >= 1024/);
    const badInterval = values();
    badInterval.metrics.serviceMonitor.interval = 'often';
    expect(validateValues(badInterval).length).toBeGreaterThan(0);
    const monitored = values();
    monitored.metrics.serviceMonitor = {
      enabled: true,
      interval: '15s',
      scrapeTimeout: '5s',
      labels: { release: 'prometheus' },
    };
    monitored.metrics.scrapeFrom = [
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
    ];
    expect(validateValues(monitored)).toEqual([]);
    const missing = values();
    delete missing.metrics;
    expect(validateValues(missing).join('\n')).toMatch(/must have required property 'metrics'/);
  });

  test('rendered-manifest check (used where helm runs): every service and worker pod is scrapeable', () => {
    const v = values();
    const deployment = (name: string, component: string, annotated: boolean, env: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { 'app.kubernetes.io/component': component } },
      spec: {
        template: {
          metadata: annotated
            ? { annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464' } }
            : {},
          spec: {
            containers: [
              {
                name: component,
                ports: [{ name: 'metrics', containerPort: 9464 }],
                env: [{ name: 'METRICS_PORT', value: env }],
              },
            ],
          },
        },
      },
    });
    expect(checkRenderedMetrics([deployment('analysis-worker', 'analysis', true, '9464')], v)).toEqual([]);
    expect(checkRenderedMetrics([deployment('analysis-worker', 'analysis', false, '0')], v)).toEqual([
      'Deployment analysis-worker: no prometheus.io annotations for port 9464',
      'Deployment analysis-worker: container analysis lacks METRICS_PORT=9464',
    ]);
  });
});
