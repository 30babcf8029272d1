/**
 * `npm run bench:gateway`: what the REST gateway costs on a read. Starts auth + audit
 * in-process on a fresh test database (local Postgres) and a test-owned nats-server, the
 * gateway in a child process (as deployed: its own event loop), and a load generator in
 * another child process. The same read (auth GetMe with the admin's token) is driven
 *   1. directly over gRPC (one channel), and
 *   2. through the gateway as `GET /v1/auth/me` (keep-alive HTTP/1.1),
 * each with N concurrent clients for a fixed duration after a warm-up. Prints req/s and
 * p50/p99 side by side and whether the gateway adds ≤ 2 ms at p50 and keeps ≥ 70 % of the
 * direct throughput. The runs go in ABBA order (direct, gateway, gateway, direct, …) so JIT
 * and cache warm-up of auth and Postgres do not favour either side; req/s is over all rounds,
 * p50/p99 the mean of the rounds'. Loopback only; bounded by duration and a hard timeout.
 * Not part of CI.
 *
 *   npm run bench:gateway [-- --clients 16] [--seconds 5] [--warmup 1] [--rounds 2]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { authV1 } from '@charge/contracts';
import { createOrm, migrateOrm, type RunningService } from '@charge/service-kit';
import {
  clientFor,
  createTestDatabase,
  startTestService,
  TestNatsServer,
  unary,
  withToken,
} from '@charge/testing';
import * as authApp from '../services/auth/src/app';
import * as authConfig from '../services/auth/src/config';
import * as authSchema from '../services/auth/src/persistence/schema';
import * as auditApp from '../services/audit/src/app';
import * as auditConfig from '../services/audit/src/config';
import * as auditSchema from '../services/audit/src/persistence/schema';
import { build as buildGateway, type GatewayHandle } from '../services/gateway/src/app';
import { loadConfig as loadGatewayConfig } from '../services/gateway/src/config';

const ADMIN = { email: 'root@example.com', password: 'root-password-123' };
const MAX_ADDED_P50_MS = 2;
const MIN_THROUGHPUT_RATIO = 0.7;
const HARD_TIMEOUT_MS = 180_000;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

interface LoadJob {
  kind: 'grpc' | 'http';
  target: string;
  token: string;
  clients: number;
  seconds: number;
  warmup: number;
}

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Child: N closed-loop clients, each sending the next request when the previous one answers. */
async function runLoad(job: LoadJob): Promise<LoadResult> {
  let once: () => Promise<void>;
  let close: () => void;
  if (job.kind === 'grpc') {
    const client = new authV1.AuthServiceClient(job.target, credentials.createInsecure());
    const getMe = client.getMe.bind(client);
    once = async () => {
      await unary(getMe, {}, withToken(job.token));
    };
    close = () => client.close();
  } else {
    const agent = new Agent({ keepAlive: true, maxSockets: job.clients });
    const url = new URL('/v1/auth/me', job.target);
    once = () =>
      new Promise<void>((resolve, reject) => {
        const req = request(url, { agent, headers: { authorization: `Bearer ${job.token}` } }, (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
          );
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    close = () => agent.destroy();
  }
  const latencies: number[] = [];
  let errors = 0;
  let measuring = false;
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const t0 = process.hrtime.bigint();
      try {
        await once();
        if (measuring && !stopped) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        if (measuring) errors++;
      }
    }
  };
  const workers = Array.from({ length: job.clients }, worker);
  await new Promise((r) => setTimeout(r, job.warmup * 1000));
  measuring = true;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, job.seconds * 1000));
  stopped = true;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(workers);
  close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Child: the gateway (its own process, like a deployment), upstream auth at `authAddr`. */
