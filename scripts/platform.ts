/**
 * `npm start`: runs the platform locally. Migrates, starts every service under services/
 * (readable logs, one colour per service), waits until each reports SERVING on grpc.health,
 * then runs the demo: sign in as the dev admin, generate a sample GB/T charging log with the
 * project's own generator and analyse it end to end. Ctrl-C stops every service gracefully.
 *
 *   npm start                  # platform + demo, runs until Ctrl-C
 *   npm start -- --demo-only   # start, demo, stop (exit code = demo result)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { auditV1, authV1, healthV1 } from '@charge/contracts';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.join(ROOT, '.data');
const PORTS: Record<string, number> = {
  auth: 50051,
  analysis: 50052,
  knowledge: 50053,
  training: 50054,
  audit: 50055,
};
const COLOURS = [36, 35, 33, 32, 34, 31];
const demoOnly = process.argv.includes('--demo-only');

function say(message: string): void {
  process.stdout.write(`\x1b[1m[platform]\x1b[0m ${message}\n`);
}

function adminCredentials(): { email: string; password: string } {
  const file = path.join(DATA, 'admin.json');
  if (!existsSync(file)) {
    writeFileSync(
      file,
      JSON.stringify({ email: 'admin@charge.local', password: randomBytes(12).toString('base64url') }),
      { mode: 0o600 },
    );
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

function startService(name: string, index: number, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'services', name, 'src', 'main.ts')],
    {
      cwd: ROOT,
      env: { ...env, GRPC_PORT: String(PORTS[name] ?? 50060 + index), OTEL_SERVICE_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const tag = `\x1b[${COLOURS[index % COLOURS.length]}m${name.padEnd(9)}\x1b[0m│ `;
  for (const stream of [child.stdout!, child.stderr!]) {
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${tag}${line}\n`);
    });
  }
  return child;
}

async function waitServing(name: string, child: ChildProcess): Promise<void> {
  const client = new healthV1.HealthClient(`127.0.0.1:${PORTS[name]}`, credentials.createInsecure());
  const deadline = Date.now() + 90_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
      const serving = await new Promise<boolean>((resolve) =>
        client.check({ service: '' }, (err, res) =>
          resolve(!err && res.status === healthV1.HealthCheckResponse_ServingStatus.SERVING),
        ),
      );
      if (serving) return;
      if (Date.now() > deadline) throw new Error(`${name} did not become SERVING within 90 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    client.close();
  }
}

function call<Res>(fn: (cb: (err: Error | null, res: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));
}

async function demo(admin: { email: string; password: string }): Promise<void> {
  const auth = new authV1.AuthServiceClient(`127.0.0.1:${PORTS.auth}`, credentials.createInsecure());
  const login = await call<authV1.LoginResponse>((cb) =>
    auth.login({ email: admin.email, password: admin.password }, cb),
  );
  say(
    `signed in as ${login.user?.email} (role ${login.user?.role === authV1.Role.ROLE_ADMIN ? 'admin' : 'user'})`,
  );
  auth.close();

  const sample = path.join(DATA, 'sample-charging-session.blf');
  say(`generating a sample GB/T 27930 charging log → ${path.relative(ROOT, sample)}`);
  const cli = path.join(ROOT, 'node_modules', '.bin', 'charge-analysis');
  const generated = spawnSync(cli, ['sample', sample, '--force'], { stdio: 'inherit' });
  if (generated.status !== 0) throw new Error(`charge-analysis sample failed (${generated.status})`);
  say('analysing it');
  const analysed = spawnSync(cli, ['analyze', sample], { stdio: 'inherit' });
  if (analysed.status !== 0) throw new Error(`charge-analysis analyze failed (${analysed.status})`);

  if (PORTS.audit && existsSync(path.join(ROOT, 'services', 'audit'))) {
    const { Metadata } = await import('@grpc/grpc-js');
    const md = new Metadata();
    md.set('authorization', `Bearer ${login.accessToken}`);
    const audit = new auditV1.AuditServiceClient(`127.0.0.1:${PORTS.audit}`, credentials.createInsecure());
    let logs: auditV1.AuditLog[] = [];
    for (let i = 0; i < 30 && logs.length === 0; i++) {
      const res = await call<auditV1.ListAuditLogsResponse>((cb) =>
        audit.listAuditLogs(
          auditV1.ListAuditLogsRequest.fromPartial({ page: { pageSize: 5 }, action: 'logged_in' }),
          md,
          cb,
        ),
      );
      logs = res.logs;
      if (!logs.length) await new Promise((r) => setTimeout(r, 200));
    }
    say(
      `audit trail: ${logs.length ? `latest ${logs[0].action} of ${logs[0].resourceType} ${logs[0].resourceId} at ${logs[0].timestamp?.toISOString()}` : 'no login event yet'}`,
    );
    audit.close();
  }
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const admin = adminCredentials();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/charge',
    NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
    LOG_PRETTY: process.env.LOG_PRETTY ?? '1',
    SHUTDOWN_DELAY_MS: '0',
    AUTH_SIGNING_KEY_FILE: path.join(DATA, 'auth-signing-key.pem'),
    AUTH_DEV_GENERATE_KEY: '1',
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    AUTH_GRPC_ADDR: `127.0.0.1:${PORTS.auth}`,
    ANALYSIS_BLOB_DIR: path.join(DATA, 'analysis'),
    TRAINING_DATA_DIR: path.join(DATA, 'training'),
  };
  say('applying migrations');
  const migrated = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'migrate.ts')],
    { env, stdio: 'inherit', cwd: ROOT },
  );
  if (migrated.status !== 0) process.exit(1);

  const names = readdirSync(path.join(ROOT, 'services'))
    .filter((n) => existsSync(path.join(ROOT, 'services', n, 'src', 'main.ts')))
    .sort((a, b) => (a === 'auth' ? -1 : b === 'auth' ? 1 : a.localeCompare(b)));
  const children = new Map<string, ChildProcess>();
  names.forEach((name, i) => children.set(name, startService(name, i, env)));

  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping services');
    await Promise.all(
      [...children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    say('all services stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  for (const [name, child] of children) {
    child.once('exit', (code) => {
      if (!stopping) {
        say(`${name} exited unexpectedly (code ${code})`);
        void stopAll(1);
      }
    });
  }

  try {
    for (const [name, child] of children) await waitServing(name, child);
    say(`services up: ${names.map((n) => `${n} 127.0.0.1:${PORTS[n]}`).join(', ')}`);
    say(`dev admin: ${admin.email} / password in .data/admin.json`);
    await demo(admin);
    say('demo complete');
  } catch (error) {
    say(`failed: ${(error as Error).message}`);
    return stopAll(1);
  }
  if (demoOnly) return stopAll(0);
  say('platform running; press Ctrl-C to stop');
}

void main();
