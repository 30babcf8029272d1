import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { healthV1 } from '@charge/contracts';
import { createTestDatabase, freePort, TestNatsServer, type TestDatabase } from '@charge/testing';

const ROOT = path.resolve(__dirname, '..', '..');

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  grpcPort: number;
  output: () => string;
}

/**
 * Services started as separate processes from their `src/main.ts` (as scripts/platform.ts
 * does), on free ports, against a fresh database and a test-owned NATS, with the gateway in
 * front: tests reach the platform through `gatewayUrl` only.
 */
export class E2ePlatform {
  readonly processes: ServiceProcess[] = [];
  gatewayUrl = '';
  /** gRPC port per service (for setup steps the REST contract does not offer). */
  grpcPorts: Record<string, number> = {};
  private db?: TestDatabase;
  private nats?: TestNatsServer;
  private keyDir = mkdtempSync(path.join(tmpdir(), 'ct-e2e-'));
  readonly admin = { email: 'admin@e2e.example', password: 'e2e-admin-password-1' };

  /** Scratch directory of this run (blob stores, keys), removed by stop(). */
  get scratch(): string {
    return this.keyDir;
  }

  async start(services: string[], extraEnv: Record<string, string> = {}): Promise<void> {
    this.db = await createTestDatabase('e2e');
    this.nats = await TestNatsServer.start();
    const migrated = spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'migrate.ts'), ...services],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: this.db.url }, encoding: 'utf8' },
    );
    if (migrated.status !== 0) throw new Error(`migrate failed: ${migrated.stderr}${migrated.stdout}`);
    const knowledgeEnv: NodeJS.ProcessEnv = {};
    if (services.includes('knowledge')) {
      // ChromaDB the README's way: scripts/ensure-chroma.sh starts it unless it already runs.
      const chroma = spawnSync('bash', [path.join(ROOT, 'scripts', 'ensure-chroma.sh')], {
        cwd: ROOT,
        env: process.env,
        encoding: 'utf8',
      });
      if (chroma.status !== 0) throw new Error(`ensure-chroma failed: ${chroma.stderr}${chroma.stdout}`);
      knowledgeEnv.CHROMA_URL = `http://${process.env.CHROMA_HOST ?? '127.0.0.1'}:${process.env.CHROMA_PORT ?? '8000'}`;
      knowledgeEnv.KNOWLEDGE_DATA_DIR = path.join(this.keyDir, 'knowledge');
      knowledgeEnv.KNOWLEDGE_HTTP_PORT = String(await freePort());
    }
    const ports = new Map<string, number>();
    for (const name of [...services, 'gateway']) ports.set(name, await freePort());
    const httpPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: this.db.url,
      NATS_URL: this.nats.url,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      SHUTDOWN_DELAY_MS: '0',
      GRPC_HOST: '127.0.0.1',
      AUTH_SIGNING_KEY_FILE: path.join(this.keyDir, 'signing.pem'),
      AUTH_DEV_GENERATE_KEY: '1',
      ADMIN_EMAIL: this.admin.email,
      ADMIN_PASSWORD: this.admin.password,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      MAX_BODY_BYTES: String(64 * 1024),
      ...knowledgeEnv,
      ...extraEnv,
    };
    for (const [name, port] of ports) env[`${name.toUpperCase()}_GRPC_ADDR`] = `127.0.0.1:${port}`;
    for (const name of [...services, 'gateway']) {
      let log = '';
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'services', name, 'src', 'main.ts')],
        {
          cwd: ROOT,
          env: { ...env, GRPC_PORT: String(ports.get(name)), OTEL_SERVICE_NAME: name },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      for (const s of [child.stdout!, child.stderr!])
        s.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
      this.processes.push({ name, child, grpcPort: ports.get(name)!, output: () => log });
    }
    await Promise.all(this.processes.map((p) => waitServing(p)));
    this.grpcPorts = Object.fromEntries(ports);
    this.gatewayUrl = `http://127.0.0.1:${httpPort}`;
  }

  /** SIGTERM to every process; resolves to their exit codes (graceful shutdown exits 0). */
  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    await Promise.all(
      this.processes.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.child.exitCode !== null) {
              codes[p.name] = p.child.exitCode;
              return resolve();
            }
            const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
            p.child.once('exit', (code) => {
              clearTimeout(timer);
              codes[p.name] = code;
              resolve();
            });
            p.child.kill('SIGTERM');
          }),
      ),
    );
    await this.nats?.dispose();
    await this.db?.drop();
    rmSync(this.keyDir, { recursive: true, force: true });
    return codes;
  }
}

async function waitServing(p: ServiceProcess): Promise<void> {
  const client = new healthV1.HealthClient(`127.0.0.1:${p.grpcPort}`, credentials.createInsecure());
  const deadline = Date.now() + 100_000;
  try {
    for (;;) {
      if (p.child.exitCode !== null)
        throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${p.output()}`);
      const serving = await new Promise<boolean>((resolve) =>
        client.check({ service: '' }, (err, res) =>
          resolve(!err && res.status === healthV1.HealthCheckResponse_ServingStatus.SERVING),
        ),
      );
      if (serving) return;
      if (Date.now() > deadline) throw new Error(`${p.name} not SERVING within 100 s:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    client.close();
  }
}
