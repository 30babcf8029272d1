/**
 * `npm start`: runs the platform locally. Migrates, starts every service under services/
 * (readable logs, one colour per service), waits until each reports SERVING on grpc.health,
 * then runs the demo through the gateway: sign in as the dev admin, generate a sample GB/T
 * charging log with the project's own generator, upload it over REST, follow
 * the job to completion and print the report, look its findings up in a knowledge collection
 * of the engine's finding codes, and print the audit trail. Ctrl-C stops every service gracefully.
 *
 *   npm start                  # platform + demo, runs until Ctrl-C
 *   npm start -- --demo-only   # start, demo, stop (exit code = demo result)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { analysisV1, healthV1 } from '@charge/contracts';
import type { ChargingReport } from '@charge/gbt27930';
import { demoKnowledge } from './demo-knowledge';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.join(ROOT, '.data');
/** gRPC ports; the gateway's is its grpc.health port (its HTTP port is GATEWAY_HTTP_PORT). */
const PORTS: Record<string, number> = {
  auth: 50051,
  analysis: 50052,
  knowledge: 50053,
  training: 50054,
  audit: 50055,
  gateway: 50050,
};
const GATEWAY_HTTP_PORT = Number(process.env.GATEWAY_HTTP_PORT ?? 8080);
const COLOURS = [36, 35, 33, 32, 34, 31];
const demoOnly = process.argv.includes('--demo-only');

function say(message: string): void {
  process.stdout.write(`\x1b[1m[platform]\x1b[0m ${message}\n`);
}

/**
 * The dev admin's credentials live beside the machine's database, not the checkout: every
 * checkout on this machine shares the `charge` database, and the admin is created only once.
 */
function adminCredentials(): { email: string; password: string } {
  const dir = path.join(process.env.XDG_CONFIG_HOME ?? path.join(homedir(), '.config'), 'charge-analysis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'dev-admin.json');
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

/** A JSON call through the gateway (REST transcoding of the services' google.api.http annotations). */
async function rest<T>(method: string, route: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${GATEWAY_HTTP_PORT}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} → HTTP ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Uploads a log over REST: the file is the request body, streamed to UploadLogFile. */
async function uploadLog(file: string, token: string): Promise<analysisV1.Analysis> {
  const query = new URLSearchParams({
    name: 'Sample charging session',
    description: 'generated by npm start',
    file_name: path.basename(file),
  });
  const res = await fetch(`http://127.0.0.1:${GATEWAY_HTTP_PORT}/v1/analyses:upload?${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` },
    body: readFileSync(file),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /v1/analyses:upload → HTTP ${res.status}: ${text}`);
  return (JSON.parse(text) as { analysis: analysisV1.Analysis }).analysis;
}

/** One NDJSON line of a server stream through the gateway: a message, or a final error. */
interface WatchEvent {
  status?: string;
  stage?: string;
  progress?: number;
  errorMessage?: string;
  error?: unknown;
}

async function demo(admin: { email: string; password: string }): Promise<void> {
  const login = await rest<{ accessToken: string; user: { email: string; role: string } }>(
    'POST',
    '/v1/auth/login',
    undefined,
    admin,
  );
  const token = login.accessToken;
  say(`gateway: signed in as ${login.user.email} (${login.user.role})`);

  const sample = path.join(DATA, 'sample-charging-session.blf');
  say(`generating a sample GB/T 27930 charging log → ${path.relative(ROOT, sample)}`);
  const cli = path.join(ROOT, 'node_modules', '.bin', 'charge-analysis');
  const generated = spawnSync(cli, ['sample', sample, '--force'], { stdio: 'inherit' });
  if (generated.status !== 0) throw new Error(`charge-analysis sample failed (${generated.status})`);

  const uploaded = await uploadLog(sample, token);
  say(
    `analysis service: uploaded as analysis ${uploaded.id} (${uploaded.fileSize} bytes, sha256 ${uploaded.fileSha256.slice(0, 12)}…)`,
  );
  await rest('POST', `/v1/analyses/${uploaded.id}:start`, token, {});
  const watch = await fetch(`http://127.0.0.1:${GATEWAY_HTTP_PORT}/v1/analyses/${uploaded.id}:watch`, {
    headers: { authorization: `Bearer ${token}` },
  });
  let last: WatchEvent = {};
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of watch.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line) as WatchEvent;
      if (event.error) throw new Error(`watch failed: ${JSON.stringify(event.error)}`);
      last = event;
      say(`  ${last.status} ${last.stage ?? ''} ${Math.round((last.progress ?? 0) * 100)}%`);
    }
  }
  if (last?.status !== 'ANALYSIS_STATUS_COMPLETED')
    throw new Error(`analysis ended ${last?.status}: ${last?.errorMessage ?? ''}`);

  const { reportJson } = await rest<{ reportJson: string }>(
    'GET',
    `/v1/analyses/${uploaded.id}/report`,
    token,
  );
  const report = JSON.parse(reportJson) as ChargingReport;
  say(`report: ${report.file.canFrames} frames, ${report.sessions.length} session(s)`);
  for (const session of report.sessions) {
    say(
      `  session ${session.index}: GB/T ${session.edition}, last phase ${session.lastPhase}, stopped by ${session.stopInitiator}, ` +
        `SOC ${session.stats.socStart}% → ${session.stats.socEnd}%, ${session.stats.energyKWh} kWh`,
    );
    for (const f of session.findings) say(`    [${f.severity}] ${f.code}: ${f.message}`);
  }

  await demoKnowledge(
    `http://127.0.0.1:${GATEWAY_HTTP_PORT}`,
    rest,
    token,
    report.sessions.flatMap((s) => s.findings.filter((f) => f.severity !== 'info').map((f) => f.code)),
    say,
  );

  const audit = await rest<{ logs: { action: string; resourceType: string; resourceId: string }[] }>(
    'GET',
    '/v1/audit/logs?page.pageSize=5&service=analysis',
    token,
  );
  say(
    `audit trail (analysis): ${audit.logs.map((l) => `${l.action} ${l.resourceType} ${l.resourceId}`).join(', ') || 'nothing yet'}`,
  );
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
    KNOWLEDGE_GRPC_ADDR: `127.0.0.1:${PORTS.knowledge}`,
    TRAINING_GRPC_ADDR: `127.0.0.1:${PORTS.training}`,
    // Local runs: analysis workers consult knowledge and training as the dev admin.
    ANALYSIS_SERVICE_EMAIL: admin.email,
    ANALYSIS_SERVICE_PASSWORD: admin.password,
    HTTP_PORT: String(GATEWAY_HTTP_PORT),
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
    if (children.has('gateway')) say(`gateway: http://127.0.0.1:${GATEWAY_HTTP_PORT} (REST + gRPC-web)`);
    say(`dev admin: ${admin.email} / password in ~/.config/charge-analysis/dev-admin.json`);
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
