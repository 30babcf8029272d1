import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'libs/cli/bin/charge-analysis.js');

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'charge-cli-sample-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('charge-analysis sample', () => {
  const out = path.join(tmp, 'demo.blf');

  it('writes the default demo session, which analyze diagnoses as a battery over-temperature', () => {
    const r = run('sample', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`wrote ${out}: 20,000 frames, 5.4 min`);
    expect(lines[0]).toContain('fault battery-overtemp');
    expect(lines[0]).toContain('TEMPERATURE_LIMIT_EXCEEDED');

    const a = run('analyze', out, '--json');
    expect(a.code).toBe(0);
    const report = JSON.parse(a.stdout);
    expect(report.file).toMatchObject({ format: 'blf', canFrames: 20000, errorFrames: 0, channels: [1, 2] });
    expect(report.sessions).toHaveLength(1);
    const s = report.sessions[0];
    expect(s).toMatchObject({ edition: '2015', lastPhase: 'ending', stopInitiator: 'bms' });
    expect(s.vehicle.vin).toBe('LGBT27930SAMPLE01');
    expect(s.stats).toMatchObject({ socStart: 42, socEnd: 49, chargingMinutes: 5, maxBatteryTempC: 57 });
    expect(s.findings.map((f: { code: string }) => f.code).sort()).toEqual([
      'BSM_BATTERY_OVERTEMP',
      'BST_BATTERY_OVERTEMP',
      'CHARGER_STOPPED_BY_BMS',
      'TEMPERATURE_LIMIT_EXCEEDED',
    ]);

    const human = run('analyze', out);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('stopped by: bms  problems: 3');
    expect(human.stdout).toContain('[CRITICAL] BST_BATTERY_OVERTEMP');
  });

  it('refuses to overwrite an existing file (exit 2) unless --force', () => {
    const before = fs.readFileSync(out);
    const r = run('sample', out, '--fault', 'none');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('exists');
    expect(fs.readFileSync(out).equals(before)).toBe(true);

    const f = run('sample', out, '--force', '--fault', 'none', '--frames', '3000', '--seed', '7');
    expect(f.code).toBe(0);
    expect(f.stdout).toContain('3,000 frames');
    const report = JSON.parse(run('analyze', out, '--json').stdout);
    expect(report.file.canFrames).toBe(3000);
    const s = report.sessions[0];
    expect(s).toMatchObject({ edition: '2015', lastPhase: 'ending', stopInitiator: 'charger' });
    expect(s.findings.map((x: { code: string }) => x.code).sort()).toEqual([
      'BMS_STOPPED_BY_CHARGER',
      'CHARGER_MANUAL_STOP',
    ]);
    expect(s.stats.socStart).toBe(42);
    expect(fs.readdirSync(tmp)).toEqual(['demo.blf']);
  });

  it('exits 2 on usage errors without writing, and 3 when OUT cannot be written', () => {
    const other = path.join(tmp, 'other.blf');
    expect(run('sample').code).toBe(2);
    expect(run('sample', other, 'extra').code).toBe(2);
    expect(run('sample', other, '--fault', 'meltdown').code).toBe(2);
    expect(run('sample', other, '--frames', '10').code).toBe(2);
    expect(run('sample', other, '--frames', '2500.5').code).toBe(2);
    expect(run('sample', other, '--seed', 'x').code).toBe(2);
    expect(run('sample', other, '--bogus').code).toBe(2);
    expect(fs.existsSync(other)).toBe(false);
    const missing = run('sample', path.join(tmp, 'no-such-dir', 'x.blf'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('cannot write');
  });
});
