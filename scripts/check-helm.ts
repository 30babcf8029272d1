/**
 * `npm run check:helm`: validates deploy/helm/charge-analysis without a cluster.
 *
 *  - values.yaml (and every chart `ci/*.yaml`) against the strict values.schema.json with Ajv;
 *  - every `.Values.…` path and service field the templates use exists in the schema;
 *  - services' gRPC ports equal the Envoy clusters' ports, every Envoy cluster is a service,
 *    every `allowFrom` names a service or envoy, the chart's files/ links resolve;
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
      notes.push(
        `helm template rendered ${docs.length} documents (kubernetes-models validation not installed)`,
      );
    }
  }
  return { problems, notes };
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
