/**
 * The services under test: a fresh test database (local Postgres), a test-owned
 * nats-server, auth and analysis in this process (analysis with one worker, to complete the
 * seeded analyses), and the gateway in a child process. Every start registers its undo, and
 * `stop()` runs them newest first, each bounded, so a failure or the hard timeout still drops
 * the database, disposes of nats and kills the children.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { RunningService } from '@charge/service-kit';
import { createTestDatabase, migrateSchemas, startTestService, TestNatsServer } from '@charge/testing';
import * as analysisApp from '../../services/analysis/src/app';
import * as analysisConfig from '../../services/analysis/src/config';
import * as analysisSchema from '../../services/analysis/src/persistence/schema';
import * as authApp from '../../services/auth/src/app';
import * as authConfig from '../../services/auth/src/config';
import * as authSchema from '../../services/auth/src/persistence/schema';
import { exited, firstMessage, forkChild } from './child';
import type { GatewayUpstreams } from './gateway';

export const ADMIN = {
  email: process.env.ADMIN_EMAIL ?? 'root@example.com',
  password: process.env.ADMIN_PASSWORD ?? 'root-password-123',
};

export interface Stack {
  auth: RunningService;
  analysis: RunningService;
  /** The gateway's base URL, e.g. http://127.0.0.1:41234. */
  gatewayUrl: string;
  stop(): Promise<void>;
}

const STEP_TIMEOUT_MS = 15_000;

function bounded(name: string, step: () => Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    step().then(() => undefined),
    new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name}: no answer in ${STEP_TIMEOUT_MS} ms`)),
        STEP_TIMEOUT_MS,
      );
    }),
  ])
    .catch((error: unknown) => console.error(`bench:gateway: stopping ${name} failed:`, error))
    .finally(() => clearTimeout(timer));
}

/** Undo steps, newest first; `run` is idempotent (a second call waits for the first). */
export class Cleanup {
  private readonly steps: { name: string; step: () => Promise<unknown> }[] = [];
  private running?: Promise<void>;

  add(name: string, step: () => Promise<unknown>): void {
    this.steps.push({ name, step });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, step } of this.steps.reverse()) await bounded(name, step);
    })();
    return this.running;
  }
}

async function stopGateway(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) child.send('stop', (err) => err && child.kill('SIGKILL'));
  else child.kill('SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

export async function startStack(cleanup: Cleanup): Promise<Stack> {
  const db = await createTestDatabase('benchgw');
  cleanup.add('database', () => db.drop());
  const nats = await TestNatsServer.start();
  cleanup.add('nats', () => nats.dispose());
  const scratch = mkdtempSync(path.join(tmpdir(), 'bench-gw-'));
  cleanup.add('scratch dir', async () => rmSync(scratch, { recursive: true, force: true }));

  await migrateSchemas(db.url, authSchema, analysisSchema);
  const auth = await startTestService(
    { name: 'auth', loadConfig: authConfig.loadConfig, build: authApp.build },
    {
      env: {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        AUTH_SIGNING_KEY_FILE: path.join(scratch, 'signing.pem'),
        AUTH_DEV_GENERATE_KEY: '1',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
      },
    },
  );
  cleanup.add('auth', () => auth.stop());
  const analysis = await startTestService(
    { name: 'analysis', loadConfig: analysisConfig.loadConfig, build: analysisApp.build },
    {
      env: {
        DATABASE_URL: db.url,
        NATS_URL: nats.url,
        AUTH_GRPC_ADDR: auth.address,
        ANALYSIS_BLOB_DIR: path.join(scratch, 'blobs'),
        ANALYSIS_WORKERS: '1',
      },
    },
  );
  cleanup.add('analysis', () => analysis.stop());

  const upstreams: GatewayUpstreams = { auth: auth.address, analysis: analysis.address };
  const gateway = forkChild(path.join(__dirname, 'gateway.ts'), upstreams);
  cleanup.add('gateway', () => stopGateway(gateway));
  const { url } = await firstMessage<{ url: string }>(gateway);
  return { auth, analysis, gatewayUrl: url, stop: () => cleanup.run() };
}
