/** deploy/helm/charge-analysis: values against the strict schema (Ajv), static template and Envoy cross-checks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART, checkChart, validateValues } from '../../../scripts/check-helm';

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
});
