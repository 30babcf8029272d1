/**
 * `npm run check:helm`: validates deploy/helm/charge-analysis without a cluster.
 *
 *  - values.yaml (and every chart `ci/*.yaml`) against the strict values.schema.json with Ajv;
 *  - every `.Values.…` path and service field the templates use exists in the schema;
 *  - services' gRPC ports equal the Envoy clusters' ports, every Envoy cluster is a service,
 *    every `allowFrom` names a service or envoy, the chart's files/ links resolve;
 *  - metrics wiring: every service and worker container gets METRICS_PORT and a `metrics`
 *    containerPort, pods the prometheus.io annotations, Services a `metrics` port, the
 *    NetworkPolicy admits `metrics.scrapeFrom` to it, and the port collides with no other;
 *  - where `helm` is on PATH: `helm lint` and `helm template` (rendered documents parsed);
 *    where it is not (these machines, see STACK.md), the output says so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse, parseAllDocuments } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
export const CHART = path.join(ROOT, 'deploy', 'helm', 'charge-analysis');

type Json = Record<string, unknown>;

export interface HelmCheck {
  problems: string[];
  notes: string[];
}

/** Ajv errors of `values` against the chart's schema, as readable lines. */
export function validateValues(values: unknown, schema: Json = loadSchema()): string[] {
  const ajv = new Ajv({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);
  if (validate(values)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${e.instancePath || '(root)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`,
  );
}

export function loadSchema(): Json {
  return JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8')) as Json;
}

function schemaHasPath(schema: Json, parts: string[]): boolean {
  let node: Json | undefined = schema;
  for (const part of parts) {
    if (!node) return false;
    const props = node.properties as Record<string, Json> | undefined;
    if (props && part in props) node = props[part];
    else if (node.additionalProperties && typeof node.additionalProperties === 'object')
      node = node.additionalProperties as Json;
    else return false;
  }
  return true;
}

export function checkChart(): HelmCheck {
  const problems: string[] = [];
  const notes: string[] = [];
  const schema = loadSchema();
  const valueFiles = ['values.yaml'];
  if (existsSync(path.join(CHART, 'ci')))
    for (const f of readdirSync(path.join(CHART, 'ci')))
      if (f.endsWith('.yaml')) valueFiles.push(path.join('ci', f));
  for (const file of valueFiles) {
    const values = parse(readFileSync(path.join(CHART, file), 'utf8'));
    for (const e of validateValues(values, schema)) problems.push(`${file}: ${e}`);
  }
  const values = parse(readFileSync(path.join(CHART, 'values.yaml'), 'utf8')) as Json;
  const services = (values.services ?? {}) as Record<string, Json>;

  const serviceSchema = ((schema.properties as Record<string, Json>).services.additionalProperties ??
    {}) as Json;
  const templatesDir = path.join(CHART, 'templates');
  for (const file of readdirSync(templatesDir).filter((f) => /\.(ya?ml|tpl)$/.test(f))) {
    const text = readFileSync(path.join(templatesDir, file), 'utf8');
    for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g))
      if (!schemaHasPath(schema, m[1].slice(1).split('.')))
        problems.push(`templates/${file}: .Values${m[1]} is not in values.schema.json`);
    for (const m of text.matchAll(/(?:\$svc|\.svc)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g))
      if (!schemaHasPath(serviceSchema, m[1].slice(1).split('.')))
        problems.push(`templates/${file}: service field ${m[1].slice(1)} is not in the services schema`);
  }

  for (const link of ['files/envoy.yaml', 'files/descriptor.binpb'])
    if (!existsSync(path.join(CHART, link))) problems.push(`${link} does not resolve`);
  const envoy = parse(readFileSync(path.join(CHART, 'files', 'envoy.yaml'), 'utf8')) as Json;
  const clusters = (((envoy.static_resources ?? {}) as Json).clusters ?? []) as Json[];
  for (const cluster of clusters) {
    const name = String(cluster.name);
    if (name === 'envoy_self') continue;
    const socket = JSON.stringify(cluster.load_assignment).match(/"port_value":(\d+)/);
    if (!services[name]) problems.push(`Envoy cluster ${name} has no services.${name} block`);
    else if (socket && Number(socket[1]) !== services[name].grpcPort)
      problems.push(
        `services.${name}.grpcPort ${String(services[name].grpcPort)} ≠ Envoy cluster port ${socket[1]}`,
      );
  }
  for (const [name, svc] of Object.entries(services))
    for (const caller of (svc.allowFrom ?? []) as string[])
      if (caller !== 'envoy' && !services[caller])
        problems.push(`services.${name}.allowFrom: unknown caller ${caller}`);

  problems.push(...checkMetricsWiring(values, templatesDir));

  const helm = spawnSync('helm', ['version', '--short'], { encoding: 'utf8' });
  if (helm.error || helm.status !== 0) {
    notes.push(
      'helm is not on PATH: `helm lint` and `helm template` were NOT run; values were validated against the schema and the templates checked statically',
    );
  } else {
    const lint = spawnSync('helm', ['lint', CHART, '--strict'], { encoding: 'utf8' });
    if (lint.status !== 0) problems.push(`helm lint failed:\n${lint.stdout}${lint.stderr}`);
    const rendered = spawnSync('helm', ['template', 'charge', CHART], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (rendered.status !== 0) problems.push(`helm template failed:\n${rendered.stderr}`);
    else {
      const docs = parseAllDocuments(rendered.stdout)
        .map((d) => d.toJSON() as Json | null)
        .filter(Boolean);
      for (const doc of docs)
        if (!doc!.apiVersion || !doc!.kind) problems.push('a rendered document lacks apiVersion/kind');
      problems.push(...checkRenderedMetrics(docs as Json[], values));
      const withMonitor = spawnSync(
        'helm',
        ['template', 'charge', CHART, '--set', 'metrics.serviceMonitor.enabled=true'],
        { encoding: 'utf8', maxBuffer: 64 << 20 },
      );
      if (withMonitor.status !== 0)
        problems.push(`helm template with the ServiceMonitor failed:\n${withMonitor.stderr}`);
      else if (
        !parseAllDocuments(withMonitor.stdout).some(
          (d) => (d.toJSON() as Json | null)?.kind === 'ServiceMonitor',
        )
      )
        problems.push('metrics.serviceMonitor.enabled=true rendered no ServiceMonitor');
      notes.push(
        `helm template rendered ${docs.length} documents (kubernetes-models validation not installed)`,
      );
    }
  }
  return { problems, notes };
}

/** The static checks of the Prometheus wiring (see the header); problems as readable lines. */
export function checkMetricsWiring(values: Json, templatesDir = path.join(CHART, 'templates')): string[] {
  const problems: string[] = [];
  const metrics = values.metrics as Json | undefined;
  if (!metrics) return ['values.yaml has no metrics block'];
  const port = metrics.port as number;
  for (const [name, svc] of Object.entries((values.services ?? {}) as Record<string, Json>))
    if (svc.grpcPort === port) problems.push(`metrics.port ${port} is services.${name}.grpcPort`);
  if ((values.envoy as Json | undefined)?.port === port) problems.push(`metrics.port ${port} is envoy.port`);

  const read = (file: string) => readFileSync(path.join(templatesDir, file), 'utf8');
  const services = read('services.yaml');
  const helpers = read('_helpers.tpl');
  const expect = (ok: boolean, what: string) => ok || problems.push(what);
  expect(
    /- name: metrics\s+containerPort: \{\{ \$root\.Values\.metrics\.port \}\}/.test(services),
    'templates/services.yaml: the service containers declare no `metrics` containerPort',
  );
  expect(
    /if \$root\.Values\.metrics\.podAnnotations \}\}\s+annotations:\s+\{\{- include "charge\.metricsAnnotations"/.test(
      services,
    ),
    'templates/services.yaml: the pod template does not carry the prometheus.io annotations',
  );
  for (const annotation of [
    'prometheus.io/scrape: "true"',
    'prometheus.io/port: {{ .Values.metrics.port | quote }}',
    'prometheus.io/path: /metrics',
  ])
    expect(
      helpers.includes(annotation),
      `templates/_helpers.tpl: charge.metricsAnnotations lacks ${annotation}`,
    );
  expect(
    /- name: METRICS_PORT\s+value: \{\{ \$root\.Values\.metrics\.port \| quote \}\}/.test(helpers),
    'templates/_helpers.tpl: charge.env does not set METRICS_PORT',
  );
  expect(
    /- name: metrics\s+port: \{\{ \$root\.Values\.metrics\.port \}\}\s+targetPort: metrics/.test(services),
    'templates/services.yaml: the Services expose no `metrics` port',
  );
  expect(
    /with \$root\.Values\.metrics\.scrapeFrom \}\}[\s\S]*?- port: \{\{ \$root\.Values\.metrics\.port \}\}/.test(
      services,
    ),
    'templates/services.yaml: the NetworkPolicy does not admit metrics.scrapeFrom to the metrics port',
  );
  const monitor = read('servicemonitor.yaml');
  expect(
    monitor.includes('{{- if .Values.metrics.serviceMonitor.enabled }}') &&
      monitor.includes('kind: ServiceMonitor') &&
      monitor.includes('- port: metrics'),
    'templates/servicemonitor.yaml: no ServiceMonitor on the `metrics` port behind metrics.serviceMonitor.enabled',
  );
  return problems;
}

