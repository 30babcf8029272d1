import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'libs/cli/bin/charge-analysis.js');
const GBT = path.resolve(__dirname, '../../../../shared/data/gbt');

function shared(name: string): string {
  const p = path.join(GBT, name);
  if (!fs.existsSync(p))
    throw new Error(`Shared test data not found: ${p} (../shared/data beside the repository)`);
  return p;
}

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'charge-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('charge-analysis CLI', () => {
  it('analyze --json prints exactly the FINDINGS.md report on stdout', () => {
    const r = run('analyze', shared('orange-gi_charge_Log_001.blf'), '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['file', 'sessions']);
    expect(report.file).toMatchObject({ format: 'blf', canFrames: 40206, otherObjects: 1307, channels: [1] });
    const s = report.sessions[0];
    expect(s.stats).toEqual({
      socStart: 52,
      socEnd: 64,
      maxOutputVoltageV: 383,
      maxOutputCurrentA: 20.5,
      energyKWh: 1.3,
      chargingMinutes: 11,
      maxBatteryTempC: 25,
    });
    expect(s.findings.map((f: { code: string }) => f.code).sort()).toEqual([
      'BMS_STOPPED_BY_CHARGER',
      'CHARGER_MANUAL_STOP',
    ]);
  });

  it('analyze prints a human summary; --dbc adds decoded signals', () => {
    const r = run('analyze', shared('sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Session 1');
    expect(r.stdout).toContain('stopped by: charger');
    expect(r.stdout).toContain('CHARGER_MANUAL_STOP');
    expect(r.stdout).toContain('L1NSPGH98NA196202');
    const dbc = path.join(tmp, 'oem.dbc');
    fs.writeFileSync(dbc, 'VERSION ""\nBO_ 2154886325 Aux: 3 X\n SG_ B0 : 0|8@1+ (1,0) [0|255] "" Y\n');
    const j = run(
      'analyze',
      shared('sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log'),
      '--json',
      '--dbc',
      dbc,
    );
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout);
    expect(report.signals).toHaveLength(1);
    expect(report.signals[0]).toMatchObject({ message: 'Aux', signal: 'B0' });
    expect(report.signals[0].points.length).toBeGreaterThan(0);
  });

  it('info summarises a BLF like blfinfo', () => {
    const r = run('info', shared('orange-gi_charge_Log_001.blf'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Application:\s+CANoe 11\.0\.69/);
    expect(r.stdout).toMatch(/CAN_MESSAGE2\s+40206/);
    expect(r.stdout).toMatch(/Start time:\s+2018-10-05T18:22:39\.626Z/);
  });

  it('trace filters by id, time and limit, and decodes', () => {
    const r = run(
      'trace',
      shared('sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log'),
      '--id',
      '181056F4',
      '--from',
      '30',
      '--limit',
      '3',
      '--decode',
    );
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.includes('181056F4x'))).toHaveLength(3);
    expect(lines.filter((l) => l.includes('→ BCL'))).toHaveLength(3);
    expect(Number(lines[0].trim().split(/\s+/)[0])).toBeGreaterThanOrEqual(30);
  });

  it('convert writes BLF, ASC and CSV that read back', () => {
    for (const to of ['blf', 'asc', 'csv']) {
      const out = path.join(tmp, `out.${to}`);
      const r = run(
        'convert',
        shared('sut4nd0_gbt27930-2015_candump-2023-12-25_220841.log'),
        '--to',
        to,
        out,
      );
      expect([to, r.code]).toEqual([to, 0]);
      expect(fs.statSync(out).size).toBeGreaterThan(1000);
    }
    const back = run('analyze', path.join(tmp, 'out.blf'), '--json');
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).sessions[0].vehicle.vin).toBe('L1NSPGH98NA196202');
    expect(fs.readFileSync(path.join(tmp, 'out.csv'), 'utf8').split('\n').length).toBeGreaterThan(1857);
  });

  it('exits 2 on usage errors and 3 on unreadable input', () => {
    expect(run().code).toBe(2);
    expect(run('frobnicate').code).toBe(2);
    expect(run('analyze').code).toBe(2);
    expect(run('analyze', 'a', '--bogus').code).toBe(2);
    expect(run('convert', 'a', 'b', '--to', 'mp3').code).toBe(2);
    const missing = run('analyze', path.join(tmp, 'missing.blf'));
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no such file');
    expect(missing.stdout).toBe('');
    const junk = path.join(tmp, 'junk.bin');
    fs.writeFileSync(junk, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect(run('info', junk).code).toBe(3);
    const badDbc = path.join(tmp, 'bad.dbc');
    fs.writeFileSync(badDbc, 'BO_ 1 M: 8 A\n SG_ S : 0|8@7+ (1,0) [0|1] "" B\n');
    const d = run('analyze', shared('orange-gi_charge_Log_001.blf'), '--dbc', badDbc);
    expect(d.code).toBe(3);
    expect(d.stderr).toContain('line 2');
  });

  it('is runnable as `npx charge-analysis` from the repository root', () => {
    const r = spawnSync('npx', ['--no-install', 'charge-analysis', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: charge-analysis');
  });
});