async function runGatewayChild(authAddr: string): Promise<void> {
  const handle: Partial<GatewayHandle> = {};
  const gateway = await startTestService(
    { name: 'gateway', loadConfig: loadGatewayConfig, build: (ctx) => buildGateway(ctx, handle) },
    { env: { HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', AUTH_GRPC_ADDR: authAddr } },
  );
  process.send!({ url: handle.url });
  const stop = () => void gateway.stop().then(() => process.exit(0));
  process.once('message', stop);
  process.once('disconnect', stop);
}

function forkRole(role: string, payload: string): ChildProcess {
  return fork(__filename, ['--role', role, payload], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before answering`)));
  });
}

async function main(): Promise<void> {
  const clients = arg('clients', 16);
  const seconds = arg('seconds', 5);
  const warmup = arg('warmup', 1);
  const rounds = Math.round(arg('rounds', 2));
  const hard = setTimeout(() => {
    console.error(`bench:gateway: gave up after ${HARD_TIMEOUT_MS / 1000} s`);
    process.exit(2);
  }, HARD_TIMEOUT_MS);
  hard.unref();

  const db = await createTestDatabase('benchgw');
  const nats = await TestNatsServer.start();
  const keyDir = mkdtempSync(path.join(tmpdir(), 'ct-bench-gw-'));
  let auth: RunningService | undefined;
  let audit: RunningService | undefined;
  let gatewayChild: ChildProcess | undefined;
  try {
    for (const mod of [auditSchema, authSchema]) {
      const orm = await createOrm({
        schema: mod.SCHEMA,
        entities: mod.entities,
        migrations: mod.migrations,
        databaseUrl: db.url,
      });
      await migrateOrm(orm, mod.SCHEMA);
      await orm.close();
    }
    auth = await startTestService(
      { name: 'auth', loadConfig: authConfig.loadConfig, build: authApp.build },
      {
        env: {
          DATABASE_URL: db.url,
          NATS_URL: nats.url,
          AUTH_SIGNING_KEY_FILE: path.join(keyDir, 'signing.pem'),
          AUTH_DEV_GENERATE_KEY: '1',
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
        },
      },
    );
    audit = await startTestService(
      { name: 'audit', loadConfig: auditConfig.loadConfig, build: auditApp.build },
      { env: { DATABASE_URL: db.url, NATS_URL: nats.url, AUTH_GRPC_ADDR: auth.address } },
    );
    const authClient = clientFor(authV1.AuthServiceClient, auth);
    const { accessToken: token } = await unary<authV1.LoginRequest, authV1.LoginResponse>(
      authClient.login.bind(authClient),
      ADMIN,
    );
    authClient.close();

    gatewayChild = forkRole('gateway', auth.address);
    const { url } = await firstMessage<{ url: string }>(gatewayChild);

    const measure = async (kind: LoadJob['kind'], target: string) => {
      const child = forkRole('load', JSON.stringify({ kind, target, token, clients, seconds, warmup }));
      const result = await firstMessage<LoadResult>(child);
      await new Promise((r) => child.once('exit', r));
      return result;
    };
    console.log(
      `GetMe, ${clients} concurrent clients, ${rounds} rounds of ${warmup} s warm-up + ${seconds} s per path`,
    );
    const runs: Record<LoadJob['kind'], LoadResult[]> = { grpc: [], http: [] };
    for (let i = 0; i < rounds; i++) {
      const order: LoadJob['kind'][] = i % 2 === 0 ? ['grpc', 'http'] : ['http', 'grpc'];
      for (const kind of order) runs[kind].push(await measure(kind, kind === 'grpc' ? auth.address : url));
    }
    const combine = (rs: LoadResult[]): LoadResult => ({
      requests: rs.reduce((n, r) => n + r.requests, 0),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      seconds: rs.reduce((n, r) => n + r.seconds, 0),
      p50: rs.reduce((n, r) => n + r.p50, 0) / rs.length,
      p99: rs.reduce((n, r) => n + r.p99, 0) / rs.length,
    });
    const direct = combine(runs.grpc);
    const viaGateway = combine(runs.http);

    const rps = (r: LoadResult) => r.requests / r.seconds;
    const row = (name: string, r: LoadResult) =>
      `${name.padEnd(22)}${rps(r).toFixed(0).padStart(10)}${r.p50.toFixed(2).padStart(10)}${r.p99.toFixed(2).padStart(10)}${String(r.errors).padStart(8)}`;
    console.log(
      `${''.padEnd(22)}${'req/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'errors'.padStart(8)}`,
    );
    console.log(row('gRPC direct', direct));
    console.log(row('gateway REST', viaGateway));
    const addedP50 = viaGateway.p50 - direct.p50;
    const ratio = rps(viaGateway) / rps(direct);
    const p50Ok = addedP50 <= MAX_ADDED_P50_MS;
    const rpsOk = ratio >= MIN_THROUGHPUT_RATIO;
    console.log(
      `added p50: ${addedP50.toFixed(2)} ms (target ≤ ${MAX_ADDED_P50_MS} ms) ${p50Ok ? 'OK' : 'MISSED'}; ` +
        `throughput: ${(ratio * 100).toFixed(1)} % of direct (target ≥ ${MIN_THROUGHPUT_RATIO * 100} %) ${rpsOk ? 'OK' : 'MISSED'}`,
    );
    if (direct.errors > 0 || viaGateway.errors > 0)
      console.log('note: some requests failed (see errors column)');
  } finally {
    if (gatewayChild && gatewayChild.exitCode === null) {
      const exited = new Promise((r) => gatewayChild!.once('exit', r));
      gatewayChild.send('stop');
      await exited;
    }
    await audit?.stop();
    await auth?.stop();
    await nats.dispose();
    await db.drop();
    rmSync(keyDir, { recursive: true, force: true });
  }
}

const roleAt = process.argv.indexOf('--role');
if (roleAt >= 0) {
  const role = process.argv[roleAt + 1];
  const payload = process.argv[roleAt + 2];
  const done =
    role === 'load'
      ? runLoad(JSON.parse(payload) as LoadJob).then(
          (r) => new Promise<void>((ok) => process.send!(r, () => ok())),
        )
      : runGatewayChild(payload);
  done.then(
    () => {
      if (role === 'load') process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