/** Rendered manifests: every service and worker pod is scrapeable on the metrics port. */
export function checkRenderedMetrics(docs: Json[], values: Json): string[] {
  const problems: string[] = [];
  const port = (values.metrics as Json).port;
  const annotate = (values.metrics as Json).podAnnotations === true;
  const services = Object.keys((values.services ?? {}) as Json);
  for (const doc of docs) {
    const meta = (doc.metadata ?? {}) as Json;
    const component = ((meta.labels ?? {}) as Json)['app.kubernetes.io/component'] as string | undefined;
    if (doc.kind !== 'Deployment' || !component || !services.includes(component)) continue;
    const template = ((doc.spec as Json).template ?? {}) as Json;
    const annotations = ((template.metadata as Json | undefined)?.annotations ?? {}) as Json;
    if (
      annotate &&
      (annotations['prometheus.io/scrape'] !== 'true' || annotations['prometheus.io/port'] !== String(port))
    )
      problems.push(`Deployment ${String(meta.name)}: no prometheus.io annotations for port ${String(port)}`);
    for (const c of ((template.spec as Json).containers ?? []) as Json[]) {
      const ports = (c.ports ?? []) as Json[];
      if (!ports.some((p) => p.name === 'metrics' && p.containerPort === port))
        problems.push(
          `Deployment ${String(meta.name)}: container ${String(c.name)} has no metrics port ${String(port)}`,
        );
      const env = (c.env ?? []) as Json[];
      if (!env.some((e) => e.name === 'METRICS_PORT' && e.value === String(port)))
        problems.push(
          `Deployment ${String(meta.name)}: container ${String(c.name)} lacks METRICS_PORT=${String(port)}`,
        );
    }
  }
  return problems;
}

function main(): void {
  const { problems, notes } = checkChart();
  for (const note of notes) console.log(`check:helm: note: ${note}`);
  if (problems.length) {
    console.error(`check:helm: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    process.exit(1);
  }
  console.log('check:helm: ok');
}

if (require.main === module) main();
